"""Alert rules: what one watches, when it fires and clears, and whom it tells.

A rule is one of five kinds:

- `threshold`: a number `above` (or `below`) a value for `for_s` seconds; once
  firing it clears only past the threshold minus (plus) `hysteresis`, for
  `clear_for_s` seconds, so a value hovering at the threshold fires once;
- `equals`: a value equal to `equals` (door open, device offline) for `for_s`;
- `stale`: no write to the path for `stale_s` seconds (a dead sensor);
- `health`: a worker, consumer or component failing (`workers/NAME`, `*`...);
- `program`: a Python check declared with `@app.alert(...)`.

Rules from the page are checked by `parse_rule`, which names the field at fault.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from roost.core.errors import InvalidArguments, InvalidPath
from roost.core.paths import split_path
from roost.rules.notice import SEVERITIES

Kind = Literal["threshold", "equals", "stale", "health", "program"]
KINDS: tuple[Kind, ...] = ("threshold", "equals", "stale", "health", "program")
Source = Literal["program", "page"]
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HEALTH_PATH = re.compile(r"^(\*|(workers|consumers|components)/[^/]+)$")
MAX_DURATION_S = 30 * 86400.0
MIN_REPEAT_S = 60.0
# What a program check returns: falsy (all well), True, or a text saying what is wrong.
Check = Callable[[], Any]

_FIELDS = {
    "name",
    "label",
    "kind",
    "path",
    "above",
    "below",
    "hysteresis",
    "equals",
    "stale_s",
    "for_s",
    "clear_for_s",
    "severity",
    "channels",
    "repeat_s",
    "escalate_after",
    "escalate_to",
    "enabled",
    # read-only fields a client may send back as GET gave them
    "source",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule (immutable: an edit makes a new one)."""

    name: str
    kind: Kind
    path: str = ""
    label: str = ""
    above: float | None = None
    below: float | None = None
    hysteresis: float = 0.0
    equals: str | float | bool | None = None
    stale_s: float | None = None
    for_s: float = 0.0
    clear_for_s: float = 0.0
    severity: str = "warning"
    channels: tuple[str, ...] = ("page",)
    repeat_s: float = 0.0
    escalate_after: int = 0
    escalate_to: tuple[str, ...] = ()
    enabled: bool = True
    source: Source = "page"
    check: Check | None = field(default=None, compare=False)
    every_s: float = 30.0  # how often a program check runs

    @property
    def title(self) -> str:
        """What messages and the banner call it."""
        return self.label or self.name

    def to_json(self) -> dict[str, Any]:
        """Return the rule as the API shows it."""
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.title,
            "kind": self.kind,
            "path": self.path,
            "above": self.above,
            "below": self.below,
            "hysteresis": self.hysteresis,
            "equals": self.equals,
            "stale_s": self.stale_s,
            "for_s": self.for_s,
            "clear_for_s": self.clear_for_s,
            "severity": self.severity,
            "channels": list(self.channels),
            "repeat_s": self.repeat_s,
            "escalate_after": self.escalate_after,
            "escalate_to": list(self.escalate_to),
            "enabled": self.enabled,
            "source": self.source,
        }
        if self.kind == "program":
            out["every_s"] = self.every_s
        return out

    def saved(self) -> dict[str, Any]:
        """Return what rules.json keeps of a page rule."""
        out = self.to_json()
        del out["source"]
        return out


def check_name(name: str) -> str:
    """Return `name` if it can name a rule, else raise InvalidArguments naming `name`."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidArguments("a rule's name is 1 to 64 letters, digits, '.', '_' or '-'", "name")
    return name


def _number(body: Mapping[str, Any], key: str, *, minimum: float | None = None) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArguments(f"{key} must be a number", key)
    if minimum is not None and value < minimum:
        raise InvalidArguments(f"{key} must be at least {minimum:g}", key)
    return float(value)


def _duration(body: Mapping[str, Any], key: str) -> float:
    value = _number(body, key, minimum=0) or 0.0
    if value > MAX_DURATION_S:
        raise InvalidArguments(f"{key} is at most 30 days ({MAX_DURATION_S:g} s)", key)
    return value


def _names(body: Mapping[str, Any], key: str, known: Sequence[str] | None) -> tuple[str, ...]:
    value = body.get(key, [])
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArguments(f"{key} must be a list of channel names", key)
    for name in value:
        if known is not None and name not in known:
            raise InvalidArguments(f"there is no channel named {name!r}; add it under Channels first", key)
    return tuple(dict.fromkeys(value))


def _text(body: Mapping[str, Any], key: str, default: str = "", limit: int = 200) -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidArguments(f"{key} must be text of at most {limit} characters", key)
    return value.strip()


def parse_rule(name: str, body: Mapping[str, Any], channels: Sequence[str] | None = None) -> Rule:
    """Check a rule as the page sends it; raise InvalidArguments naming the field at fault.

    `channels`, when given, are the channel names a rule may send to.
    """
    check_name(name)
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidArguments(f"unknown field {unknown[0]!r}", unknown[0])
    if body.get("name", name) != name:
        raise InvalidArguments("the name in the body differs from the one in the address", "name")
    kind = body.get("kind", "threshold")
    if kind not in KINDS or kind == "program":
        raise InvalidArguments("kind is one of threshold, equals, stale, health", "kind")
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise InvalidArguments("path names the value the rule watches", "path")
    if kind == "health":
        if not HEALTH_PATH.match(path):
            raise InvalidArguments(
                "a health rule watches workers/NAME, consumers/NAME, components/NAME or *", "path"
            )
    else:
        try:
            parts = split_path(path)
        except InvalidPath as exc:
            raise InvalidArguments(f"path: {exc}", "path") from None
        if "/".join(parts) != path:
            raise InvalidArguments(
                "a path such as heating/boiler/flow_temp, without a leading or trailing '/'", "path"
            )
        if path.startswith("alerts/"):
            raise InvalidArguments("a rule cannot watch the alerts themselves", "path")
    severity = body.get("severity", "warning")
    if severity not in SEVERITIES:
        raise InvalidArguments(f"severity is one of {', '.join(SEVERITIES)}", "severity")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidArguments("enabled must be true or false", "enabled")
    rule = Rule(
        name=name,
        kind=kind,
        path=path,
        label=_text(body, "label"),
        severity=severity,
        for_s=_duration(body, "for_s"),
        clear_for_s=_duration(body, "clear_for_s"),
        repeat_s=_duration(body, "repeat_s"),
        channels=_names(body, "channels", channels),
        escalate_to=_names(body, "escalate_to", channels),
        enabled=enabled,
    )
    esc = body.get("escalate_after", 0) or 0
    if isinstance(esc, bool) or not isinstance(esc, int) or esc < 0 or esc > 1000:
        raise InvalidArguments("escalate_after is a whole number of repeats, 0 to 1000", "escalate_after")
    rule = replace(rule, escalate_after=esc)
    if kind == "threshold":
        above, below = _number(body, "above"), _number(body, "below")
        if (above is None) == (below is None):
            raise InvalidArguments(
                "a threshold rule has one of above or below", "above" if above is not None else "threshold"
            )
        rule = replace(
            rule, above=above, below=below, hysteresis=_number(body, "hysteresis", minimum=0) or 0.0
        )
    elif kind == "equals":
        value = body.get("equals")
        if (
            value is None
            or isinstance(value, dict | list)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise InvalidArguments("equals is one number, text, true or false", "equals")
        rule = replace(rule, equals=value)
    elif kind == "stale":
        stale = _duration(body, "stale_s")
        if stale < 1:
            raise InvalidArguments("stale_s is how long without an update: at least 1 s", "stale_s")
        rule = replace(rule, stale_s=stale, for_s=0.0, clear_for_s=0.0)
    return validate(rule)


def validate(rule: Rule) -> Rule:
    """Check what every rule must hold, wherever it came from; return it."""
    if 0 < rule.repeat_s < MIN_REPEAT_S:
        raise InvalidArguments("repeat_s is 0 (send once) or at least 60 s", "repeat_s")
    if rule.escalate_after and not rule.escalate_to:
        raise InvalidArguments("escalate_to names where to escalate to", "escalate_to")
    if rule.escalate_to and not rule.escalate_after:
        raise InvalidArguments("escalate_after: after how many unacknowledged repeats?", "escalate_after")
    if rule.escalate_after and not rule.repeat_s:
        raise InvalidArguments("escalation counts repeats: set repeat_s", "repeat_s")
    if rule.severity not in SEVERITIES:
        raise InvalidArguments(f"severity is one of {', '.join(SEVERITIES)}", "severity")
    if rule.kind == "program" and not rule.every_s > 0:
        raise InvalidArguments("every_s must be positive", "every_s")
    return rule


def bad(rule: Rule, value: Any, firing: bool) -> bool | None:
    """Whether `value` is bad for a threshold or equals rule; None when it says nothing (absent, no number).

    A firing threshold rule stays bad until the value is past the threshold by
    the hysteresis: above 80 with hysteresis 3 fires above 80 and clears below 77.
    """
    if rule.kind == "equals":
        if value is None:
            return None
        # JSON's true is not 1: compare booleans only with booleans.
        return isinstance(value, bool) == isinstance(rule.equals, bool) and value == rule.equals
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    slack = rule.hysteresis if firing else 0.0
    if rule.above is not None:
        return value >= rule.above - slack if firing and slack else value > rule.above
    assert rule.below is not None
    return value <= rule.below + slack if firing and slack else value < rule.below
