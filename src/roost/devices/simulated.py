"""A simulated plug with a believable load, for the demo, tests and benchmarks.

A relay feeds an appliance. With the relay off the plug draws nothing. With it
on, the appliance runs (`on_w`, or a duty cycle between `on_w` and `idle_w`,
as a fridge does) or sits in standby (`standby_w`): after `active_s` seconds
of running it drops to standby by itself, as a TV left on does, and
`press(active)` is its remote control. The energy counter integrates the
draw. `respond=False` makes the plug stop answering (a switch then times out),
`confirm_delay_s` makes it answer slowly.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from roost.core.errors import InvalidValue
from roost.devices.driver import DriverField, Reading, register_driver

_NUMBERS = ("on_w", "standby_w", "idle_w", "cycle_s", "duty", "active_s", "confirm_delay_s")


class SimulatedPlug:
    """A simulated relay and appliance; a `SyncDriver` (thread-safe)."""

    def __init__(
        self,
        on_w: float,
        standby_w: float = 0.0,
        *,
        idle_w: float | None = None,
        cycle_s: float = 0.0,
        duty: float = 1.0,
        active_s: float | None = None,
        on: bool = False,
        confirm_delay_s: float = 0.0,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        noise: bool = True,
    ) -> None:
        self.on_w = on_w
        self.standby_w = standby_w
        self.idle_w = on_w if idle_w is None else idle_w
        self.cycle_s = cycle_s
        self.duty = duty
        self.active_s = active_s
        self.confirm_delay_s = confirm_delay_s
        self._answering = threading.Event()
        self._answering.set()
        self.noise = noise
        self._clock = clock or time.time
        self._rng = random.Random(seed) if noise else None
        self._lock = threading.Lock()
        self._relay = on
        now = self._clock()
        self._active_since: float | None = now if on else None
        self._energy_kwh = 0.0
        self._last_t = now
        self._last_w = self._draw(now)

    # -- the driver protocol --------------------------------------------------------

    def switch(self, on: bool) -> bool:
        """Set the relay and return the state read back (after `confirm_delay_s`)."""
        if self.confirm_delay_s:
            time.sleep(self.confirm_delay_s)
        if not self.respond:
            # A plug out of radio range: the request goes nowhere and nothing comes back.
            self._answering.wait(60)
            raise TimeoutError("the plug did not answer")
        with self._lock:
            self._integrate()
            if on and not self._relay:
                self._active_since = self._clock()  # power comes back: the appliance starts
            self._relay = on
            self._last_w = self._draw(self._clock())
            return self._relay

    def read(self) -> Reading:
        """Return relay, draw (with a little ripple) and the energy counter."""
        with self._lock:
            self._integrate()
            return Reading(self._relay, round(self._last_w, 2), round(self._energy_kwh, 6), self.respond)

    def spec(self) -> dict[str, Any]:
        """Return the spec that builds this plug again."""
        spec: dict[str, Any] = {"type": "simulated"}
        for name in _NUMBERS:
            value = getattr(self, name)
            if value is not None:
                spec[name] = value
        return spec

    # -- the simulation -------------------------------------------------------------

    def press(self, active: bool) -> None:
        """The appliance's own button or remote: wake it (`True`) or send it to standby."""
        with self._lock:
            self._integrate()
            self._active_since = self._clock() if active else None
            self._last_w = self._draw(self._clock())

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Run on `clock` (the hub's, so that a fake clock drives the simulation too)."""
        with self._lock:
            self._clock = clock
            self._last_t = clock()
            if self._active_since is not None:
                self._active_since = self._last_t
            self._last_w = self._draw(self._last_t)

    @property
    def respond(self) -> bool:
        """Whether the plug answers; False makes it a plug out of radio range."""
        return self._answering.is_set()

    @respond.setter
    def respond(self, value: bool) -> None:
        if value:
            self._answering.set()
        else:
            self._answering.clear()

    @property
    def relay(self) -> bool:
        """The relay as it is now (what a test looks at behind roost's back)."""
        with self._lock:
            return self._relay

    def _integrate(self) -> None:
        now = self._clock()
        if now > self._last_t:
            self._energy_kwh += self._last_w * (now - self._last_t) / 3_600_000
        self._last_t = now
        self._last_w = self._draw(now)

    def _draw(self, now: float) -> float:
        if not self._relay:
            return 0.0
        active = self._active_since is not None and (
            self.active_s is None or now - self._active_since < self.active_s
        )
        if not active:
            load = self.standby_w
        elif self.cycle_s > 0:
            phase = (now % self.cycle_s) / self.cycle_s
            load = self.on_w if phase < self.duty else self.idle_w
        else:
            load = self.on_w
        if self._rng is None or load == 0:
            return load
        # A little ripple, as real metering plugs show.
        ripple = 1 + 0.02 * math.sin(now / 7.0) + self._rng.uniform(-0.01, 0.01)
        return max(load * ripple, 0.0)


def _from_spec(spec: Mapping[str, Any]) -> SimulatedPlug:
    unknown = set(spec) - {"type", "on", *_NUMBERS}
    if unknown:
        raise InvalidValue(f"a simulated plug takes {', '.join(_NUMBERS)}, not {', '.join(sorted(unknown))}")
    numbers: dict[str, float] = {}
    for name in _NUMBERS:
        value = spec.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e7:
            raise InvalidValue(f"simulated plug: {name} must be a number of 0 or more")
        numbers[name] = float(value)
    return SimulatedPlug(
        numbers.pop("on_w", 60.0),
        on=bool(spec.get("on", False)),
        **numbers,  # type: ignore[arg-type]
    )


register_driver(
    "simulated",
    _from_spec,
    doc="a simulated relay and appliance (no hardware)",
    fields=(
        DriverField("on_w", "number", "watts while it runs", default=60.0),
        DriverField("standby_w", "number", "watts in standby", default=0.0),
        DriverField("active_s", "number", "seconds it runs before it drops to standby (empty: never)"),
        DriverField("idle_w", "number", "watts between the runs of a duty cycle (a fridge)"),
        DriverField("cycle_s", "number", "seconds of one duty cycle (0: none)", default=0.0),
        DriverField("duty", "number", "share of a cycle it runs, 0 to 1", default=1.0),
        DriverField("confirm_delay_s", "number", "seconds it takes to confirm a switch", default=0.0),
        DriverField("on", "boolean", "relay on when the node starts", default=False),
    ),
)
