"""Energy from a total counter: how much it rose, counting a reset (a counter that starts over) right."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence


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


def bucket_increases(
    buckets: Sequence[tuple[float, float, float]], label: Callable[[float], str]
) -> dict[str, float]:
    """Return a counter's rise per label (a local day, a month) from `(start, min, max)` buckets in order.

    A counter that only rises has its first value as a bucket's min and its last
    as its max; the rise between two buckets counts in the later one. A min below
    where the counter stood at the end of the bucket before is a reset: as in
    `counter_increase`, what it shows after it counts as a rise from 0, and what
    it gained before it (up to the max) counts too. Never negative, never the old
    total again.
    """
    out: dict[str, float] = {}
    last: float | None = None
    for i, (start, low, high) in enumerate(buckets):
        if last is None or low >= last:
            rise = high - (low if last is None else last)
            end = high
        elif high < last:
            rise = end = high  # all of it after the reset: a rise from 0
        else:
            # The max is from before the reset. Where the counter stood at the bucket's end:
            # the next bucket's first value, unless that one was reset too.
            after = buckets[i + 1][1] if i + 1 < len(buckets) else low
            end = after if low <= after <= high else low
            rise = high - last + end
        key = label(start)
        out[key] = out.get(key, 0.0) + rise
        last = end
    return out
