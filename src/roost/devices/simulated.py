"""A simulated plug with a believable load, for the demo and for tests."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable

from roost.devices.plugs import PlugReading


class SimulatedPlug:
    """A relay and a load: `on_w` when on (with a duty cycle, as a fridge has), `standby_w` when off."""

    def __init__(
        self,
        on_w: float,
        standby_w: float = 0.0,
        *,
        idle_w: float | None = None,
        cycle_s: float = 0.0,
        duty: float = 1.0,
        on: bool = False,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
    ) -> None:
        import time

        self.on_w = on_w
        self.standby_w = standby_w
        self.idle_w = on_w if idle_w is None else idle_w
        self.cycle_s = cycle_s
        self.duty = duty
        self._on = on
        self._clock = clock or time.time
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def switch(self, on: bool) -> None:
        """Set the relay."""
        with self._lock:
            self._on = on

    def read(self) -> PlugReading:
        """Return the relay state and a power draw with a little noise."""
        with self._lock:
            on = self._on
        if not on:
            return PlugReading(False, max(self.standby_w * (1 + self._rng.uniform(-0.05, 0.05)), 0.0))
        load = self.on_w
        if self.cycle_s > 0:
            phase = (self._clock() % self.cycle_s) / self.cycle_s
            load = self.on_w if phase < self.duty else self.idle_w
        # A little ripple, as real metering plugs show.
        ripple = 1 + 0.02 * math.sin(self._clock() / 7.0) + self._rng.uniform(-0.01, 0.01)
        return PlugReading(True, max(load * ripple, 0.0))
