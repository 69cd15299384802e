"""Energy from a total counter: how much it rose, counting a reset (a counter that starts over) right."""

from __future__ import annotations

from collections.abc import Iterable


def counter_increase(values: Iterable[float]) -> float:
    """Return how much a counter rose over `values` (in order); a drop is a reset from 0."""
    total = 0.0
    last: float | None = None
    for value in values:
        if last is not None:
            # A counter that went down started over (the plug lost power): everything it
            # shows now was counted since the reset.
            total += value - last if value >= last else value
        last = value
    return total


class DailyEnergy:
    """Today's energy of one device, fed with counter readings; starts over at local midnight."""

    __slots__ = ("day", "last", "today_kwh")

    def __init__(self) -> None:
        self.day = ""
        self.today_kwh = 0.0
        self.last: float | None = None

    def seed(self, day: str, today_kwh: float, last: float | None) -> None:
        """Start from what history says of `day` (after a restart)."""
        self.day, self.today_kwh, self.last = day, today_kwh, last

    def add(self, counter_kwh: float, day: str) -> float:
        """Take a counter reading on local `day`; return today's energy."""
        if day != self.day:
            self.day, self.today_kwh = day, 0.0
        if self.last is not None:
            self.today_kwh += counter_kwh - self.last if counter_kwh >= self.last else counter_kwh
        self.last = counter_kwh
        return self.today_kwh
