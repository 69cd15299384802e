"""Calendar maths across DST changes, month ends and missed runs (Europe/Berlin, 2026)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from roost.core.schedule import Daily, Repeating, parse_days, parse_time

BERLIN = ZoneInfo("Europe/Berlin")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def firings(rule: Daily | Repeating, after: datetime, n: int) -> list[str]:
    out = []
    for _ in range(n):
        nxt = rule.next_fire(after)
        assert nxt is not None
        assert nxt.tzinfo is UTC
        out.append(nxt.astimezone(BERLIN).strftime("%m-%d %H:%M %Z"))
        after = nxt
    return out


def test_daily_keeps_local_time_across_spring_forward() -> None:
    rule = Daily(time(7, 30), parse_days(None), BERLIN)
    assert firings(rule, local(2026, 3, 28, 8, 0), 2) == ["03-29 07:30 CEST", "03-30 07:30 CEST"]


def test_daily_in_the_spring_gap_fires_an_hour_later() -> None:
    rule = Daily(time(2, 30), parse_days(None), BERLIN)
    assert firings(rule, local(2026, 3, 28, 12, 0), 2) == ["03-29 03:30 CEST", "03-30 02:30 CEST"]


def test_daily_in_the_repeated_autumn_hour_fires_once() -> None:
    rule = Daily(time(2, 30), parse_days(None), BERLIN)
    assert firings(rule, local(2026, 10, 24, 12, 0), 2) == ["10-25 02:30 CEST", "10-26 02:30 CET"]


def test_weekdays_skip_the_weekend() -> None:
    rule = Daily(time(7, 30), parse_days("mon-fri"), BERLIN)
    friday_evening = local(2026, 11, 20, 19, 0)
    assert firings(rule, friday_evening, 2) == ["11-23 07:30 CET", "11-24 07:30 CET"]


def test_missed_runs_do_not_burst() -> None:
    rule = Daily(time(7, 30), parse_days(None), BERLIN)
    # Asleep for a week: the next firing is the next slot after waking, not seven old ones.
    assert firings(rule, local(2026, 11, 28, 9, 0), 1) == ["11-29 07:30 CET"]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2026, 1, 31, 6, 0), ["02-28 06:00 CET", "03-31 06:00 CEST", "04-30 06:00 CEST"]),
        (datetime(2028, 1, 31, 6, 0), ["02-29 06:00 CET", "03-31 06:00 CEST", "04-30 06:00 CEST"]),
    ],
)
def test_monthly_clamps_to_month_end(start: datetime, expected: list[str]) -> None:
    rule = Repeating(start, "month", 1, BERLIN)
    assert firings(rule, start.replace(tzinfo=BERLIN), 3) == expected


def test_hourly_counts_elapsed_time_across_dst() -> None:
    rule = Repeating(datetime(2026, 3, 29, 0, 15), "hour", 1, BERLIN)
    assert firings(rule, local(2026, 3, 29, 0, 30), 3) == [
        "03-29 01:15 CET",
        "03-29 03:15 CEST",
        "03-29 04:15 CEST",
    ]


def test_every_second_day_keeps_wall_time_across_dst() -> None:
    rule = Repeating(datetime(2026, 3, 27, 6, 0), "day", 2, BERLIN)
    assert firings(rule, local(2026, 3, 27, 7, 0), 2) == ["03-29 06:00 CEST", "03-31 06:00 CEST"]


def test_repeating_fires_first_at_a_future_start() -> None:
    rule = Repeating(datetime(2026, 12, 1, 6, 0), "week", 1, BERLIN)
    assert firings(rule, local(2026, 11, 21, 9, 0), 2) == ["12-01 06:00 CET", "12-08 06:00 CET"]


def test_seconds_factor_from_a_past_start() -> None:
    rule = Repeating(datetime(2026, 11, 21, 9, 0, 0), "second", 15, BERLIN)
    assert firings(rule, local(2026, 11, 21, 9, 0, 20), 2) == ["11-21 09:00 CET", "11-21 09:00 CET"]
    nxt = rule.next_fire(local(2026, 11, 21, 9, 0, 20))
    assert nxt == local(2026, 11, 21, 9, 0, 30).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sat,sun", {5, 6}),
        ("fri-mon", {4, 5, 6, 0}),
        ("weekends", {5, 6}),
        (None, set(range(7))),
    ],
)
def test_parse_days(text: str | None, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("bad", ["7:3", "24:00", "noon", "12:60"])
def test_parse_time_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(bad)


def test_invalid_repetition_is_refused() -> None:
    with pytest.raises(ValueError, match="factor"):
        Repeating(datetime(2026, 1, 1), "day", 0, BERLIN)
