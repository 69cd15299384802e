"""eventually: the one bounded wait of roost's tests, blocking or awaited."""

from __future__ import annotations

import asyncio
import threading

import pytest

from roost.testing import NeverHeld, eventually


def test_blocking_returns_the_truthy_value_once_it_holds() -> None:
    box: list[int] = []
    timer = threading.Timer(0.05, lambda: box.append(7))
    timer.start()
    assert eventually(lambda: box and box[0]) == 7
    timer.join()


async def test_awaited_with_an_async_predicate() -> None:
    box: list[int] = []
    asyncio.get_running_loop().call_later(0.05, box.append, 3)

    async def ready() -> int:
        return box[0]  # an IndexError (a LookupError) counts as not yet

    assert await eventually(ready) == 3


def test_a_failing_assertion_counts_as_not_yet_and_is_reported() -> None:
    def check() -> bool:
        assert 1 + 1 == 3, "arithmetic"
        return True

    with pytest.raises(NeverHeld, match=r"did not hold within 0.05 s; last: AssertionError: arithmetic"):
        eventually(check, 0.05)


async def test_awaited_timeout_names_the_condition() -> None:
    with pytest.raises(NeverHeld, match=r"the door opens did not hold within 0.05 s; last: False"):
        await eventually(lambda: False, 0.05, message="the door opens")


def test_an_async_predicate_without_a_loop_is_a_type_error() -> None:
    async def ready() -> bool:
        return True

    with pytest.raises(TypeError, match="await eventually"):
        eventually(ready)
