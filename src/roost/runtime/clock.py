"""Time as a seam: the system clock in production, a fake one with `advance()` in tests."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import time
from datetime import UTC, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Wall time for calendars and timestamps, monotonic time for intervals."""

    def time(self) -> float:
        """Return wall-clock seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Return seconds on a clock that never jumps."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of this clock's time. Loop only."""
        ...


class SystemClock:
    """The real clocks."""

    def time(self) -> float:
        """Return `time.time()`."""
        return time.time()

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep on the event loop. Loop only."""
        await asyncio.sleep(max(seconds, 0.0))


class FakeClock:
    """A clock that moves only when a test calls `advance()`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        """Return the fake wall time."""
        return self._wall

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        return self._mono

    async def sleep(self, seconds: float) -> None:
        """Wait until the fake clock has advanced by `seconds`. Loop only."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + max(seconds, 0.0), next(self._order), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper in deadline order and letting it run. Loop only."""
        await _let_tasks_run()  # tasks started just now must get to their first sleep
        target = self._mono + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._wall += deadline - self._mono
            self._mono = deadline
            if not fut.done():
                fut.set_result(None)
            await _let_tasks_run()
        self._wall += target - self._mono
        self._mono = target
        await _let_tasks_run()

    def jump_wall(self, seconds: float) -> None:
        """Move only the wall clock, as NTP does to a Raspberry Pi without an RTC."""
        self._wall += seconds


async def _let_tasks_run() -> None:
    # A woken task may pass through several awaits before it sleeps again.
    for _ in range(20):
        await asyncio.sleep(0)


def resolve_timezone(name: str | None = None) -> tzinfo:
    """Return the zone named, else $TZ, else the system's zone, else UTC."""
    if name:
        return ZoneInfo(name)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (KeyError, ValueError, OSError):
            pass
    try:
        import tzlocal

        return tzlocal.get_localzone()
    except Exception:  # no zone configured at all: a bare container
        return UTC
