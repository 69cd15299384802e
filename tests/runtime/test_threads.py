"""DaemonPool: queued calls count as unfinished, and a call whose caller gave up is skipped."""

from __future__ import annotations

import asyncio
import threading

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
