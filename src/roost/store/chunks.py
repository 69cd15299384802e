"""Chunk BLOBs and their rows: samples of a series' day, buckets of a series' day, month or year.

Rows are keyed by one integer, `series_id << 44 | ms`, so that a series' chunks
sit together in time order in a plain rowid table: no separate index, and a
range of time is one range of keys. 44 bits of milliseconds reach the year 2527;
the 19 bits left name up to half a million series.

A raw row holds the samples of one local day (at most 4096; a busier day
gets several rows). A rollup row holds a few hundred buckets: the 5-minute
buckets of a local day, the hourly ones of a local month, the daily ones of a
local year. Decoding cost is mostly per row, so a year chart reads 12 rows,
not 365; and rows of a few KiB fill SQLite's pages (with overflow pages) far
better than rows of half a page would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from roost.core.rollup import Bucket, BucketColumns, Calendar
from roost.store.codec import (
    CorruptChunk,
    decode_floats,
    decode_ints,
    encode_floats,
    encode_ints,
    read_varint,
    write_varint,
)

FORMAT = 1
TS_BITS = 44
MAX_TS = (1 << TS_BITS) - 1
MAX_SERIES = 1 << (63 - TS_BITS)


def key(series_id: int, ts: int) -> int:
    """Return the row key of `series_id` at `ts` ms (clamped to the representable range)."""
    return (series_id << TS_BITS) | min(max(ts, 0), MAX_TS)


def key_ts(row_key: int) -> int:
    """Return the time part of a row key."""
    return row_key & MAX_TS


_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
# The longest a rollup row can span, by bucket width (a DST day has 25 hours).
ROW_SPAN_MS = {300: 25 * _HOUR_MS, 3600: 31 * _DAY_MS + _HOUR_MS, 86400: 366 * _DAY_MS + _HOUR_MS}
RAW_ROW_SPAN_MS = 25 * _HOUR_MS


def row_bounds(cal: Calendar, width_s: int, bucket_start: int) -> tuple[int, int]:
    """Return `[start, end)` of the rollup row for the bucket of `width_s` at `bucket_start`."""
    if width_s == 300:
        return cal.day(bucket_start)
    if width_s == 3600:
        return cal.month(bucket_start)
    return cal.year(bucket_start)


def _unit(values: Iterable[int]) -> int:
    """Return the largest u <= 3 such that every value is a multiple of 10**u."""
    for u in (3, 2, 1):
        p = 10**u
        if not any(v % p for v in values):
            return u
    return 0


def _scaled(values: Sequence[int], unit: int) -> Sequence[int]:
    if not unit:
        return values
    p = 10**unit
    return [v // p for v in values]


def _unscaled(values: list[int], unit: int) -> list[int]:
    if not unit:
        return values
    return list(map((10**unit).__mul__, values))


def _header(blob: bytes) -> tuple[int, int]:
    if not blob or blob[0] != FORMAT:
        raise CorruptChunk(f"unknown chunk format {blob[:1]!r}")
    return read_varint(blob, 1)


def _unit_at(blob: bytes, pos: int) -> int:
    if pos >= len(blob) or blob[pos] > 3:
        raise CorruptChunk("truncated chunk or bad time unit")
    return blob[pos]


# -- samples ---------------------------------------------------------------------


def encode_samples(ts: Sequence[int], values: Sequence[float]) -> bytes:
    """Return the BLOB of samples (ms times, sorted; finite values)."""
    out = bytearray((FORMAT,))
    write_varint(out, len(ts))
    # Imported and simulated data often has whole-second times: store them in seconds.
    unit = _unit(ts)
    out.append(unit)
    encode_ints(_scaled(ts, unit), out)
    encode_floats(values, out)
    return bytes(out)


def decode_samples(blob: bytes) -> tuple[list[int], list[float]]:
    """Return `(times, values)` of a samples BLOB."""
    count, pos = _header(blob)
    unit = _unit_at(blob, pos)
    ts, pos = decode_ints(blob, pos + 1, count)
    values, pos = decode_floats(blob, pos, count)
    return _unscaled(ts, unit), values


# -- buckets ---------------------------------------------------------------------


def encode_buckets(buckets: Sequence[Bucket]) -> bytes:
    """Return the BLOB of buckets sorted by start."""
    out = bytearray((FORMAT,))
    write_varint(out, len(buckets))
    starts = [b.start for b in buckets]
    unit = _unit(starts)
    out.append(unit)
    encode_ints(_scaled(starts, unit), out)
    encode_ints([b.count for b in buckets], out)
    # Chart columns first, so that a chart stops decoding after `sum`.
    encode_floats([b.min for b in buckets], out)
    encode_floats([b.max for b in buckets], out)
    encode_floats([b.sum for b in buckets], out)
    encode_floats([b.first for b in buckets], out)
    encode_floats([b.last for b in buckets], out)
    firsts = [b.first_ts - b.start for b in buckets]
    lasts = [b.last_ts - b.start for b in buckets]
    unit = _unit(firsts + lasts)
    out.append(unit)
    encode_ints(_scaled(firsts, unit), out)
    encode_ints(_scaled(lasts, unit), out)
    return bytes(out)


def decode_chart(blob: bytes) -> BucketColumns:
    """Return the start, count, min, max and sum columns of a buckets BLOB."""
    count, pos = _header(blob)
    unit = _unit_at(blob, pos)
    starts, pos = decode_ints(blob, pos + 1, count)
    counts, pos = decode_ints(blob, pos, count)
    mins, pos = decode_floats(blob, pos, count)
    maxs, pos = decode_floats(blob, pos, count)
    sums, pos = decode_floats(blob, pos, count)
    return BucketColumns(_unscaled(starts, unit), counts, mins, maxs, sums)


def decode_buckets(blob: bytes) -> list[Bucket]:
    """Return every bucket of a buckets BLOB."""
    count, pos = _header(blob)
    unit = _unit_at(blob, pos)
    starts, pos = decode_ints(blob, pos + 1, count)
    counts, pos = decode_ints(blob, pos, count)
    columns = []
    for _ in range(5):
        column, pos = decode_floats(blob, pos, count)
        columns.append(column)
    mins, maxs, sums, firsts, lasts = columns
    starts = _unscaled(starts, unit)
    unit = _unit_at(blob, pos)
    first_offsets, pos = decode_ints(blob, pos + 1, count)
    last_offsets, pos = decode_ints(blob, pos, count)
    first_offsets = _unscaled(first_offsets, unit)
    last_offsets = _unscaled(last_offsets, unit)
    return [
        Bucket(start, n, low, high, total, first, start + first_at, last, start + last_at)
        for start, n, low, high, total, first, first_at, last, last_at in zip(
            starts, counts, mins, maxs, sums, firsts, first_offsets, lasts, last_offsets, strict=True
        )
    ]


# -- log rows --------------------------------------------------------------------


def encode_log(entries: Iterable[tuple[int, Sequence[int], Sequence[float]]]) -> bytes:
    """Return a log row: the unsealed samples of several series, `(series_id, times, values)` each."""
    out = bytearray((FORMAT,))
    for series_id, ts, values in entries:
        if not ts:
            continue
        write_varint(out, series_id)
        blob = encode_samples(ts, values)
        write_varint(out, len(blob))
        out += blob
    return bytes(out)


def decode_log(blob: bytes) -> list[tuple[int, list[int], list[float]]]:
    """Return the `(series_id, times, values)` entries of a log row."""
    if not blob or blob[0] != FORMAT:
        raise CorruptChunk(f"unknown log format {blob[:1]!r}")
    pos, out = 1, []
    while pos < len(blob):
        series_id, pos = read_varint(blob, pos)
        size, pos = read_varint(blob, pos)
        ts, values = decode_samples(blob[pos : pos + size])
        out.append((series_id, ts, values))
        pos += size
    return out
