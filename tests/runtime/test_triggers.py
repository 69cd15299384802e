"""Cron strings and sun events in local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from roost.runtime.triggers import Cron, Sun

BERLIN = ZoneInfo("Europe/Berlin")


def walk(rule: Cron | Sun, after: datetime, n: int) -> list[str]:
    out = []
    for _ in range(n):
        nxt = rule.next_fire(after)
        assert nxt is not None
        out.append(nxt.astimezone(BERLIN).strftime("%m-%d %H:%M %Z"))
        after = nxt
    return out


def test_cron_fixed_hour_runs_once_when_clocks_fall_back() -> None:
    rule = Cron("30 2 * * *", BERLIN)
    start = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    assert walk(rule, start, 2) == ["10-25 02:30 CEST", "10-26 02:30 CET"]


def test_cron_wildcard_hour_runs_through_the_repeated_hour() -> None:
    rule = Cron("0 * * * *", BERLIN)
    start = datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN)
    assert walk(rule, start, 3) == ["10-25 01:00 CEST", "10-25 02:00 CEST", "10-25 02:00 CET"]


def test_cron_keeps_local_time_across_spring_forward() -> None:
    rule = Cron("30 7 * * mon-fri", BERLIN)
    start = datetime(2026, 3, 27, 8, 0, tzinfo=BERLIN)  # a Friday, after 07:30
    assert walk(rule, start, 2) == ["03-30 07:30 CEST", "03-31 07:30 CEST"]


def test_cron_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="cron"):
        Cron("every day", BERLIN)


def test_sunset_with_offset_in_berlin_midsummer() -> None:
    rule = Sun("sunset", timedelta(minutes=-30), 52.52, 13.40, BERLIN)
    nxt = rule.next_fire(datetime(2026, 6, 21, 12, 0, tzinfo=BERLIN))
    assert nxt is not None
    local = nxt.astimezone(BERLIN)
    # Berlin's midsummer sunset is about 21:33 local.
    assert (local.date().isoformat(), local.hour) == ("2026-06-21", 21)
    assert 0 <= local.minute <= 10


def test_sunrise_skips_polar_day() -> None:
    rule = Sun("sunrise", timedelta(0), 78.22, 15.65, ZoneInfo("Arctic/Longyearbyen"))
    nxt = rule.next_fire(datetime(2026, 6, 21, tzinfo=UTC))
    assert nxt is not None
    assert nxt > datetime(2026, 8, 15, tzinfo=UTC)  # no sunrise during the midnight sun


def test_sun_refuses_bad_coordinates() -> None:
    with pytest.raises(ValueError, match="latitude"):
        Sun("sunrise", timedelta(0), 123.0, 0.0, BERLIN)


@pytest.mark.parametrize("expr", ["*/15 2 * * *", "* 2 * * *"])
def test_cron_fixed_hour_with_many_minutes_survives_the_repeated_hour(expr: str) -> None:
    # The second pass of 02:xx holds four or more matches in a row, all of them repeats.
    rule = Cron(expr, BERLIN)
    nxt = rule.next_fire(datetime(2026, 10, 25, 2, 59, tzinfo=BERLIN))
    assert nxt is not None
    assert nxt.astimezone(BERLIN).strftime("%m-%d %H:%M %Z") == "10-26 02:00 CET"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [("@daily", "01-02 00:00 CET"), ("@hourly", "01-01 13:00 CET"), ("@monthly", "02-01 00:00 CET")],
)
def test_cron_accepts_the_at_aliases(expr: str, expected: str) -> None:
    rule = Cron(expr, BERLIN)
    assert walk(rule, datetime(2026, 1, 1, 12, 30, tzinfo=BERLIN), 1) == [expected]


def test_cron_that_can_never_fire_says_so() -> None:
    assert Cron("0 0 30 2 *", BERLIN).next_fire(datetime(2026, 1, 1, tzinfo=UTC)) is None
