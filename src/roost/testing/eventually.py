"""`eventually`: wait, bounded, until a condition holds; the one polling loop of roost's tests."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_INTERVAL_S = 0.01


class NeverHeld(AssertionError):
    """The condition did not hold within the timeout (an AssertionError, so pytest shows it as a failure)."""


def eventually(
    predicate: Callable[[], Any],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    message: str | None = None,
) -> Any:
    """Wait until `predicate()` returns a truthy value, and return that value.

    In a coroutine, `await eventually(...)`: the predicate may then be async too.
    Elsewhere the call blocks. A predicate that raises AssertionError (or a
    KeyError or LookupError, for a value not there yet) counts as not yet. After
    `timeout_s` of real time it raises NeverHeld with the last value or error.
    The timeout is a bound for a broken test, never a timing assertion: keep it
    generous.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _wait_blocking(predicate, timeout_s, interval_s, message)
    return _wait_async(predicate, timeout_s, interval_s, message)


def _wait_blocking(
    predicate: Callable[[], Any], timeout_s: float, interval_s: float, message: str | None
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = predicate()
        except (AssertionError, LookupError) as exc:
            value, last = None, exc
        else:
            if inspect.isawaitable(value):
                _close(value)
                raise TypeError("an async predicate needs `await eventually(...)` in a coroutine")
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise NeverHeld(_failure(predicate, timeout_s, last, message))
        time.sleep(interval_s)


async def _wait_async(
    predicate: Callable[[], Any | Awaitable[Any]], timeout_s: float, interval_s: float, message: str | None
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
        except (AssertionError, LookupError) as exc:
            value, last = None, exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise NeverHeld(_failure(predicate, timeout_s, last, message))
        await asyncio.sleep(interval_s)


def _close(value: Any) -> None:
    close = getattr(value, "close", None)
    if close is not None:
        close()  # no "never awaited" warning for the coroutine refused


def _failure(predicate: Callable[[], Any], timeout_s: float, last: Any, message: str | None) -> str:
    what = message or getattr(predicate, "__qualname__", repr(predicate))
    shown = f"{type(last).__name__}: {last}" if isinstance(last, BaseException) else repr(last)
    return f"{what} did not hold within {timeout_s:g} s; last: {shown}"
