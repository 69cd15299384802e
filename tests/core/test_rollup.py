"""Rollup arithmetic: buckets partition local time, and aggregates equal a brute-force computation."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roost.core.rollup import DAY_S, Bucket, BucketColumns, Calendar, merge_buckets, pick_width

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/Santiago",  # DST changes at midnight: a day starts at 01:00
    "Asia/Kolkata",  # +05:30: hours start at :30 UTC
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute DST step
    "America/St_Johns",
]
# 2000..2040 in ms
instants = st.integers(946_684_800_000, 2_208_988_800_000)
widths = st.sampled_from([300, 3600, DAY_S])


def ms(text: str, tz: ZoneInfo = BERLIN) -> int:
    """Return ms of an ISO time; one without an offset is read in `tz`."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return round(parsed.timestamp() * 1000)


@settings(max_examples=400)
@given(ts=instants, width=widths, zone=st.sampled_from(ZONES))
def test_buckets_partition_time(ts: int, width: int, zone: str) -> None:
    cal = Calendar(ZoneInfo(zone))
    lo, hi = cal.bounds(ts, width)
    assert lo <= ts < hi
    # Every instant of the bucket names the same bucket, and the next one starts where it ends.
    assert Calendar(ZoneInfo(zone)).bounds(lo, width) == (lo, hi)
    assert Calendar(ZoneInfo(zone)).bounds(hi - 1, width) == (lo, hi)
    assert Calendar(ZoneInfo(zone)).bounds(hi, width)[0] == hi
    # Day edges are edges of every width, so no bucket spills into the next day.
    day_lo, day_hi = cal.day(ts)
    assert day_lo <= lo and hi <= day_hi
    if width < DAY_S:
        assert hi - lo <= width * 1000
    else:
        assert 22 * 3_600_000 <= hi - lo <= 26 * 3_600_000


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2024-03-31", 23), ("2024-10-27", 25), ("2024-06-01", 24)],
)
def test_a_berlin_day_follows_the_wall_clock(day: str, hours: int) -> None:
    lo, hi = Calendar(BERLIN).day(ms(f"{day}T12:00:00"))
    assert lo == ms(f"{day}T00:00:00")
    assert hi - lo == hours * 3_600_000


def test_the_repeated_hour_in_autumn_is_two_buckets() -> None:
    cal = Calendar(BERLIN)
    first = ms("2024-10-27T02:30:00+02:00")  # the first 02:30, still summer time
    second = ms("2024-10-27T02:30:00+01:00")
    assert cal.bounds(first, 3600) == (ms("2024-10-27T02:00:00+02:00"), ms("2024-10-27T02:00:00+01:00"))
    assert cal.bounds(second, 3600) == (ms("2024-10-27T02:00:00+01:00"), ms("2024-10-27T03:00:00+01:00"))


def test_hours_start_on_the_local_hour() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    lo, hi = Calendar(kolkata).bounds(ms("2024-05-05T10:20:00", kolkata), 3600)
    assert datetime.fromtimestamp(lo / 1000, UTC).minute == 30
    assert hi - lo == 3_600_000


def test_a_day_that_begins_at_one_oclock() -> None:
    santiago = ZoneInfo("America/Santiago")
    lo, hi = Calendar(santiago).day(ms("2024-09-08T12:00:00", santiago))
    assert datetime.fromtimestamp(lo / 1000, santiago).hour == 1  # midnight did not exist
    assert hi - lo == 23 * 3_600_000


def test_months_and_years() -> None:
    cal = Calendar(BERLIN)
    assert cal.month(ms("2024-12-31T23:59:59")) == (ms("2024-12-01T00:00:00"), ms("2025-01-01T00:00:00"))
    assert cal.year(ms("2024-03-31T02:30:00+01:00")) == (ms("2024-01-01T00:00:00"), ms("2025-01-01T00:00:00"))


def brute_force(
    samples: list[tuple[int, float]], key: object
) -> dict[object, tuple[int, float, float, float]]:
    """Group by `key(ts)` directly, the obvious way: (count, min, max, sum) per group."""
    groups: dict[object, list[float]] = {}
    for ts, v in samples:
        groups.setdefault(key(ts), []).append(v)  # type: ignore[operator]
    return {k: (len(vs), min(vs), max(vs), math.fsum(vs)) for k, vs in groups.items()}


# Samples around both of Berlin's 2024 DST changes, many of them exactly on an edge.
around_dst = st.sampled_from([ms("2024-03-31T00:00:00"), ms("2024-10-26T22:00:00")])
offsets = st.one_of(
    st.integers(0, 8 * 3_600_000),
    st.integers(0, 96).map(lambda k: k * 300_000),
    st.integers(1, 96).map(lambda k: k * 300_000 - 1),
)
values = st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 2))


@settings(max_examples=200)
@given(base=around_dst, raw=st.lists(st.tuples(offsets, values), min_size=1, max_size=80), cuts=st.data())
def test_incremental_buckets_equal_brute_force_across_dst(
    base: int, raw: list[tuple[int, float]], cuts: st.DataObject
) -> None:
    samples = sorted(((base + off, v) for off, v in raw), key=lambda s: s[0])
    cal = Calendar(BERLIN)
    # Independent keys: Berlin's offsets are whole hours, so local 5-minute and hourly
    # buckets are UTC ones; a day is the local date.
    keys = {
        300: lambda t: t // 300_000 * 300_000,
        3600: lambda t: t // 3_600_000 * 3_600_000,
        DAY_S: lambda t: datetime.fromtimestamp(t / 1000, BERLIN).date(),
    }
    for width, key in keys.items():
        # Feed the samples in arbitrary batches, merging as a recorder does.
        split = sorted(cuts.draw(st.lists(st.integers(0, len(samples)), max_size=4)))
        merged: dict[int, Bucket] = {}
        for lo, hi in zip([0, *split], [*split, len(samples)], strict=True):
            part = samples[lo:hi]
            merge_buckets(merged, cal.buckets(width, [t for t, _ in part], [v for _, v in part]))
        expected = brute_force(samples, key)
        got = {key(b.start): b for b in merged.values()}
        assert got.keys() == expected.keys()
        for k, (count, low, high, total) in expected.items():
            b = got[k]
            assert (b.count, b.min, b.max) == (count, low, high)
            assert b.sum == pytest.approx(total, abs=1e-9)
            group = [(t, v) for t, v in samples if key(t) == k]
            assert (b.first_ts, b.first) == group[0]
            assert (b.last_ts, b.last) == group[-1]


@given(st.lists(st.tuples(st.integers(0, 10**6), values), min_size=2, max_size=40), st.data())
def test_merge_in_any_order_equals_one_bucket(samples: list[tuple[int, float]], data: st.DataObject) -> None:
    cut = data.draw(st.integers(1, len(samples) - 1))
    a = Bucket(0, 0, math.inf, -math.inf, 0.0, 0.0, 2**62, 0.0, -1)
    for ts, v in samples[:cut]:
        a.add(ts, v)
    b = Bucket(0, 0, math.inf, -math.inf, 0.0, 0.0, 2**62, 0.0, -1)
    for ts, v in samples[cut:]:
        b.add(ts, v)
    a.merge(b)
    first = min(samples, key=lambda s: s[0])  # min() keeps the earliest of equal times
    last = max(reversed(samples), key=lambda s: s[0])  # and this the latest arrival
    assert a.count == len(samples)
    assert (a.min, a.max) == (min(v for _, v in samples), max(v for _, v in samples))
    assert (a.first_ts, a.first) == first
    assert (a.last_ts, a.last) == last


def test_equal_times_count_in_arrival_order() -> None:
    cal = Calendar(BERLIN)
    (whole,) = cal.buckets(300, [0, 5, 5, 9, 9], [1.0, 2.0, 3.0, 4.0, 5.0])
    (a,) = cal.buckets(300, [5, 9], [2.0, 4.0])
    (b,) = cal.buckets(300, [0, 5, 9], [1.0, 3.0, 5.0])
    a.merge(b)  # b's samples came later: its 9 ms sample is the last, its 0 ms one the first
    assert (a.first, a.last) == (whole.first, whole.last) == (1.0, 5.0)
    b2 = cal.buckets(300, [5], [7.0])[0]
    a.merge(b2)
    assert a.first == 1.0 and a.last == 5.0 and a.count == 6


def test_pick_width_takes_the_finest_tier_that_fits() -> None:
    counts = [(0, 5000), (300, 900), (3600, 80), (DAY_S, 4)]
    assert pick_width(counts, 1000) == (300, 1)
    assert pick_width(counts, 5000) == (0, 1)
    assert pick_width(counts, 2) == (DAY_S, 2)


def test_coarsen_merges_runs_of_buckets() -> None:
    columns = BucketColumns(
        [0, 1, 2, 3, 4], [1, 2, 1, 1, 5], [1.0, 0.0, 3.0, 4.0, 5.0], [1.0, 2, 3, 9, 5], [1.0, 2, 3, 4, 25]
    )
    coarse = columns.coarsen(2)
    assert coarse.start == [0, 2, 4]
    assert coarse.count == [3, 2, 5]
    assert coarse.min == [0.0, 3.0, 5.0] and coarse.max == [2, 9, 5]
    assert coarse.means() == [1.0, 3.5, 5.0]
