"""raspend's handlers and schedules: ScheduleRepetitionType, triggers, prepare-then-invoke."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from roost.compat.raspend.handlers import (
    MIN_INTERVAL_S,
    HandlerRun,
    OnceAtStart,
    ScheduleRepetitionType,
    ThreadHandlerBase,
    interval_trigger,
    scheduled_rule,
)
from roost.runtime.workers import Every

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 5, 6, 10, 0, 0)  # naive local time, a Monday


def local(dt: datetime) -> datetime:
    """Return an aware UTC datetime for a naive Berlin wall time."""
    return dt.replace(tzinfo=BERLIN).astimezone(UTC)


def first_fire(rule_args: dict[str, Any], now: datetime = NOW) -> datetime | None:
    """Return the first run of createScheduledWorkerThread's arguments, called at `now`."""
    args = (rule_args.get("time"), rule_args.get("date"), rule_args.get("type"), rule_args.get("factor", 1))
    rule = scheduled_rule(*args, BERLIN, now)
    return rule.next_fire(local(now))


def test_raspend_repetition_types_keep_their_values() -> None:
    assert [(m.name, m.value) for m in ScheduleRepetitionType] == [
        ("WEEKLY", 1),
        ("DAILY", 2),
        ("HOURLY", 3),
        ("MINUTELY", 4),
        ("SECOND", 5),
    ]


@pytest.mark.parametrize(
    ("kind", "factor", "expected"),
    [
        (ScheduleRepetitionType.SECOND, 15, NOW + timedelta(seconds=15)),
        (ScheduleRepetitionType.MINUTELY, 15, NOW + timedelta(minutes=15)),
        (ScheduleRepetitionType.HOURLY, 2, NOW + timedelta(hours=2)),
        (ScheduleRepetitionType.DAILY, 1, NOW + timedelta(days=1)),
        (ScheduleRepetitionType.WEEKLY, 1, NOW + timedelta(weeks=1)),
        (None, 1, NOW + timedelta(days=1)),  # raspend's default is DAILY
        (ScheduleRepetitionType.MINUTELY, 1.5, NOW + timedelta(seconds=90)),
    ],
)
def test_no_start_means_one_period_from_now(
    kind: ScheduleRepetitionType | None, factor: float, expected: datetime
) -> None:
    # raspend takes "now" as the start, finds it passed when its thread starts and
    # waits a period: the README's "every 15 minutes starting immediately" first
    # writes after 15 minutes.
    assert first_fire({"type": kind, "factor": factor}) == local(expected)


def test_future_start_fires_at_start() -> None:
    fire = first_fire({"time": time(22, 30), "type": ScheduleRepetitionType.SECOND, "factor": 15})
    assert fire == local(datetime(2024, 5, 6, 22, 30))


def test_past_start_fires_at_the_next_repetition_after_now() -> None:
    fire = first_fire(
        {"time": time(9, 58, 10), "date": date(2024, 5, 6), "type": ScheduleRepetitionType.MINUTELY}
    )
    assert fire == local(datetime(2024, 5, 6, 10, 0, 10))


def test_daily_keeps_wall_time_across_dst() -> None:
    # raspend's naive arithmetic waited 24 h of real time, so after the spring
    # change its 07:00 job ran at 08:00 once; roost keeps 07:00.
    rule = scheduled_rule(time(7, 0), date(2024, 3, 30), None, 1, BERLIN, datetime(2024, 3, 30, 6, 0))
    after_first = rule.next_fire(local(datetime(2024, 3, 30, 7, 0)))
    assert after_first == datetime(2024, 3, 31, 7, 0, tzinfo=BERLIN).astimezone(UTC)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"type": 2}, TypeError),
        ({"type": ScheduleRepetitionType.DAILY, "factor": 0}, ValueError),
        ({"type": ScheduleRepetitionType.DAILY, "factor": "2"}, TypeError),
    ],
)
def test_invalid_schedules_fail_as_in_raspend(args: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        first_fire(args)


@pytest.mark.parametrize(
    ("timeout", "interval"),
    [(60, 60.0), (0.5, 0.5), (0, MIN_INTERVAL_S), (-1, MIN_INTERVAL_S)],
)
def test_wait_timeout_is_an_interval(timeout: float, interval: float) -> None:
    assert interval_trigger(timeout) == Every(interval)


def test_wait_timeout_none_runs_once() -> None:
    trigger = interval_trigger(None)
    assert isinstance(trigger, OnceAtStart)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert trigger.next_fire(start) == start + timedelta(microseconds=1)
    assert trigger.next_fire(start + timedelta(seconds=1)) is None


def test_wait_timeout_must_be_a_number() -> None:
    with pytest.raises(TypeError):
        interval_trigger("60")  # type: ignore[arg-type]


class Sensor(ThreadHandlerBase):
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def prepare(self) -> None:
        self.calls.append("prepare")
        if self.failures:
            self.failures -= 1
            raise OSError("bus not ready")

    def invoke(self) -> None:
        self.calls.append("invoke")


def test_prepare_is_retried_until_it_succeeds_then_never_again() -> None:
    sensor = Sensor(failures=1)
    run = HandlerRun(sensor, threading.Event(), threading.Lock())
    with pytest.raises(OSError, match="bus not ready"):
        run()
    run()
    run()
    assert sensor.calls == ["prepare", "prepare", "invoke", "invoke"]


def test_no_run_starts_once_stopping() -> None:
    sensor = Sensor(failures=0)
    stopping = threading.Event()
    run = HandlerRun(sensor, stopping, threading.Lock())
    run()
    stopping.set()
    run()
    assert sensor.calls == ["prepare", "invoke"]


def test_handler_base_is_abstract_and_aborted_follows_the_flag() -> None:
    with pytest.raises(TypeError):
        ThreadHandlerBase()  # type: ignore[abstract]
    sensor = Sensor(failures=0)
    assert sensor.aborted() is False  # no flag yet: not aborted
    flag = threading.Event()
    sensor.setShutdownFlag(flag)
    sensor.setSharedDict({"a": 1})
    assert sensor.aborted() is False and sensor.sharedDict == {"a": 1}
    flag.set()
    assert sensor.aborted() is True
