"""DaemonPool counts a queued call as unfinished: it runs even if its caller has given up."""

from __future__ import annotations

import asyncio
import threading

from roost.runtime.threads import DaemonPool


async def test_a_queued_call_is_unfinished_until_it_has_run() -> None:
    pool = DaemonPool("test", 1)
    release = threading.Event()
    ran = threading.Event()
    first = asyncio.ensure_future(pool.run(release.wait))
    second = asyncio.ensure_future(pool.run(ran.set))
    while pool.busy == 0:  # the thread has taken the first call
        await asyncio.sleep(0.001)
    assert (pool.busy, pool.unfinished) == (1, 2)
    second.cancel()  # the caller gives up (a scheduler stopping): the call still runs
    release.set()
    await first
    while pool.unfinished:
        await asyncio.sleep(0.001)
    assert ran.is_set()
    pool.close()
