"""The standby killer: cut a device whose draw stays below a threshold, O(1) per reading.

Armed by a schedule slot `W > 0` (on, killer at `W` watts). Each reading costs
a couple of comparisons; the device is cut once the draw has stayed below `W`
for `hold_s`, but never within `grace_s` of it coming on (a TV takes a while
to draw its full power; Plugwise-2-py users saw theirs cut a minute after
they switched it on).
"""

from __future__ import annotations


class StandbyKiller:
    """The killer of one device. Not thread-safe: the devices component calls it on the loop."""

    __slots__ = ("below_since", "grace_s", "hold_s", "on_since", "threshold_w")

    def __init__(self, hold_s: float = 120.0, grace_s: float = 900.0) -> None:
        self.hold_s = hold_s
        self.grace_s = grace_s
        self.threshold_w: float | None = None
        self.on_since: float | None = None
        self.below_since: float | None = None

    def arm(self, threshold_w: float | None) -> None:
        """Arm at `threshold_w` watts, or disarm with None."""
        if threshold_w != self.threshold_w:
            self.threshold_w = threshold_w
            self.below_since = None

    def came_on(self, ts: float) -> None:
        """The device came on at `ts`: the start grace begins."""
        self.on_since = ts
        self.below_since = None

    def went_off(self) -> None:
        """The device is off: nothing to watch."""
        self.on_since = None
        self.below_since = None

    def reading(self, power_w: float, ts: float) -> bool:
        """Take a reading at `ts`; return True when the device should be cut now."""
        threshold = self.threshold_w
        if threshold is None or self.on_since is None:
            return False
        if power_w >= threshold:
            self.below_since = None
            return False
        if self.below_since is None:
            self.below_since = ts
        return ts - self.below_since >= self.hold_s and ts - self.on_since >= self.grace_s

    def state(self) -> str:
        """Return `off` (not armed), `armed`, or `counting` (below the threshold, holding)."""
        if self.threshold_w is None:
            return "off"
        if self.on_since is not None and self.below_since is not None:
            return "counting"
        return "armed"
