"""What the writer holds in memory of one series: samples not yet sealed, buckets not yet closed.

A series' samples move through three places. New samples join the *tail*
(and, on disk, the log, one small row per commit). When the local day of the
oldest tail samples has passed, they are *sealed*: packed into one `raw` row
and dropped from the tail (a day of more than 4096 samples is sealed in pieces
of that many as it goes, which bounds the tail's memory). Alongside, each
sample is added at once to the open 5-minute, hourly and daily buckets of its
day; when the day has passed, its buckets are written once to the rollup
tables. So a bucket is computed as samples arrive and written when it closes,
never rescanned, and a restart rebuilds the open ones from the log and the raw
rows of today.

Two boundaries split disk from memory: `sealed_until` (raw rows hold what came
before, the tail what came after) and `rolled_until` (a local midnight: rollup
rows hold the days before it, open buckets the days after). A sample older than
a boundary is *late* and is merged into the rows on disk instead.

Everything here runs on the writer thread, under the store lock when it
changes what queries can see.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from roost.core.rollup import DAY_S, WIDTHS_S, Bucket, Calendar, merge_buckets

# A raw row never holds more than this many samples (4 to 40 KiB); a busier day gets several.
MAX_CHUNK_SAMPLES = 4096

Samples = tuple[Sequence[int], Sequence[float]]


@dataclass(slots=True)
class DaySeal:
    """The closed buckets of one series for one local day, per width."""

    start: int
    end: int
    buckets: dict[int, list[Bucket]]


@dataclass(slots=True)
class SealPlan:
    """What one commit moves from memory to disk for one series."""

    chunks: list[tuple[int, int]] = field(default_factory=list)  # tail index ranges, one raw row each
    tail_cut: int = 0
    sealed_until: int = 0
    days: list[DaySeal] = field(default_factory=list)
    rolled_until: int = 0


class SeriesState:
    """One series in the writer's memory. Writer thread only; changes under the store lock."""

    __slots__ = (
        "id",
        "newest",
        "open",
        "path",
        "persisted",
        "rolled_until",
        "sealed_until",
        "tail_ts",
        "tail_v",
    )

    def __init__(
        self, series_id: int, path: str, sealed_until: int, rolled_until: int, persisted: bool
    ) -> None:
        self.id = series_id
        self.path = path
        self.sealed_until = sealed_until
        self.rolled_until = rolled_until
        self.persisted = persisted
        self.tail_ts = array("q")
        self.tail_v = array("d")
        self.open: dict[int, dict[int, Bucket]] = {w: {} for w in WIDTHS_S}
        self.newest = -1  # the latest sample time added since the start

    def add(self, cal: Calendar, ts: Sequence[int], values: Sequence[float]) -> tuple[Samples, Samples]:
        """Add samples sorted by time; return the late ones for raw rows and for rollup rows."""
        if ts:
            self.newest = max(self.newest, ts[-1])
        roll = bisect_left(ts, self.rolled_until)
        if roll < len(ts):
            fresh_ts, fresh_v = ts[roll:], values[roll:]
            for width in WIDTHS_S:
                merge_buckets(self.open[width], cal.buckets(width, fresh_ts, fresh_v))
        cut = bisect_left(ts, self.sealed_until)
        self._extend_tail(ts[cut:], values[cut:])
        return (ts[:cut], values[:cut]), (ts[:roll], values[:roll])

    def _extend_tail(self, ts: Sequence[int], values: Sequence[float]) -> None:
        if not ts:
            return
        if not self.tail_ts or ts[0] >= self.tail_ts[-1]:
            self.tail_ts.extend(ts)
            self.tail_v.extend(values)
            return
        # Out of order within the tail (a clock stepped back): re-sort, earlier arrivals first on ties.
        merged = sorted(zip([*self.tail_ts, *ts], [*self.tail_v, *values], strict=True), key=lambda p: p[0])
        self.tail_ts = array("q", (p[0] for p in merged))
        self.tail_v = array("d", (p[1] for p in merged))

    def plan(self, cal: Calendar, horizon: int) -> SealPlan | None:
        """Return what can be sealed once time has reached `horizon`, or None."""
        plan = SealPlan(sealed_until=self.sealed_until, rolled_until=self.rolled_until)
        self._plan_chunks(cal, horizon, plan)
        self._plan_days(cal, horizon, plan)
        return plan if plan.chunks or plan.days else None

    def _plan_chunks(self, cal: Calendar, horizon: int, plan: SealPlan) -> None:
        ts, n, i = self.tail_ts, len(self.tail_ts), 0
        while i < n:
            _, day_end = cal.day(ts[i])
            j = bisect_left(ts, day_end, i)
            complete = day_end <= horizon
            while j - i > MAX_CHUNK_SAMPLES or (complete and i < j):
                k = min(i + MAX_CHUNK_SAMPLES, j)
                while k < j and ts[k] == ts[k - 1]:  # never split equal times over two rows
                    k += 1
                if not complete and k == j:
                    break
                plan.chunks.append((i, k))
                plan.sealed_until = day_end if k == j else ts[k - 1] + 1
                i = k
            if not complete:
                break
        plan.tail_cut = i

    def _plan_days(self, cal: Calendar, horizon: int, plan: SealPlan) -> None:
        days = sorted(self.open[DAY_S])
        if not days or cal.day(days[0])[1] > horizon:
            return  # the usual case, checked without sorting the other tiers
        starts = {w: sorted(self.open[w]) for w in WIDTHS_S}
        for day in days:
            _, day_end = cal.day(day)
            if day_end > horizon:
                break
            buckets = {}
            for width in WIDTHS_S:
                keys = starts[width]
                lo, hi = bisect_left(keys, day), bisect_left(keys, day_end)
                buckets[width] = [self.open[width][k] for k in keys[lo:hi]]
            plan.days.append(DaySeal(day, day_end, buckets))
            plan.rolled_until = day_end

    def apply(self, plan: SealPlan) -> None:
        """Forget what `plan` has written to disk (after its commit)."""
        if plan.tail_cut:
            del self.tail_ts[: plan.tail_cut]
            del self.tail_v[: plan.tail_cut]
        for day in plan.days:
            for width, buckets in day.buckets.items():
                for b in buckets:
                    self.open[width].pop(b.start, None)
        self.rolled_until = max(self.rolled_until, plan.rolled_until)
        # A day's buckets are sealed with (or after) its samples, so nothing in the tail
        # precedes rolled_until; keeping sealed_until at or after it keeps "late for raw
        # rows" a superset of "late for rollup rows".
        self.sealed_until = max(self.sealed_until, plan.sealed_until, self.rolled_until)

    def tail_after(self, plan: SealPlan | None) -> Samples:
        """Return the tail as it will be once `plan` is applied."""
        cut = plan.tail_cut if plan else 0
        return self.tail_ts[cut:], self.tail_v[cut:]

    # -- what queries copy (under the store lock) -----------------------------------

    def tail_between(self, lo: int, hi: int) -> tuple[list[int], list[float]]:
        """Return copies of the tail samples in `[lo, hi)`."""
        i, j = bisect_left(self.tail_ts, lo), bisect_left(self.tail_ts, hi)
        return self.tail_ts[i:j].tolist(), self.tail_v[i:j].tolist()

    def buckets_between(self, width: int, lo: int, hi: int) -> list[Bucket]:
        """Return copies of the open buckets of `width` starting in `[lo, hi)`, in order."""
        return [b.copy() for s, b in sorted(self.open[width].items()) if lo <= s < hi]
