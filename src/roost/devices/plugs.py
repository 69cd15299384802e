"""Power plugs: a switch with a power reading, and an always-on lock.

Each plug lives under `plugs/<name>/` as `on` (the confirmed relay state, read back
from the driver, never just what was asked), `power_w`, and `always_on`. One
command, `switch_plug(name, on)`, switches any of them; an always-on plug refuses
to be switched off, which is how a fridge survives a careless tap on a phone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from roost.core.errors import CommandError
from roost.runtime.hub import Hub
from roost.runtime.workers import Every

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlugReading:
    """What a plug reports: relay state and instantaneous power draw."""

    on: bool
    power_w: float


class PlugDriver(Protocol):
    """How roost talks to one physical (or simulated) plug. Called from worker threads."""

    def switch(self, on: bool) -> None:
        """Set the relay."""
        ...

    def read(self) -> PlugReading:
        """Return the relay state and power now."""
        ...


@dataclass(slots=True)
class _Plug:
    name: str
    driver: PlugDriver
    label: str
    always_on: bool


class Plugs:
    """A set of named plugs published under `prefix/`, with the `switch_plug` command."""

    def __init__(self, hub: Hub, prefix: str = "plugs", poll_s: float = 10.0) -> None:
        self.hub = hub
        self.prefix = prefix
        self._plugs: dict[str, _Plug] = {}
        self._lock = threading.Lock()  # one driver call at a time per set: serial buses hate overlap
        hub.commands.add(self.switch_plug, "switch_plug")
        hub.scheduler.add(self.poll, Every(poll_s), name=f"{prefix}_poll")

    def add(self, name: str, driver: PlugDriver, label: str | None = None, always_on: bool = False) -> None:
        """Add a plug and declare its metadata."""
        base = f"{self.prefix}/{name}"
        self._plugs[name] = _Plug(name, driver, label or name.replace("_", " ").title(), always_on)
        self.hub.set_meta(
            f"{base}/on",
            kind="switch",
            label=self._plugs[name].label,
            command="switch_plug",
            command_args={"name": name},
            power=f"{base}/power_w",
            lock=f"{base}/always_on",
        )
        self.hub.set_meta(f"{base}/power_w", kind="power", unit="W", label=f"{self._plugs[name].label} power")
        self.hub.set_meta(f"{base}/always_on", kind="flag", label="Always on", record=False)
        self.hub.state[f"{base}/always_on"] = always_on

    def switch_plug(self, name: str, on: bool) -> bool:
        """Switch a plug on or off; returns the state the plug confirms."""
        plug = self._plugs.get(name)
        if plug is None:
            raise CommandError(f"no plug named {name!r}; plugs: {', '.join(sorted(self._plugs))}")
        if plug.always_on and not on:
            raise CommandError(f"{plug.label} is always on and cannot be switched off")
        with self._lock:
            plug.driver.switch(on)
            reading = plug.driver.read()
            self._publish(plug, reading)
        return reading.on

    def poll(self) -> None:
        """Read every plug and publish its state; a failing plug does not hide the others."""
        for plug in list(self._plugs.values()):
            # Published under the lock too: a switch_plug between reading and publishing
            # would otherwise be overwritten by this older reading until the next poll.
            with self._lock:
                try:
                    if plug.always_on:
                        plug.driver.switch(True)
                    reading = plug.driver.read()
                except Exception:
                    log.exception("reading plug %s failed", plug.name)
                    continue
                self._publish(plug, reading)

    def _publish(self, plug: _Plug, reading: PlugReading) -> None:
        self.hub.state.update(
            f"{self.prefix}/{plug.name}", {"on": reading.on, "power_w": round(reading.power_w, 1)}
        )
