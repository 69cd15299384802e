"""What a device is: its settings, a manual override, and the record of why it switched."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from roost.core.errors import InvalidArguments, InvalidValue
from roost.core.weekplan import NAME_RE

CATEGORIES = ("light", "media", "kitchen", "heating", "solar", "other")
ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RESERVED_IDS = frozenset({"drivers"})  # /api/devices/drivers lists the driver types
MAX_HOLD_S = 7 * 86400

Cause = Literal["schedule", "standby_killer", "override_expired", "always_on", "caller", "restart"]


def check_id(device_id: Any) -> str:
    """Return `device_id` if it is a slug (`a-z 0-9 _ -`, up to 64, starting with a letter or digit)."""
    if not isinstance(device_id, str) or not ID_RE.fullmatch(device_id):
        raise InvalidValue(
            f"a device id is a slug of a-z, 0-9, _ and - (up to 64), not {device_id!r}", id=device_id
        )
    if device_id in RESERVED_IDS:
        raise InvalidValue(f"{device_id!r} is reserved; choose another id", id=device_id)
    return device_id


def slugify(text: str) -> str:
    """Return a device id made from a name (`Desk lamp` -> `desk-lamp`)."""
    slug = re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-_")
    return (slug or "device")[:64]


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """The settings of a device that a person may edit (all but `id`)."""

    id: str
    name: str = ""
    location: str = ""
    category: str = "other"
    always_on: bool = False
    production: bool = False  # the power reading is generation (a solar inverter's meter)
    record: bool = True  # history of its values
    schedule: str = ""  # "" for none
    schedule_enabled: bool = False
    standby_hold_s: float = 120.0  # the draw must stay below the threshold this long
    start_grace_s: float = 900.0  # never cut within this long after it came on
    confirm_timeout_s: float = 5.0  # a switch not confirmed by then has failed

    def to_json(self) -> dict[str, Any]:
        """Return the settings as JSON."""
        return asdict(self)

    @property
    def label(self) -> str:
        """The name, or the id when it has none."""
        return self.name or self.id


EDITABLE = tuple(f.name for f in fields(DeviceSettings) if f.name != "id")
_TEXTS = {"name": 80, "location": 80}
_FLAGS = ("always_on", "production", "record", "schedule_enabled")
_SECONDS = {
    "standby_hold_s": (0.0, 86400.0),
    "start_grace_s": (0.0, 86400.0),
    "confirm_timeout_s": (0.1, 120.0),
}


def apply_settings(settings: DeviceSettings, patch: Mapping[str, Any]) -> DeviceSettings:
    """Return `settings` with `patch` applied; raise InvalidArguments naming the first bad field."""
    if not isinstance(patch, Mapping):
        raise InvalidArguments("settings are a JSON object of fields to change")
    changes: dict[str, Any] = {}
    for key, value in patch.items():
        if key not in EDITABLE:
            raise InvalidArguments(f"{key!r} is not a setting; settings: {', '.join(EDITABLE)}", key)
        changes[key] = _check(key, value)
    return replace(settings, **changes)


def _check(key: str, value: Any) -> Any:
    if key in _TEXTS:
        if not isinstance(value, str) or len(value) > _TEXTS[key] or any(ord(c) < 32 for c in value):
            raise InvalidArguments(f"{key} must be a single line of at most {_TEXTS[key]} characters", key)
        return value.strip()
    if key == "category":
        if value not in CATEGORIES:
            raise InvalidArguments(f"category must be one of {', '.join(CATEGORIES)}, not {value!r}", key)
        return value
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise InvalidArguments(f"{key} must be true or false, not {value!r}", key)
        return value
    if key == "schedule":
        if value is None or value == "":
            return ""
        if not isinstance(value, str) or not NAME_RE.fullmatch(value):
            raise InvalidArguments(f"schedule must be a schedule's name or empty, not {value!r}", key)
        return value
    low, high = _SECONDS[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high:
        raise InvalidArguments(f"{key} must be a number of seconds from {low:g} to {high:g}", key)
    return float(value)


def parse_hold(value: Any) -> float | Literal["next"]:
    """Return a switch's hold: `"next"` (until the schedule's next change) or seconds (1 s to 7 days)."""
    if value is None or value == "next":
        return "next"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 1 <= value <= MAX_HOLD_S:
        raise InvalidArguments(
            f'hold must be "next" (until the schedule\'s next change) or seconds from 1 to {MAX_HOLD_S}, '
            f"not {value!r}",
            "hold",
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class Override:
    """A manual switch that holds until `until` (epoch seconds; None: until the schedule takes over).

    `before` is the state to go back to when no schedule runs the device.
    """

    on: bool
    until: float | None
    since: float
    by: str
    before: bool | None = None
    skip: bool = False  # made by "skip the next switch", not by a switch

    def to_json(self) -> dict[str, Any]:
        """Return the override as JSON."""
        return {
            "on": self.on,
            "until": self.until,
            "since": self.since,
            "by": self.by,
            "before": self.before,
            "skip": self.skip,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Override:
        """Build from `to_json()`'s form."""
        until = obj.get("until")
        before = obj.get("before")
        return cls(
            bool(obj["on"]),
            None if until is None else float(until),
            float(obj["since"]),
            str(obj.get("by", "")),
            None if before is None else bool(before),
            bool(obj.get("skip", False)),
        )


@dataclass(frozen=True, slots=True)
class SwitchEvent:
    """One switch of a device and why: `cause`, with `detail` (the slot, the draw, the caller)."""

    ts: float
    device: str
    on: bool  # what was asked
    cause: Cause
    text: str  # a sentence for people: "schedule tv-evenings: Mon 18:00 on"
    detail: Mapping[str, Any]
    outcome: Literal["ok", "timeout", "error"] = "ok"
    confirmed: bool | None = None  # what the device confirmed

    def to_json(self) -> dict[str, Any]:
        """Return the event as JSON."""
        return {
            "ts": self.ts,
            "device": self.device,
            "on": self.on,
            "confirmed": self.confirmed,
            "cause": self.cause,
            "text": self.text,
            "detail": dict(self.detail),
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SwitchEvent:
        """Build from `to_json()`'s form."""
        return cls(
            float(obj["ts"]),
            str(obj["device"]),
            bool(obj["on"]),
            obj["cause"],
            str(obj.get("text", "")),
            dict(obj.get("detail") or {}),
            obj.get("outcome", "ok"),
            obj.get("confirmed"),
        )
