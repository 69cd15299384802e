"""Workers on a fake clock: cadence, no bursts, isolation of failures and hangs.

The clock waits for sync runs on their threads (`clock.watch(workers_busy)`), so
no test sleeps real time to let a thread finish.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, time

import pytest

from roost.core.schedule import Daily, parse_days
from roost.runtime.clock import FakeClock
from roost.runtime.workers import Every, Scheduler
from roost.testing import eventually, workers_busy


def watched(clock: FakeClock, *, but: str = "") -> Scheduler:
    """Return a Scheduler on `clock` whose sync runs the clock waits for (all but `but`'s)."""
    sched = Scheduler(clock)
    clock.watch(lambda: [name for name in workers_busy(sched) if name != but])
    return sched


async def test_interval_worker_runs_at_start_and_on_its_grid() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    runs: list[float] = []

    async def tick() -> None:
        runs.append(clock.monotonic())

    sched.add(tick, Every(10))
    await sched.start()
    await clock.advance(35)
    await sched.stop()
    assert runs == [0, 10, 20, 30]


async def test_overrunning_worker_skips_slots_instead_of_bursting() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    runs: list[float] = []

    async def slow() -> None:
        runs.append(clock.monotonic())
        await clock.sleep(25)  # takes two and a half intervals

    sched.add(slow, Every(10))
    await sched.start()
    await clock.advance(100)
    await sched.stop()
    assert runs == [0, 30, 60, 90]


async def test_a_raising_worker_keeps_its_schedule_and_others_run() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    good: list[float] = []

    async def bad() -> None:
        raise RuntimeError("sensor unplugged")

    async def fine() -> None:
        good.append(clock.monotonic())

    sched.add(bad, Every(5))
    sched.add(fine, Every(5))
    await sched.start()
    await clock.advance(20)
    await sched.stop()
    health = sched.health()
    assert health["bad"]["errors"] == health["bad"]["runs"] == 5
    assert health["bad"]["ok"] is False
    assert health["bad"]["last_error"] == "RuntimeError: sensor unplugged"
    assert len(good) == 5
    assert health["fine"]["ok"] is True


async def test_calendar_worker_fires_at_local_time_and_after_a_clock_jump_once() -> None:
    clock = FakeClock(start=1_795_250_000.0)  # 2026-11-21 ~09:33 Berlin
    sched = watched(clock)
    fired: list[float] = []
    sched.add(lambda: fired.append(clock.time()), Daily(time(10, 0), parse_days(None), _berlin()), "alarm")
    await sched.start()
    await clock.advance(3600)  # the sync call runs on the worker's own thread, waited for
    assert len(fired) == 1
    clock.jump_wall(3 * 86400)  # NTP moves the clock three days ahead
    await clock.advance(60)
    await sched.stop()
    assert len(fired) == 2  # one catch-up run, not three


async def test_a_hung_sync_worker_does_not_block_others_or_stop() -> None:
    clock = FakeClock()
    sched = watched(clock, but="hung")
    release = threading.Event()
    other: list[float] = []
    sched.add(release.wait, Every(1), "hung")
    sched.add(lambda: other.append(clock.monotonic()), Every(1), "other")
    await sched.start()
    try:
        await clock.advance(3)
        await sched.stop(grace_s=0.1)
    finally:
        release.set()
    assert other == [0, 1, 2, 3]
    assert sched.health()["hung"]["running"] is True


def test_worker_names_are_made_unique() -> None:
    sched = Scheduler(FakeClock())

    def read() -> None: ...

    names = [sched.add(read, Every(1)).name for _ in range(3)]
    assert names == ["read", "read_2", "read_3"]


def _berlin():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


async def test_a_cancelled_run_is_not_counted() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)

    async def long() -> None:
        await clock.sleep(100)

    sched.add(long, Every(1000))
    await sched.start()
    await clock.advance(1)
    await sched.stop()
    assert sched.health()["long"]["runs"] == 0
    assert sched.health()["long"]["running"] is False


async def test_a_running_worker_keeps_the_ok_of_its_last_run() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    unwatch = clock.watch(lambda: workers_busy(sched))
    release = threading.Event()
    runs = 0

    def read() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            release.wait(5)

    sched.add(read, Every(10), "read")
    await sched.start()
    try:
        await clock.advance(0)  # the first run, on the worker's thread, went fine
        assert sched.health()["read"]["runs"] == 1
        unwatch()  # the second run hangs until released: not waited for
        await clock.advance(10)
        health = await eventually(lambda: (h := sched.health()["read"])["running"] and h)
        assert health["ok"] is True
    finally:
        release.set()
        await sched.stop()
    assert sched.health()["read"]["ok"] is True


class _BrokenRule:
    def next_fire(self, after: datetime) -> datetime | None:
        raise RuntimeError("no idea when")

    def describe(self) -> str:
        return "broken"


async def test_a_rule_that_raises_is_reported_not_lost() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    sched.add(lambda: None, _BrokenRule(), "odd")
    await sched.start()
    await clock.advance(1)
    await sched.stop()
    health = sched.health()["odd"]
    assert health["ok"] is False
    assert health["last_error"] == "RuntimeError: no idea when"


async def test_a_worker_added_while_running_starts_even_if_it_is_the_first() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    runs: list[float] = []

    async def tick() -> None:
        runs.append(clock.monotonic())

    await sched.start()
    sched.add(tick, Every(10))
    await clock.advance(15)
    await sched.stop()
    assert runs == [0, 10]


@pytest.mark.parametrize(("started_at", "interval_s"), [(1.0, 0.1), (0.3, 0.7), (12345.678, 0.1)])
async def test_the_interval_grid_survives_float_rounding(started_at: float, interval_s: float) -> None:
    # anchor + k * interval, less anchor, is not always k * interval in floats: a slot
    # that has just run must still count as passed, or it runs again (and again).
    clock = FakeClock()
    await clock.advance(started_at)
    sched = Scheduler(clock)
    runs: list[float] = []

    async def tick() -> None:
        runs.append(clock.monotonic() - started_at)
        await asyncio.sleep(0)  # yields, so that a slot stuck in the past cannot hang the test

    sched.add(tick, Every(interval_s))
    await sched.start()
    await clock.advance(interval_s * 10.5)
    await sched.stop()
    assert [round(r / interval_s, 6) for r in runs] == list(range(11))
