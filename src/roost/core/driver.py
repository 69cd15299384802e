"""The driver protocol: how roost switches a device and hears what it reports.

A driver switches the relay and returns the state the device *confirms* (read
back, never just what was asked), and reports readings (relay, power, energy
counter, online). Blocking drivers (serial ports, HTTP to a plug) implement
`SyncDriver` and are called from worker threads; asyncio drivers implement
`AsyncDriver` and run on the loop. A driver that hears readings by itself (an
MQTT subscription) may also implement `Pushing`: roost hands it a thread-safe
`push(reading)` before it starts.

These are pure shapes, here in core so that any feature folder (the MQTT
adapters, the devices) can implement or use them; the registry of driver types
lives in `roost.devices.driver`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "AsyncDriver",
    "Clocked",
    "Closing",
    "Described",
    "Driver",
    "DriverField",
    "Push",
    "Pushing",
    "Reading",
    "SyncDriver",
    "is_async",
    "spec_of",
]


@dataclass(frozen=True, slots=True)
class Reading:
    """What a device reports; a field left None was not part of this report."""

    on: bool | None = None
    power_w: float | None = None
    energy_kwh: float | None = None  # a total counter; it may start over (a plug that lost power)
    online: bool | None = None


Push = Callable[[Reading], None]


@runtime_checkable
class SyncDriver(Protocol):
    """A blocking driver, called from worker threads."""

    def switch(self, on: bool) -> bool:
        """Set the relay; return the state the device confirms."""
        ...

    def read(self) -> Reading:
        """Return what the device reports now."""
        ...


class AsyncDriver(Protocol):
    """An asyncio driver, called on the loop."""

    async def switch(self, on: bool) -> bool:
        """Set the relay; return the state the device confirms. Loop only."""
        ...

    async def read(self) -> Reading:
        """Return what the device reports now. Loop only."""
        ...


Driver = SyncDriver | AsyncDriver


@runtime_checkable
class Pushing(Protocol):
    """A driver that reports readings as they come: `push` may be called from any thread."""

    def attach(self, push: Push) -> None:
        """Remember `push` and call it with each reading from now on."""
        ...


@runtime_checkable
class Closing(Protocol):
    """A driver that holds something to let go of (a subscription) when its device is removed."""

    def close(self) -> None:
        """Let go of it; called on the loop, so quick and non-blocking."""
        ...


@runtime_checkable
class Described(Protocol):
    """A driver that can say how to build it again (for export and the settings file)."""

    def spec(self) -> dict[str, Any]:
        """Return the JSON spec `build_driver` takes, with its `type`."""
        ...


@runtime_checkable
class Clocked(Protocol):
    """A driver that keeps time (a simulation): roost hands it the hub's clock."""

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Read wall time from `clock` from now on."""
        ...


def is_async(driver: Driver) -> bool:
    """Return whether `driver` runs on the loop."""
    return inspect.iscoroutinefunction(driver.switch)


def spec_of(driver: Driver) -> dict[str, Any]:
    """Return the driver's spec, or `{"type": "program"}` for one only a program can build."""
    return driver.spec() if isinstance(driver, Described) else {"type": "program"}


@dataclass(frozen=True, slots=True)
class DriverField:
    """One field of a driver type's JSON spec, as the page's "add device" form offers it."""

    name: str
    kind: Literal["number", "string", "boolean"]
    doc: str = ""
    required: bool = False
    default: Any = None

    def to_json(self) -> dict[str, Any]:
        """Return the field as JSON."""
        return {
            "name": self.name,
            "type": self.kind,
            "doc": self.doc,
            "required": self.required,
            "default": self.default,
        }
