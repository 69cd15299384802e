"""Schedule arithmetic across DST days of two zones: next change, sun rules, date exceptions, preview."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roost.core.errors import InvalidSchedule
from roost.core.weekgrid import constant_week, paint
from roost.core.weekplan import (
    Calendar,
    DaySun,
    Schedule,
    changes,
    check_name,
    next_change,
    parse_anchor,
    parse_schedule,
    preview,
    value_at,
)

AMS, NYC = ZoneInfo("Europe/Amsterdam"), ZoneInfo("America/New_York")
# (zone, a spring-forward day, a fall-back day) in 2026.
DST_DAYS = [(AMS, date(2026, 3, 29), date(2026, 10, 25)), (NYC, date(2026, 3, 8), date(2026, 11, 1))]
ZONES_AND_DAYS = [
    (tz, d) for tz, spring, autumn in DST_DAYS for d in (spring, autumn, spring + timedelta(days=40))
]

cells = st.sampled_from([-1, 0, 0, 8, 25])
weeks = st.lists(st.lists(cells, min_size=96, max_size=96), min_size=7, max_size=7)
# Runs of one value, as people paint them: few changes a day.
runs = st.lists(st.tuples(st.integers(1, 40), cells), min_size=1, max_size=12)


def week_of_runs(parts: list[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    flat: list[int] = []
    while len(flat) < 7 * 96:
        for length, value in parts:
            flat += [value] * length
    return tuple(tuple(flat[d * 96 : (d + 1) * 96]) for d in range(7))


def midnight(tz: ZoneInfo, day: date) -> float:
    return datetime.combine(day, time(0), tz).timestamp()


def wall(tz: ZoneInfo, ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES_AND_DAYS), st.one_of(weeks, runs.map(week_of_runs)), st.integers(0, 2 * 86400))
def test_next_change_is_the_first_instant_with_another_value(
    zone_day: tuple[ZoneInfo, date], week: list[list[int]], offset_s: int
) -> None:
    tz, day = zone_day
    schedule, cal = Schedule("s", tuple(tuple(d) for d in week)), Calendar(tz)
    start = midnight(tz, day) - 86400 + offset_s
    found = next_change(schedule, start, cal)
    now = value_at(schedule, start, cal)
    if found is None:
        assert all(value_at(schedule, start + k * 900, cal) == now for k in range(8 * 96))
        return
    at, value = found
    assert at > start and value != now and value_at(schedule, at, cal) == value
    local = wall(tz, at)
    assert local.minute % 15 == 0 and local.second == 0  # only at a wall-clock quarter-hour
    # Nothing changed before it: every quarter-hour start in between has the old value.
    probe = start
    while probe < at:
        assert value_at(schedule, probe, cal) == now
        probe = (int(probe) // 900 + 1) * 900


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ZONES_AND_DAYS), runs.map(week_of_runs))
def test_a_day_of_changes_replays_the_schedule_without_extra_switching(
    zone_day: tuple[ZoneInfo, date], week: tuple[tuple[int, ...], ...]
) -> None:
    tz, day = zone_day
    schedule, cal = Schedule("s", week), Calendar(tz)
    start, end = midnight(tz, day), midnight(tz, day + timedelta(days=1))
    found = changes(schedule, start, end, cal)
    values = [value_at(schedule, start, cal)] + [v for _, v in found]
    assert all(a != b for a, b in itertools.pairwise(values))  # each change switches something
    for t in range(int(start), int(end), 300):
        expected = values[sum(1 for at, _ in found if at <= t)]
        assert value_at(schedule, t, cal) == expected


@pytest.mark.parametrize(("tz", "spring"), [(AMS, date(2026, 3, 29)), (NYC, date(2026, 3, 8))])
def test_the_missing_spring_hour_is_skipped(tz: ZoneInfo, spring: date) -> None:
    # On only in the hour that does not exist (02:00-03:00): nothing happens that day.
    schedule = Schedule("s", paint(constant_week(), [spring.weekday()], "02:00", "03:00", -1))
    cal = Calendar(tz)
    assert changes(schedule, midnight(tz, spring), midnight(tz, spring + timedelta(days=1)), cal) == []
    # On from 02:30 to 04:00: the lamp comes on at 03:00, the first wall time that exists.
    schedule = Schedule("s", paint(constant_week(), [spring.weekday()], "02:30", "04:00", -1))
    at, value = next_change(schedule, midnight(tz, spring), cal) or (0.0, 0)
    assert (wall(tz, at).strftime("%H:%M"), value) == ("03:00", -1)


@pytest.mark.parametrize(("tz", "autumn"), [(AMS, date(2026, 10, 25)), (NYC, date(2026, 11, 1))])
def test_the_repeated_autumn_hour_applies_its_slots_each_time(tz: ZoneInfo, autumn: date) -> None:
    hour = "02:00" if tz is AMS else "01:00"  # the wall hour that happens twice
    nxt = f"{int(hour[:2]) + 1:02d}:00"
    cal = Calendar(tz)
    day = (midnight(tz, autumn), midnight(tz, autumn + timedelta(days=1)))
    quarter = Schedule("s", paint(constant_week(), [autumn.weekday()], hour, hour[:3] + "15", -1))
    found = [(wall(tz, t).strftime("%H:%M"), v) for t, v in changes(quarter, *day, cal)]
    assert found == [(hour, -1), (hour[:3] + "15", 0), (hour, -1), (hour[:3] + "15", 0)]
    whole = Schedule("s", paint(constant_week(), [autumn.weekday()], hour, nxt, -1))
    found = [(wall(tz, t).strftime("%H:%M"), v) for t, v in changes(whole, *day, cal)]
    assert found == [(hour, -1), (nxt, 0)]  # on through both passes: no switch at the fold


def sun_table(tz: ZoneInfo, first: date, days: int, sunset: str = "16:40") -> dict[date, DaySun]:
    out = {}
    for k in range(days):
        d = first + timedelta(days=k)
        at = datetime.combine(d, time.fromisoformat(sunset), tz).timestamp()
        out[d] = DaySun(at - 9 * 3600, at)
    return out


def test_on_from_sunset_minus_30_minutes_to_23_00() -> None:
    rule = {"type": "sun", "from": "sunset - 30 min", "to": "23:00"}
    schedule = parse_schedule({"name": "lamp", "week": constant_week(), "rules": [rule]})
    day = date(2026, 12, 1)
    cal = Calendar(AMS, sun_table(AMS, day - timedelta(days=2), 12))
    found = [
        (wall(AMS, t).strftime("%d %H:%M"), v)
        for t, v in changes(schedule, midnight(AMS, day), midnight(AMS, day) + 2 * 86400, cal)
    ]
    assert found == [("01 16:10", -1), ("01 23:00", 0), ("02 16:10", -1), ("02 23:00", 0)]
    assert schedule.to_json()["rules"] == [
        {"type": "sun", "from": "sunset-30m", "to": "23:00", "value": -1, "days": "daily"}
    ]


def test_a_sun_rule_that_would_end_before_it_starts_does_nothing() -> None:
    rule = {"type": "sun", "from": "sunset", "to": "21:00"}
    schedule = parse_schedule({"name": "late", "week": constant_week(), "rules": [rule]})
    day = date(2026, 6, 21)
    cal = Calendar(AMS, sun_table(AMS, day - timedelta(days=2), 12, sunset="22:05"))
    assert changes(schedule, midnight(AMS, day), midnight(AMS, day) + 86400, cal) == []


def test_holidays_run_as_sunday_and_a_vacation_runs_another_schedule() -> None:
    weekdays = paint(constant_week(), range(5), "07:00", "08:00", -1)
    away = Schedule("away", paint(constant_week(), range(7), "20:00", "21:00", -1))
    rules = [
        {"type": "holidays", "dates": ["2026-12-25"]},
        {"type": "vacation", "from": "2026-12-28", "to": "2026-12-29", "schedule": "away"},
    ]
    home = parse_schedule({"name": "home", "week": weekdays, "rules": rules})
    cal = Calendar(AMS, schedules={"away": away})

    def day_changes(d: date) -> list[str]:
        return [
            wall(AMS, t).strftime("%H:%M")
            for t, _ in changes(home, midnight(AMS, d), midnight(AMS, d) + 86400, cal)
        ]

    assert day_changes(date(2026, 12, 24)) == ["07:00", "08:00"]  # a Thursday
    assert day_changes(date(2026, 12, 25)) == []  # Christmas runs as Sunday
    assert day_changes(date(2026, 12, 28)) == ["20:00", "21:00"]  # on vacation
    assert day_changes(date(2026, 12, 30)) == ["07:00", "08:00"]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(ZONES_AND_DAYS), runs.map(week_of_runs), st.integers(0, 86400), st.integers(1, 48))
def test_the_preview_covers_the_hours_asked_in_segments_that_differ(
    zone_day: tuple[ZoneInfo, date], week: tuple[tuple[int, ...], ...], offset_s: int, hours: int
) -> None:
    tz, day = zone_day
    schedule, cal = Schedule("s", week), Calendar(tz)
    start = midnight(tz, day) + offset_s
    segments = preview(schedule, start, hours, cal)
    assert segments[0].start == start and segments[-1].end == start + hours * 3600
    assert all(a.end == b.start and a.value != b.value for a, b in itertools.pairwise(segments))
    assert all(value_at(schedule, s.start, cal) == s.value for s in segments)


@pytest.mark.parametrize(
    ("text", "event", "offset"),
    [
        ("23:00", "time", 82800),
        ("24:00", "time", 86400),
        ("sunset", "sunset", 0),
        ("sunset-30m", "sunset", -1800),
        ("sunrise + 1h", "sunrise", 3600),
        ("SUNSET - 45 min", "sunset", -2700),
    ],
)
def test_anchors(text: str, event: str, offset: int) -> None:
    anchor = parse_anchor(text)
    assert (anchor.event, anchor.offset_s) == (event, offset)
    assert parse_anchor(anchor.text()) == anchor


@pytest.mark.parametrize("text", ["25:00", "24:01", "noon", "sunset-13h", "", 5, None, "sunset-x"])
def test_bad_anchors(text: object) -> None:
    with pytest.raises(ValueError, match=r"time|sun|12 h"):
        parse_anchor(text)


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        ([{"type": "moon"}], "rule 0: type"),
        ([{"type": "sun", "from": "dusk", "to": "23:00"}], "rule 0"),
        ([{"type": "sun", "from": "18:00", "to": "23:00", "value": -3}], "value"),
        ([{"type": "holidays", "dates": ["2026-13-01"]}], "rule 0"),
        ([{"type": "vacation", "from": "2026-12-10", "to": "2026-12-01", "schedule": "x"}], "before"),
        ([{"type": "vacation", "from": "2026-12-01", "to": "2026-12-02", "schedule": "a b"}], "name"),
        ("nope", "rules"),
    ],
)
def test_bad_rules_are_refused_with_their_index(rules: object, fragment: str) -> None:
    with pytest.raises(InvalidSchedule, match=fragment):
        parse_schedule({"name": "x", "week": constant_week(), "rules": rules})


@pytest.mark.parametrize("name", ["", "a b", "x/y", "..", "é", "a" * 65, 7, None])
def test_bad_names(name: object) -> None:
    with pytest.raises(InvalidSchedule, match="name"):
        check_name(name)


def test_plugwise_form_and_round_trip() -> None:
    plugwise = {"name": "tv-evenings", "description": "d", "schedule": [[0] * 96] * 7}
    schedule = parse_schedule(plugwise)
    assert parse_schedule(schedule.to_json()) == schedule
