"""Rollup arithmetic: local-time buckets and the aggregates kept for each.

Pure: no I/O, no threads. Times are integer milliseconds since the epoch.

Buckets follow the wall clock of one timezone. An hour bucket starts when the
local clock shows a full hour and a day bucket at local midnight, so a day is
23 or 25 hours long across a DST change. Every day edge is also an edge of the
5-minute and hourly buckets, so those never spill from one day into the next;
where a zone's offset changes by something other than a whole number of
buckets (Lord Howe's 30-minute DST), the bucket holding the change is cut
there. Together the buckets of one width partition time: every instant lies in
exactly one of them, and `Calendar.bounds` names it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from operator import truediv

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_S = 86_400
# The rollup tiers, by nominal width in seconds (a day bucket may be 23 or 25 hours).
WIDTHS_S = (300, 3600, DAY_S)
RAW = 0  # the width of the raw tier: every sample as it came


@dataclass(slots=True)
class Bucket:
    """What a bucket keeps of its samples: enough to merge two buckets exactly.

    `first`/`last` are the values of the earliest and latest samples; samples
    with equal times count in arrival order, so `first` is the one that came
    first and `last` the one that came last.
    """

    start: int
    count: int
    min: float
    max: float
    sum: float
    first: float
    first_ts: int
    last: float
    last_ts: int

    @property
    def mean(self) -> float:
        """Return the arithmetic mean of the samples."""
        return self.sum / self.count

    @classmethod
    def of_samples(cls, start: int, first_ts: int, last_ts: int, values: Sequence[float]) -> Bucket:
        """Return the bucket of non-empty `values`, sorted by time (stable for equal times)."""
        return cls(
            start,
            len(values),
            min(values),
            max(values),
            sum(values),
            values[0],
            first_ts,
            values[-1],
            last_ts,
        )

    def add(self, ts: int, value: float) -> None:
        """Count one more sample (arriving after every sample already counted)."""
        self.count += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        self.sum += value
        if ts < self.first_ts:
            self.first, self.first_ts = value, ts
        if ts >= self.last_ts:
            self.last, self.last_ts = value, ts

    def merge(self, other: Bucket) -> None:
        """Fold in `other`, a bucket of the same span whose samples arrived after ours."""
        self.count += other.count
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.sum += other.sum
        if other.first_ts < self.first_ts:
            self.first, self.first_ts = other.first, other.first_ts
        if other.last_ts >= self.last_ts:
            self.last, self.last_ts = other.last, other.last_ts

    def copy(self) -> Bucket:
        """Return an independent copy."""
        return replace(self)


class Calendar:
    """The bucket edges of one timezone. Not thread-safe (it caches the last day): one per thread."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        # (start, end, offset) of the last day asked for; offset is None when it changes that day.
        self._day: tuple[int, int, int | None] = (0, 0, None)

    def day(self, ts: int) -> tuple[int, int]:
        """Return `[start, end)` of the local day holding `ts`."""
        start, end, _ = self._day_of(ts)
        return start, end

    def month(self, ts: int) -> tuple[int, int]:
        """Return `[start, end)` of the local month holding `ts`."""
        first = self._date(ts).replace(day=1)
        after = (
            first.replace(year=first.year + 1, month=1)
            if first.month == 12
            else first.replace(month=first.month + 1)
        )
        return self._midnight(first), self._midnight(after)

    def year(self, ts: int) -> tuple[int, int]:
        """Return `[start, end)` of the local year holding `ts`."""
        first = self._date(ts).replace(month=1, day=1)
        return self._midnight(first), self._midnight(first.replace(year=first.year + 1))

    def _date(self, ts: int) -> date:
        # The date of the day bucket, which can differ from the clock's date only
        # in the rare zones whose clock goes back across midnight.
        start, _, _ = self._day_of(ts)
        return datetime.fromtimestamp(start / 1000, self.tz).date()

    def bounds(self, ts: int, width_s: int) -> tuple[int, int]:
        """Return `[start, end)` of the bucket of `width_s` (300, 3600 or 86400) holding `ts`."""
        start, end, offset = self._day_of(ts)
        if width_s >= DAY_S:
            return start, end
        width = width_s * 1000
        off = offset if offset is not None else self._offset(ts)
        # Floor on the local clock, not on UTC: in India an hour bucket starts at :30 UTC.
        lo = ts - (ts + off) % width
        hi = lo + width
        lo, hi = max(lo, start), min(hi, end)
        if offset is None:
            if self._offset(lo) != off:
                lo = self._first_with_offset_of(lo, ts)
            if self._offset(hi - 1) != off:
                hi = self._first_with_offset_of(ts, hi - 1)
        return lo, hi

    def buckets(self, width_s: int, ts: Sequence[int], values: Sequence[float]) -> list[Bucket]:
        """Return the buckets of samples sorted by time, in order."""
        out: list[Bucket] = []
        i, n = 0, len(ts)
        while i < n:
            lo, hi = self.bounds(ts[i], width_s)
            j = bisect_left(ts, hi, i)
            out.append(Bucket.of_samples(lo, ts[i], ts[j - 1], values[i:j]))
            i = j
        return out

    def _day_of(self, ts: int) -> tuple[int, int, int | None]:
        cached = self._day
        if cached[0] <= ts < cached[1]:
            return cached
        d = datetime.fromtimestamp(ts / 1000, self.tz).date()
        start = self._midnight(d)
        # In a zone whose clock goes back across midnight, an instant can show a date
        # whose day (as a partition) has already begun or not yet begun: step to the right one.
        while ts < start:
            d -= timedelta(days=1)
            start = self._midnight(d)
        end = self._midnight(d + timedelta(days=1))
        while ts >= end:
            d += timedelta(days=1)
            start, end = end, self._midnight(d + timedelta(days=1))
        first, last = self._offset(start), self._offset(end - 1)
        self._day = (start, end, first if first == last else None)
        return self._day

    def _midnight(self, d: date) -> int:
        # fold=0: where midnight falls in a DST gap this is the instant the clock jumped.
        return round(datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp() * 1000)

    def _offset(self, ts: int) -> int:
        offset = datetime.fromtimestamp(ts / 1000, self.tz).utcoffset()
        return 0 if offset is None else round(offset.total_seconds() * 1000)

    def _first_with_offset_of(self, lo: int, hi: int) -> int:
        """Return the first instant in `(lo, hi]` with the offset of `hi` (one change in between)."""
        target = self._offset(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset(mid) == target:
                hi = mid
            else:
                lo = mid
        return hi


def merge_buckets(into: dict[int, Bucket], buckets: Iterable[Bucket]) -> None:
    """Merge `buckets` into `into`, keyed by start; buckets new to `into` are taken as they are."""
    for b in buckets:
        mine = into.get(b.start)
        if mine is None:
            into[b.start] = b
        else:
            mine.merge(b)


@dataclass(frozen=True, slots=True)
class BucketColumns:
    """Buckets as parallel columns: what a chart needs (the mean is `sum / count`)."""

    start: list[int]
    count: list[int]
    min: list[float]
    max: list[float]
    sum: list[float]

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def of(cls, buckets: Sequence[Bucket]) -> BucketColumns:
        """Return the columns of `buckets`."""
        return cls(
            [b.start for b in buckets],
            [b.count for b in buckets],
            [b.min for b in buckets],
            [b.max for b in buckets],
            [b.sum for b in buckets],
        )

    def means(self) -> list[float]:
        """Return the mean of each bucket."""
        return list(map(truediv, self.sum, self.count))

    def coarsen(self, factor: int) -> BucketColumns:
        """Merge each run of `factor` consecutive buckets into one (for a point budget no tier meets)."""
        if factor <= 1:
            return self
        runs = range(0, len(self.start), factor)
        return BucketColumns(
            [self.start[i] for i in runs],
            [sum(self.count[i : i + factor]) for i in runs],
            [min(self.min[i : i + factor]) for i in runs],
            [max(self.max[i : i + factor]) for i in runs],
            [sum(self.sum[i : i + factor]) for i in runs],
        )


def pick_width(counts: Sequence[tuple[int, int]], points: int) -> tuple[int, int]:
    """Return `(width_s, factor)`: the finest tier whose point count fits `points`.

    `counts` lists `(width_s, points that tier would return)` from finest to
    coarsest. When even the coarsest tier has too many, it is chosen with the
    factor by which its buckets must be merged to fit.
    """
    if not counts:
        raise ValueError("no tiers to choose from")
    for width, count in counts:
        if count <= points:
            return width, 1
    width, count = counts[-1]
    return width, math.ceil(count / max(points, 1))
