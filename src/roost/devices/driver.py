"""Driver types: the registry that builds drivers from JSON specs.

The protocol itself (`Reading`, `SyncDriver`, `AsyncDriver`, `Pushing`...) is
pure and lives in `roost.core.driver`, so that other feature folders (the MQTT
adapters) can implement it; it is re-exported here for the devices' code.

Drivers are built from a JSON spec (`{"type": "simulated", ...}`) for devices
added in the page or imported from a file; `build_driver` knows the built-in
types, and `register_driver` adds more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from roost.core.driver import (
    AsyncDriver,
    Clocked,
    Described,
    Driver,
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
    "Described",
    "Driver",
    "DriverFactory",
    "Push",
    "Pushing",
    "Reading",
    "SyncDriver",
    "build_driver",
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
_FACTORIES: dict[str, DriverFactory] = {}


def register_driver(kind: str, factory: DriverFactory) -> None:
    """Let specs of `{"type": kind}` build drivers with `factory(spec)`."""
    _FACTORIES[kind] = factory


def build_driver(spec: Any) -> Driver:
    """Return a driver for a JSON spec; unknown or unavailable types give an offline `Absent`."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
        raise InvalidValue('a driver is a JSON object with a "type", such as {"type": "simulated"}')
    kind = spec["type"]
    factory = _FACTORIES.get(kind)
    if factory is None:
        return Absent(spec, f"no {kind} driver on this node")
    return factory(spec)
