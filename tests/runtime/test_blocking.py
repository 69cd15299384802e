"""The one guard that keeps blocking calls off the event loop."""

from __future__ import annotations

import asyncio

import pytest

from roost.runtime.blocking import refuse_on_loop


def test_a_thread_without_a_loop_may_block() -> None:
    refuse_on_loop("thing.get()", "thing.aget()")


async def test_the_loop_thread_is_refused_and_told_the_twin() -> None:
    with pytest.raises(RuntimeError, match=r"thing\.get\(\) blocks .* `await thing\.aget\(\)`"):
        refuse_on_loop("thing.get()", "thing.aget()")
    await asyncio.to_thread(refuse_on_loop, "thing.get()", "thing.aget()")  # a worker thread may
