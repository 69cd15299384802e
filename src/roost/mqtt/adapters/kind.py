"""What every plug kind (Tasmota, Shelly, zigbee2mqtt) tells the adapters: its topics and payloads.

A kind is pure: it names the topics a plug of it uses, turns a message into a
`Reading`, and builds the switch command. The plugs and the found list
(plugs.py) do the MQTT around it. Every parser takes whatever a broker may
carry (non-JSON, wrong types, huge payloads) and returns None for what it
does not understand; it never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from roost.core import codec
from roost.core.driver import DriverField, Reading
from roost.core.errors import InvalidValue, RoostError

__all__ = ["Command", "Found", "Kind", "as_number", "check_level", "json_object"]

# A device message bigger than this is not a plug's report: ignored unread.
MAX_REPORT_BYTES = 64 * 1024
# Topic names a spec may use: no wildcards, no control characters, no empty levels.
_NAME = re.compile(r"^[^+#\x00-\x1f\x7f]{1,200}$")


@dataclass(frozen=True, slots=True)
class Command:
    """One message to publish: never retained (a retained command runs again on every reconnect)."""

    topic: str
    payload: bytes
    qos: int = 1


@dataclass(frozen=True, slots=True)
class Found:
    """A plug seen on the broker (what the kind could tell from one message)."""

    type: str
    key: str
    name: str
    model: str = ""
    online: bool | None = None
    on: bool | None = None
    power_w: float | None = None


class Kind(Protocol):
    """A plug kind: pure topic and payload rules."""

    type: str
    doc: str
    fields: tuple[DriverField, ...]  # what the page's "add device" form asks for
    # Whether a report of the relay or readings also proves the plug is online (false for
    # zigbee2mqtt, whose bridge speaks for its devices and says so on availability).
    reports_prove_online: bool

    def filters(self) -> tuple[str, ...]:
        """Return the wildcard filters that catch every plug of this kind with a one-level name."""
        ...

    def key_of(self, topic: str) -> str | None:
        """Return the key of the plug `topic` belongs to, or None."""
        ...

    def topics(self, key: str) -> tuple[str, ...]:
        """Return the exact topics one plug reports on."""
        ...

    def parse(self, key: str, topic: str, payload: bytes) -> Reading | None:
        """Return what a message says about plug `key`, or None."""
        ...

    def command(self, key: str, on: bool) -> Command:
        """Return the message that switches plug `key`."""
        ...

    def query(self, key: str) -> Command | None:
        """Return a message that makes the plug report its relay, if the kind has one."""
        ...

    def key_from_spec(self, spec: Mapping[str, Any]) -> str:
        """Return the key a driver spec names; raise InvalidValue."""
        ...

    def spec(self, key: str) -> dict[str, Any]:
        """Return the driver spec of plug `key`."""
        ...

    def found(self, key: str | None, topic: str, payload: bytes) -> list[Found]:
        """Return the plugs a message shows (a plug's own report, or a bridge's device list)."""
        ...


def check_level(spec: Mapping[str, Any], field: str, kind: str, default: str | None = None) -> str:
    """Return `spec[field]` as a topic name, or raise InvalidValue saying what a good one is."""
    value = spec.get(field, default)
    if not isinstance(value, str) or not _NAME.match(value) or "//" in value:
        raise InvalidValue(
            f'a {kind} driver needs "{field}": a topic name without "+", "#" or empty levels',
            field=field,
        )
    if value.startswith("/") or value.endswith("/") or value.startswith("$"):
        raise InvalidValue(f'a {kind} driver\'s "{field}" may not start or end with "/" or start with "$"')
    return value


def json_object(payload: bytes) -> dict[str, Any] | None:
    """Return `payload` as a JSON object, or None for anything else."""
    if len(payload) > MAX_REPORT_BYTES:
        return None
    try:
        value = codec.loads(payload)
    except RoostError:
        return None
    return value if isinstance(value, dict) else None


def as_number(value: Any) -> float | None:
    """Return a finite number, or None (booleans, strings, NaN are not readings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_word(payload: bytes, limit: int = 32) -> str | None:
    """Return a short text payload, stripped and upper-cased, or None."""
    if len(payload) > limit:
        return None
    try:
        return payload.decode().strip().upper()
    except UnicodeDecodeError:
        return None
