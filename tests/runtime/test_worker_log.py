"""A failing worker logs its first traceback, then a count now and then, and a line when it recovers."""

from __future__ import annotations

import logging

import pytest

from roost.runtime.clock import FakeClock
from roost.runtime.workers import FAILING_SUMMARY_EVERY_S, Every, Scheduler

LOGGER = "roost.runtime.workers"


async def run_failing(clock: FakeClock, failing: list[bool], seconds: float) -> Scheduler:
    sched = Scheduler(clock)

    async def probe() -> None:
        if failing[0]:
            raise OSError("1-Wire bus gone")

    sched.add(probe, Every(5))
    await sched.start()
    await clock.advance(seconds)
    return sched


async def test_an_hour_of_failures_logs_one_traceback_and_a_few_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    clock = FakeClock()
    sched = await run_failing(clock, [True], 3600)
    await sched.stop()
    records = [r for r in caplog.records if r.name == LOGGER]
    assert sched.health()["probe"]["errors"] == 721
    assert [r.exc_info is not None for r in records].count(True) == 1
    assert records[0].exc_info is not None and "probe" in records[0].getMessage()
    summaries = [r.getMessage() for r in records[1:]]
    assert len(summaries) == 3600 / FAILING_SUMMARY_EVERY_S
    assert summaries[-1] == "worker probe failed 721 times in a row; last: OSError: 1-Wire bus gone"


async def test_a_recovered_worker_says_so_once_and_logs_its_next_failure_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    clock = FakeClock()
    failing = [True]
    sched = await run_failing(clock, failing, 60)
    failing[0] = False
    await clock.advance(60)
    failing[0] = True
    await clock.advance(10)
    await sched.stop()
    records = [r for r in caplog.records if r.name == LOGGER]
    recovered = [r.getMessage() for r in records if "recovered" in r.getMessage()]
    assert recovered == ["worker probe recovered after 13 failed runs"]
    assert [r.exc_info is not None for r in records].count(True) == 2
    assert sched.health()["probe"]["ok"] is False
