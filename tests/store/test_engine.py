"""The store on real SQLite files: what goes in comes out, rolled up exactly, across restarts."""

from __future__ import annotations

import math
import random
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roost.store import HistoryStore, HistoryUnavailable, Retention
from roost.store.store import check_samples
from roost.store.writer import Append

from .conftest import BERLIN

DAY_MS = 86_400_000
# Berlin's 2024 autumn change is on the 27th; three days around it.
START_MS = round(datetime(2024, 10, 26, tzinfo=BERLIN).timestamp() * 1000)
KEYS = {
    # Independent of the code under test: Berlin's offsets are whole hours, so its
    # 5-minute and hourly buckets are UTC ones, and a day starts at a local midnight.
    300: lambda t: t // 300_000 * 300_000,
    3600: lambda t: t // 3_600_000 * 3_600_000,
    86400: lambda t: round(
        datetime.combine(
            datetime.fromtimestamp(t / 1000, BERLIN).date(), datetime.min.time(), BERLIN
        ).timestamp()
        * 1000
    ),
}


def brute_force(
    samples: list[tuple[int, float]], width: int, lo: int, hi: int
) -> dict[int, tuple[float, float, float]]:
    """Return (min, max, mean) of every bucket from the one holding `lo` up to `hi`."""
    groups: dict[int, list[float]] = {}
    for ts, v in sorted(samples, key=lambda s: s[0]):
        groups.setdefault(KEYS[width](ts), []).append(v)
    first = KEYS[width](lo)
    return {k: (min(vs), max(vs), math.fsum(vs) / len(vs)) for k, vs in groups.items() if first <= k < hi}


def check_history(store: HistoryStore, samples: list[tuple[int, float]], lo: int, hi: int) -> None:
    (raw,) = store.query("s", lo / 1000, hi / 1000, resolution="raw")
    expected_raw = sorted((t / 1000, v) for t, v in samples if lo <= t < hi)
    assert sorted(zip(raw.t, raw.mean, strict=True)) == expected_raw
    for width in (300, 3600, 86400):
        (series,) = store.query("s", lo / 1000, hi / 1000, resolution=width)
        expected = brute_force(samples, width, lo, hi)
        got = {
            round(t * 1000): (a, b, m)
            for t, a, b, m in zip(series.t, series.min, series.max, series.mean, strict=True)
        }
        assert got.keys() == expected.keys()
        for k, (low, high, mean) in expected.items():
            assert got[k][:2] == (low, high)
            assert got[k][2] == pytest.approx(mean, abs=1e-9)


def check_ranges(store: HistoryStore, samples: list[tuple[int, float]], rng: random.Random) -> None:
    check_history(store, samples, START_MS - DAY_MS, START_MS + 5 * DAY_MS)
    times = [t for t, _ in samples]
    for _ in range(3):  # and parts of it, cut at sample times: inside rows and buckets
        a, b = sorted((rng.choice(times), rng.choice(times) + rng.randint(0, 3_600_000)))
        if a < b:
            check_history(store, samples, a, b)


samples_strategy = st.lists(
    st.tuples(
        st.one_of(
            st.integers(0, 3 * DAY_MS),
            st.integers(DAY_MS, DAY_MS + 3 * 3_600_000),  # dense: several samples a row
            st.integers(0, 3 * 24 * 12).map(lambda k: k * 300_000),  # on a bucket edge
            st.integers(1, 3 * 24 * 12).map(lambda k: k * 300_000 - 1),  # just before one
        ),
        st.integers(-2000, 4000).map(lambda n: n / 100),
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=samples_strategy, order=st.randoms(use_true_random=False), batches=st.integers(1, 6))
def test_stored_rollups_equal_brute_force(
    raw: list[tuple[int, int]], order: random.Random, batches: int
) -> None:
    """Samples arrive in batches, partly out of order, while time moves on: seals, late merges, restarts."""
    samples = [(START_MS + off, v) for off, v in raw]
    shuffled = samples[:]
    order.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "h.db", BERLIN)
        store.open()
        try:
            now = START_MS
            size = math.ceil(len(shuffled) / batches)
            for i in range(0, len(shuffled), size):
                batch = shuffled[i : i + size]
                now = max(now, *(t for t, _ in batch)) + order.randint(0, DAY_MS)
                store.append([("s", t, v) for t, v in batch], now).result()
            check_ranges(store, samples, order)
        finally:
            store.close()
        # Reopened: tails from the log, open buckets rebuilt from today's raw rows.
        store = HistoryStore(Path(tmp) / "h.db", BERLIN)
        store.open()
        try:
            check_ranges(store, samples, order)
            store.append([], now + 3 * DAY_MS).result()  # everything sealed now
            check_ranges(store, samples, order)
        finally:
            store.close()


def minute_samples(path: str, start_s: float, minutes: int, seed: int = 1) -> list[tuple[str, float, float]]:
    rng = random.Random(seed)
    value, out = 20.0, []
    for i in range(minutes):
        value = round(value + rng.choice((-0.01, 0.0, 0.01)), 2)
        out.append((path, start_s + 60 * i + rng.random() * 0.05, value))  # a worker's jitter
    return out


def test_a_week_at_one_a_minute_takes_under_20_bytes_a_sample(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    samples = [s for n in range(3) for s in minute_samples(f"room{n}/t", 1_700_000_000, 7 * 1440, n)]
    store.ingest(samples, 1_700_000_000 + 8 * 86_400)
    store.close()
    assert (tmp_path / "h.db").stat().st_size / len(samples) < 20  # rollups and schema included


def test_retention_purges_in_small_steps_and_keeps_rollups(tmp_path: Path) -> None:
    retention = Retention(raw_days=3, rollup_5m_days=5)
    store = HistoryStore(tmp_path / "h.db", BERLIN, retention)
    store.open()
    try:
        start = 1_700_000_000 - 1_700_000_000 % 86_400
        store.ingest(
            minute_samples("a", start, 10 * 1440) + minute_samples("b", start, 10 * 1440), start + 10 * 86_400
        )
        now_ms = (start + 10 * 86_400) * 1000
        steps = 1
        while store.submit(_purge(now_ms, retention, budget=3)).result():
            steps += 1
        assert steps > 2  # many small transactions, not one long one
        (raw,) = store.query("a", start, start + 10 * 86_400, resolution="raw")
        assert raw.t[0] >= start + 6 * 86_400  # three days (and a little) of raw samples
        (fine,) = store.query("a", start, start + 10 * 86_400, resolution="5m")
        assert fine.t[0] >= start + 3 * 86_400
        (hourly,) = store.query("a", start, start + 10 * 86_400, resolution="1h")
        assert len(hourly) == 240 and hourly.t[0] == start  # kept for ever
    finally:
        store.close()


def _purge(now_ms: int, retention: Retention, budget: int) -> object:
    from roost.store.writer import Purge

    return Purge(now_ms, retention, budget)


def test_a_failed_commit_keeps_its_samples_for_the_next(tmp_path: Path, store: HistoryStore) -> None:
    def fail(conn: sqlite3.Connection) -> None:
        raise OSError("disk full")

    now = 1_700_000_000_000
    with pytest.raises(OSError, match="disk full"):
        store.submit(Append(check_samples([("x", 1_700_000_000.0, 1.5)]), now, fail)).result()
    assert store.append(check_samples([("x", 1_700_000_001.0, 2.5)]), now).result() == 2
    (series,) = store.query("x", 1_699_999_999, 1_700_000_002, resolution="raw")
    assert series.mean == [1.5, 2.5]


def test_samples_survive_a_restart_unsealed(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    now = 1_700_000_000
    store.append(check_samples(minute_samples("x", now - 600, 10)), now * 1000).result()
    before = store.query("x", now - 3600, now + 1, resolution="5m")
    store.close()
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    try:
        assert store.query("x", now - 3600, now + 1, resolution="5m") == before
        assert len(store.query("x", now - 3600, now + 1, resolution="raw")[0]) == 10
    finally:
        store.close()


def test_a_database_in_use_cannot_be_opened_twice(store: HistoryStore) -> None:
    with pytest.raises(HistoryUnavailable):
        HistoryStore(store.path, BERLIN).open()


def test_the_zone_of_the_database_stays_its_zone(tmp_path: Path) -> None:
    first = HistoryStore(tmp_path / "h.db", BERLIN)
    first.open()
    first.close()
    from zoneinfo import ZoneInfo

    again = HistoryStore(tmp_path / "h.db", ZoneInfo("Asia/Tokyo"))
    again.open()
    try:
        assert again.tz == BERLIN
    finally:
        again.close()


def test_rows_are_written_once_when_their_day_has_passed(store: HistoryStore) -> None:
    day = 1_700_002_800_000  # 2023-11-15 00:00 in Berlin

    def rows(table: str) -> int:
        return int(store.submit(_count(table)).result())

    store.append([("x", day + 60_000 * i, float(i)) for i in range(30)], day + 30 * 60_000).result()
    assert (rows("raw"), rows("log"), rows("rollup_300")) == (0, 1, 0)  # the log holds them meanwhile
    store.append([("x", day + 60_000 * i, float(i)) for i in range(30, 60)], day + 59 * 60_000).result()
    assert (rows("raw"), rows("log")) == (0, 2)
    store.append([], day + 3_600_000 + 60_000).result()  # an hour later: nothing to write
    assert (rows("raw"), rows("log")) == (0, 2)
    store.append([], day + DAY_MS + 60_000).result()  # the day is over
    assert (rows("raw"), rows("log"), rows("rollup_300"), rows("rollup_3600"), rows("rollup_86400")) == (
        1,
        0,
        1,
        1,
        1,
    )


def test_a_bulk_load_writes_no_log_for_what_it_seals(store: HistoryStore) -> None:
    old = [("x", 1_600_000_000 + 60 * i, 1.0) for i in range(3000)]
    store.ingest(old, 1_700_000_000)
    assert store.submit(_count("log")).result() == 0


def _count(table: str) -> object:
    from roost.store.writer import Call

    return Call(lambda engine: engine.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_log_row_half_sealed_is_not_replayed_twice(tmp_path: Path) -> None:
    midnight = 1_700_002_800_000  # 2023-11-15 00:00 in Berlin
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    # One commit holds the last minute of a day and the first seconds of the next;
    # the day is sealed by a later commit, so the log row is then half sealed.
    store.append([("x", midnight - 60_000, 1.0), ("x", midnight + 5_000, 2.0)], midnight + 10_000).result()
    store.append([], midnight + 60_000).result()
    assert int(store.submit(_count("raw")).result()) == 1
    store.close()
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    try:
        (raw,) = store.query("x", (midnight - DAY_MS) / 1000, (midnight + DAY_MS) / 1000, resolution="raw")
        assert raw.mean == [1.0, 2.0]
        (days,) = store.query("x", (midnight - DAY_MS) / 1000, (midnight + DAY_MS) / 1000, resolution="1d")
        assert days.mean == [1.0, 2.0]
    finally:
        store.close()


def test_a_sample_far_in_the_future_does_not_keep_the_log_growing(tmp_path: Path) -> None:
    midnight = 1_700_002_800_000  # 2023-11-15 00:00 in Berlin
    future = midnight + 365 * DAY_MS  # a clock set a year ahead, or a typo in an import
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    store.append([("x", future, 9.0), ("y", midnight, 0.0)], midnight + 60_000).result()
    for hour in range(1, 24 * 4):  # four days of hourly commits
        at = midnight + hour * 3_600_000
        store.append([("y", at, float(hour))], at + 60_000).result()
    # The rows of days sealed long ago are gone; what is left is the future sample's row and today's.
    assert store.submit(_count("log")).result() <= 25
    store.close()
    store = HistoryStore(tmp_path / "h.db", BERLIN)
    store.open()
    try:
        (x,) = store.query("x", future / 1000 - 1, future / 1000 + 1, resolution="raw")
        (y,) = store.query("y", midnight / 1000, midnight / 1000 + 4 * 86_400, resolution="raw")
        assert x.mean == [9.0] and y.mean == [float(h) for h in range(24 * 4)]
    finally:
        store.close()
