"""DaemonPool: queued calls count as unfinished, and a call whose caller gave up is skipped."""

from __future__ import annotations

import asyncio
import threading

import pytest

from roost.runtime.threads import DaemonPool


async def test_a_queued_call_is_unfinished_until_its_turn() -> None:
    pool = DaemonPool("test", 1)
    release = threading.Event()
    first = asyncio.ensure_future(pool.run(release.wait))
    second = asyncio.ensure_future(pool.run(lambda: "done"))
    while pool.busy == 0:  # the thread has taken the first call
        await asyncio.sleep(0.001)
    assert (pool.busy, pool.unfinished) == (1, 2)
    release.set()
    await first
    assert await second == "done"
    assert pool.unfinished == 0
    pool.close()


async def test_a_queued_call_whose_caller_gave_up_is_skipped() -> None:
    pool = DaemonPool("test", 1)
    release = threading.Event()
    ran: list[str] = []
    first = asyncio.ensure_future(pool.run(release.wait))
    queued = asyncio.ensure_future(pool.run(lambda: ran.append("late")))
    while pool.busy == 0:
        await asyncio.sleep(0.001)
    queued.cancel()  # what a stopping scheduler does to a run still waiting for the thread
    release.set()
    await first
    while pool.unfinished:
        await asyncio.sleep(0.001)
    assert ran == []
    pool.close()


async def test_a_stuck_call_is_replaced_and_gives_its_thread_back_when_it_returns() -> None:
    pool = DaemonPool("test", 1, hard_cap=2)
    release = threading.Event()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await pool.run(release.wait, "hang")
    assert pool.stuck() == {"hang": 1}
    assert pool.in_flight("hang") == 1  # still holds its thread
    assert await pool.run(lambda: "ok", "other") == "ok"  # served by the replacement
    assert pool.threads == 2
    release.set()
    while pool.stuck() or pool.threads > 1:  # the surplus thread ends
        await asyncio.sleep(0.001)
    assert pool.in_flight("hang") == 0
    assert await pool.run(lambda: "again") == "again"
    pool.close()


async def test_stuck_calls_never_grow_the_pool_past_its_hard_cap() -> None:
    pool = DaemonPool("test", 1, hard_cap=2)
    release = threading.Event()
    for _ in range(2):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await pool.run(release.wait, "hang")
    assert pool.threads == 2
    with pytest.raises(TimeoutError):  # no third thread: the call waits in the queue
        async with asyncio.timeout(0.05):
            await pool.run(lambda: "late")
    assert (pool.threads, pool.in_flight("")) == (2, 0)
    release.set()
    assert await pool.run(lambda: "ok") == "ok"
    pool.close()
