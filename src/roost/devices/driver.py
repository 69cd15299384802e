"""Driver types: the registry that builds drivers from JSON specs.

The protocol itself (`Reading`, `SyncDriver`, `AsyncDriver`, `Pushing`...) is
pure and lives in `roost.core.driver`, so that other feature folders (the MQTT
adapters) can implement it; it is re-exported here for the devices' code.

Drivers are built from a JSON spec (`{"type": "simulated", ...}`) for devices
added in the page or imported from a file; `build_driver` knows the built-in
types, and `register_driver` adds more, with the fields its spec takes
(`DriverField`) so that the page's "add device" form can offer them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roost.core.driver import (
    AsyncDriver,
    Clocked,
    Closing,
    Described,
    Driver,
    DriverField,
    Push,
    Pushing,
    Reading,
    SyncDriver,
    is_async,
    spec_of,
)
from roost.core.errors import InvalidValue, Unavailable

__all__ = [
    "Absent",
    "AsyncDriver",
    "Clocked",
    "Closing",
    "Described",
    "Driver",
    "DriverFactory",
    "DriverField",
    "DriverType",
    "Push",
    "Pushing",
    "Reading",
    "SyncDriver",
    "build_driver",
    "check_spec",
    "driver_types",
    "is_async",
    "register_driver",
    "spec_of",
]


class Absent:
    """A device whose driver is not available here (a Plugwise circle before its driver exists).

    It is offline and refuses to switch; the spec is kept, so nothing is lost.
    """

    def __init__(self, spec: Mapping[str, Any], why: str) -> None:
        self._spec = dict(spec)
        self.why = why

    def switch(self, on: bool) -> bool:
        """Refuse: there is nobody to talk to."""
        raise Unavailable(self.why)

    def read(self) -> Reading:
        """Report offline."""
        return Reading(online=False)

    def spec(self) -> dict[str, Any]:
        """Return the spec it was built from."""
        return dict(self._spec)


DriverFactory = Callable[[Mapping[str, Any]], Driver]


@dataclass(frozen=True, slots=True)
class DriverType:
    """A driver type this node can build: its factory and the fields its spec takes."""

    kind: str
    factory: DriverFactory
    doc: str = ""
    fields: tuple[DriverField, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the type as `GET /api/devices/drivers` lists it."""
        return {"type": self.kind, "doc": self.doc, "fields": [f.to_json() for f in self.fields]}


_TYPES: dict[str, DriverType] = {}
_KINDS: dict[str, tuple[type, ...]] = {"number": (int, float), "string": (str,), "boolean": (bool,)}


def register_driver(
    kind: str, factory: DriverFactory, *, doc: str = "", fields: Sequence[DriverField] = ()
) -> None:
    """Let specs of `{"type": kind}` build drivers with `factory(spec)`; `fields` describe the spec."""
    _TYPES[kind] = DriverType(kind, factory, doc, tuple(fields))


def driver_types() -> list[DriverType]:
    """Return every driver type this node can build, by name."""
    return [_TYPES[k] for k in sorted(_TYPES)]


def build_driver(spec: Any) -> Driver:
    """Return a driver for a JSON spec; unknown or unavailable types give an offline `Absent`."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
        raise InvalidValue('a driver is a JSON object with a "type", such as {"type": "simulated"}')
    kind = spec["type"]
    found = _TYPES.get(kind)
    if found is None:
        return Absent(spec, f"no {kind} driver on this node")
    return found.factory(spec)


def check_spec(spec: Any) -> DriverType:
    """Return the type of a spec for a new device; raise InvalidValue for an unknown type or a bad field.

    Stricter than `build_driver`, which keeps a stored device whose driver is missing here:
    a device added now must have a driver that works now.
    """
    if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
        raise InvalidValue('a driver is a JSON object with a "type", such as {"type": "simulated"}')
    found = _TYPES.get(spec["type"])
    if found is None:
        known = ", ".join(sorted(_TYPES)) or "none"
        raise InvalidValue(f"no driver type {spec['type']!r} on this node; types: {known}")
    if not found.fields:
        return found  # the factory checks what it takes
    by_name = {f.name: f for f in found.fields}
    for key, value in spec.items():
        if key == "type":
            continue
        field = by_name.get(key)
        if field is None:
            raise InvalidValue(f"a {found.kind} driver takes {', '.join(by_name)}, not {key!r}", field=key)
        # bool is an int: a number field must refuse true.
        wrong = isinstance(value, bool) and field.kind != "boolean"
        if wrong or not isinstance(value, _KINDS[field.kind]):
            raise InvalidValue(f"{found.kind} driver: {key} must be a {field.kind}", field=key)
    for field in found.fields:
        if field.required and field.name not in spec:
            raise InvalidValue(f"a {found.kind} driver needs {field.name}", field=field.name)
    return found
