"""Queries pick the finest tier that fits the point budget, and never return more points."""

from __future__ import annotations

from datetime import datetime

import pytest

from roost.core.errors import InvalidPath, InvalidValue
from roost.core.rollup import Calendar
from roost.store import HistoryStore, UnknownSeries
from roost.store.query import read_series

from .conftest import BERLIN

DAY = 86_400
START = datetime(2024, 5, 6, tzinfo=BERLIN).timestamp()  # a local midnight


@pytest.fixture
def two_days(store: HistoryStore) -> HistoryStore:
    """Two local days of one sample a minute, plus ten samples in a year of a sparse series."""
    store.ingest([("a", START + 60 * i, float(i % 100)) for i in range(2 * 1440)], START + 400 * DAY)
    store.ingest([("sparse", START + 30 * DAY * i, 1.0) for i in range(10)], START + 400 * DAY)
    return store


@pytest.mark.parametrize(
    ("points", "resolution", "count"),
    [
        (5000, 0, 2880),  # every sample fits
        (2880, 0, 2880),
        (2879, 300, 576),
        (576, 300, 576),
        (575, 3600, 48),
        (48, 3600, 48),
        (47, 86400, 2),
        (2, 86400, 2),
        (1, 2 * 86400, 1),  # no tier fits: days merged in pairs
    ],
)
def test_the_finest_tier_that_fits_the_budget(
    two_days: HistoryStore, points: int, resolution: int, count: int
) -> None:
    (series,) = two_days.query("a", START, START + 2 * DAY, points)
    assert (series.resolution_s, len(series)) == (resolution, count)


@pytest.mark.parametrize("hours", [1, 5, 13, 30, 47])
@pytest.mark.parametrize("points", [10, 100, 300, 1000])
def test_never_more_points_than_asked(two_days: HistoryStore, hours: int, points: int) -> None:
    (series,) = two_days.query("a", START + 1234, START + 1234 + hours * 3600, points)
    assert 0 < len(series) <= points


@pytest.mark.parametrize("offset_h", [1, 12, 23])
def test_a_day_across_two_rows_stays_raw_when_its_samples_fit(two_days: HistoryStore, offset_h: int) -> None:
    # The window cuts both days' rows: only the samples inside it count against the budget.
    lo = START + offset_h * 3600
    (series,) = two_days.query("a", lo, lo + DAY, 2000)
    assert (series.resolution_s, len(series)) == (0, 1440)


def test_a_sparse_series_stays_raw_over_a_year(two_days: HistoryStore) -> None:
    (series,) = two_days.query("sparse", START, START + 365 * DAY, 1000)
    assert (series.resolution_s, len(series)) == (0, 10)
    assert series.min == series.max == series.mean == [1.0] * 10


def test_buckets_carry_min_max_and_mean(two_days: HistoryStore) -> None:
    (series,) = two_days.query("a", START, START + 3600, resolution="1h")
    assert series.t == [START]
    assert (series.min, series.max, series.mean) == ([0.0], [59.0], [29.5])


def test_several_paths_in_one_query(two_days: HistoryStore) -> None:
    result = two_days.query(["a", "sparse"], START, START + 2 * DAY, 100)
    assert [s.path for s in result] == ["a", "sparse"]
    assert [s.resolution_s for s in result] == [3600, 0]


def test_unknown_paths(two_days: HistoryStore) -> None:
    with pytest.raises(UnknownSeries) as err:
        two_days.query(["a", "nope", "nix"], START, START + DAY)
    assert err.value.paths == ["nope", "nix"] and err.value.status == 404
    (empty,) = two_days.query("nope", START, START + DAY, strict=False)
    assert len(empty) == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"start_s": START + DAY, "end_s": START}, InvalidValue),
        ({"start_s": START, "end_s": START}, InvalidValue),
        ({"points": 0}, InvalidValue),
        ({"resolution": "2h"}, InvalidValue),
        ({"paths": "a//b"}, InvalidPath),
    ],
)
def test_bad_queries(two_days: HistoryStore, kwargs: dict[str, object], error: type[Exception]) -> None:
    args: dict[str, object] = {"paths": "a", "start_s": START, "end_s": START + DAY, **kwargs}
    with pytest.raises(error):
        two_days.query(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("points", [1, 10, 30, 200])
def test_never_more_points_than_asked_when_days_are_merged(store: HistoryStore, points: int) -> None:
    # Three years of days: the daily tier spans several year rows, and its count must not stop at the first.
    store.ingest([("d", START + DAY * i + 3600, float(i)) for i in range(3 * 365)], START + 4 * 365 * DAY)
    (series,) = store.query("d", START, START + 3 * 365 * DAY, points)
    assert 0 < len(series) <= points
    assert series.resolution_s % DAY == 0 and series.min[0] == 0.0 and series.max[-1] == 3 * 365 - 1


def test_a_day_sealed_while_a_query_reads_is_not_counted_twice(store: HistoryStore) -> None:
    # The first day is sealed already, so its month's and year's rollup rows exist before the query starts.
    store.append(
        [("x", round((START + 3600 * i) * 1000), float(i)) for i in range(48)],
        round((START + 2 * DAY - 60) * 1000),
    ).result()
    (view,) = store._views(["x"])  # the query copies what the writer holds in memory ...
    store.append([], round((START + 2 * DAY + 60) * 1000)).result()  # ... the writer seals the second day ...
    conn = store._reader()  # ... and the query's read transaction begins after that commit
    try:
        for width, count in ((300, 48), (3600, 48), (DAY, 2)):
            series = read_series(
                conn,
                Calendar(BERLIN),
                view,
                "x",
                round(START * 1000),
                round((START + 2 * DAY) * 1000),
                10_000,
                width,
            )
            assert len(series) == len(set(series.t)) == count
            assert sum(series.mean) == pytest.approx(
                sum(range(48)) if width < DAY else 23 / 2 + (24 + 47) / 2
            )
    finally:
        store._release(conn)
