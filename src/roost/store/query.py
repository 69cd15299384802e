"""Reading a series back: the finest tier that fits a point budget, from disk and from memory.

A query copies what the writer holds in memory for the series (unsealed samples,
open buckets, and the two boundaries) under the store lock, then reads the rows
before those boundaries in one read transaction of its own connection. Memory
is updated only after the writer's commit, so whatever moved to disk in between
is found on disk and never twice.
"""

from __future__ import annotations

import math
import sqlite3
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from roost.core.rollup import DAY_S, RAW, WIDTHS_S, Bucket, BucketColumns, Calendar, pick_width
from roost.store import chunks
from roost.store.chunks import key, key_ts

RESOLUTIONS = {"raw": RAW, "5m": 300, "1h": 3600, "1d": DAY_S}


@dataclass(frozen=True, slots=True)
class Series:
    """One path over a time range: times (epoch seconds) with min, max and mean per point.

    `resolution_s` is 0 for raw samples (then min, max and mean are the sample
    values), else the width of the buckets, whose `t` is their start. A day
    bucket spans a local day (23 to 25 hours); several merged days have a
    resolution of that many times 86400.
    """

    path: str
    resolution_s: int
    t: list[float]
    min: list[float]
    max: list[float]
    mean: list[float]

    def __len__(self) -> int:
        return len(self.t)

    def to_json(self) -> dict[str, Any]:
        """Return the wire form of `/api/history`."""
        return {
            "path": self.path,
            "resolution_s": self.resolution_s,
            "t": self.t,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
        }


@dataclass(frozen=True, slots=True)
class MemoryView:
    """What the writer held in memory for one series when the query began (copies)."""

    series_id: int
    sealed_until: int
    rolled_until: int
    tail_ts: list[int]
    tail_v: list[float]
    buckets: dict[int, list[Bucket]]


def read_series(
    conn: sqlite3.Connection,
    cal: Calendar,
    view: MemoryView,
    path: str,
    lo: int,
    hi: int,
    points: int,
    width: int | None = None,
) -> Series:
    """Return the series in `[lo, hi)` ms at `width`, or at the finest width that fits `points`."""
    auto = width is None
    if width is None:
        counts = []
        for w in (RAW, *WIDTHS_S):
            counts.append((w, _count(conn, cal, view, w, lo, hi, points)))
            if counts[-1][1] <= points:
                break
        width, _ = pick_width(counts, points)
    if width == RAW:
        ts, values = read_raw(conn, view, lo, hi)
        return Series(path, RAW, _seconds(ts), values, values, values)
    columns = read_buckets(conn, cal, view, width, lo, hi)
    # The factor from the buckets read, not from `_count`: that stops counting once past the budget.
    factor = math.ceil(len(columns) / points) if auto else 1
    columns = columns.coarsen(factor)
    return Series(
        path,
        width * factor,
        _seconds(columns.start),
        columns.min,
        columns.max,
        columns.means(),
    )


def _seconds(ms: list[int]) -> list[float]:
    return list(map((1000).__rtruediv__, ms))


def _ranges(view: MemoryView, width: int, lo: int, hi: int) -> tuple[str, int, int]:
    """Return the table and the key range of its rows that may hold points of `[lo, hi)`."""
    # A row holds nothing before its key and spans at most ROW_SPAN_MS after it.
    if width == RAW:
        first, last, table = lo - chunks.RAW_ROW_SPAN_MS, min(hi, view.sealed_until), "raw"
    else:
        first, last, table = lo - chunks.ROW_SPAN_MS[width], min(hi, view.rolled_until), f"rollup_{width}"
    return table, key(view.series_id, first), key(view.series_id, last)


def _count(
    conn: sqlite3.Connection, cal: Calendar, view: MemoryView, width: int, lo: int, hi: int, limit: int
) -> int:
    """Return at least how many points `width` has in `[lo, hi)` (any number above `limit` once past it).

    Raw rows cut by the window's edges are counted sample by sample. Rollup row
    totals overcount the rows at the edges; buckets are also bounded by the time
    range, and the smaller bound is taken, so the budget is never exceeded.
    """
    if width == RAW:
        n = bisect_left(view.tail_ts, hi) - bisect_left(view.tail_ts, lo)
        bound = None
    else:
        start = cal.bounds(lo, width)[0]
        n = sum(1 for b in view.buckets[width] if start <= b.start < hi)
        # +1: a DST day is longer than the nominal width.
        bound = (hi - start - 1) // (width * 1000) + 1 + (width == DAY_S)
    table, first, last = _ranges(view, width, lo, hi)
    if n <= limit and first < last:
        cur = conn.execute(f"SELECT id, n FROM {table} WHERE id >= ? AND id < ?", (first, last))
        try:
            for row_id, rows in cur:
                if bound is None and _cut_by_window(view, key_ts(row_id), lo, hi):
                    rows = _raw_in_window(conn, row_id, lo, hi)
                n += rows
                if n > limit:
                    break
        finally:
            cur.close()
    return n if bound is None else min(n, bound)


def _cut_by_window(view: MemoryView, row_start: int, lo: int, hi: int) -> bool:
    """Return whether a raw row starting at `row_start` may hold samples outside `[lo, hi)`."""
    # Rows on disk end before `sealed_until`, so a window reaching it cuts no row at its end.
    return row_start < lo or (hi < view.sealed_until and row_start + chunks.RAW_ROW_SPAN_MS > hi)


def _raw_in_window(conn: sqlite3.Connection, row_id: int, lo: int, hi: int) -> int:
    """Return how many samples of the raw row `row_id` lie in `[lo, hi)`."""
    # A row at the window's edge counted whole pushed a day that fits the budget off raw.
    (blob,) = conn.execute("SELECT data FROM raw WHERE id = ?", (row_id,)).fetchone()
    ts, _ = chunks.decode_samples(blob)
    return bisect_left(ts, hi) - bisect_left(ts, lo)


def read_raw(conn: sqlite3.Connection, view: MemoryView, lo: int, hi: int) -> tuple[list[int], list[float]]:
    """Return the raw samples in `[lo, hi)`, sorted by time."""
    _, first, last = _ranges(view, RAW, lo, hi)
    ts: list[int] = []
    values: list[float] = []
    newest = -1
    in_order = True
    if first < last:
        rows = conn.execute("SELECT data FROM raw WHERE id >= ? AND id < ? ORDER BY id", (first, last))
        for (blob,) in rows:
            t, v = chunks.decode_samples(blob)
            if t[0] < lo or t[-1] >= hi:
                i, j = bisect_left(t, lo), bisect_left(t, hi)
                t, v = t[i:j], v[i:j]
            if not t:
                continue
            # Late samples have rows of their own that may overlap their neighbours.
            in_order = in_order and t[0] >= newest
            newest = max(newest, t[-1])
            ts += t
            values += v
    tail_ts, tail_v = view.tail_ts, view.tail_v
    i, j = bisect_left(tail_ts, lo), bisect_left(tail_ts, hi)
    if i < j:
        in_order = in_order and tail_ts[i] >= newest
        ts += tail_ts[i:j]
        values += tail_v[i:j]
    if not in_order:
        order = sorted(range(len(ts)), key=ts.__getitem__)
        ts = [ts[k] for k in order]
        values = [values[k] for k in order]
    return ts, values


def read_buckets(
    conn: sqlite3.Connection, cal: Calendar, view: MemoryView, width: int, lo: int, hi: int
) -> BucketColumns:
    """Return the buckets of `width` from the one holding `lo` up to `hi`."""
    start = cal.bounds(lo, width)[0]
    out = BucketColumns([], [], [], [], [])
    table, first, last = _ranges(view, width, lo, hi)
    # Buckets from `rolled_until` on are the memory's: a day the writer sealed after the
    # memory was copied is in the month's and year's rows on disk too, and must not count twice.
    disk_hi = min(hi, view.rolled_until)
    if first < last:
        for (blob,) in conn.execute(
            f"SELECT data FROM {table} WHERE id >= ? AND id < ? ORDER BY id", (first, last)
        ):
            _extend(out, chunks.decode_chart(blob), start, disk_hi)
    memory = [b for b in view.buckets[width] if start <= b.start < hi]
    if memory:
        _extend(out, BucketColumns.of(memory), start, hi)
    return out


def _extend(out: BucketColumns, columns: BucketColumns, lo: int, hi: int) -> None:
    starts = columns.start
    if not starts:
        return
    i, j = 0, len(starts)
    if starts[0] < lo or starts[-1] >= hi:
        i, j = bisect_left(starts, lo), bisect_left(starts, hi)
    out.start.extend(starts[i:j])
    out.count.extend(columns.count[i:j])
    out.min.extend(columns.min[i:j])
    out.max.extend(columns.max[i:j])
    out.sum.extend(columns.sum[i:j])
