"""Time as a seam: the system clock in production, a fake one with `advance()` in tests."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Sized
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
    """A clock that moves only when a test calls `advance()`.

    `advance()` wakes sleepers in deadline order, and after each wake-up it
    settles: the loop runs until nothing is ready to run, and work that
    `watch()` was told about (calls on worker threads) has finished. So the
    runs due in a stretch of fake time happen one after another, as they
    would in real time, with no real sleeping. `roost.testing` builds on it.
    """

    def __init__(
        self, start: float = 1_700_000_000.0, *, min_rounds: int = 20, settle_timeout_s: float = 10.0
    ) -> None:
        self._wall = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._probes: list[Callable[[], Iterable[str]]] = []
        # Loop iterations given to woken tasks at the least, before the loop counts as quiet.
        self.min_rounds = min_rounds
        self.settle_timeout_s = settle_timeout_s

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

    def next_deadline(self) -> float | None:
        """Return the monotonic time of the earliest sleeper, if any."""
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleeps
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def watch(self, busy: Callable[[], Iterable[str]]) -> Callable[[], None]:
        """Make `settle()` wait while `busy()` names work still under way; return the unwatch function."""
        self._probes.append(busy)

        def unwatch() -> None:
            if busy in self._probes:
                self._probes.remove(busy)

        return unwatch

    async def settle(self) -> None:
        """Run the loop until it is quiet and no watched work is busy. Loop only.

        Raise TimeoutError naming the busy work if it is still busy after
        `settle_timeout_s` of real time (a hung sensor read in a test).
        """
        # Real time: this waits for real threads, not for the fake clock.
        started = time.monotonic()
        while True:
            await _let_tasks_run(self.min_rounds)
            busy = [name for probe in self._probes for name in probe()]
            if not busy:
                return
            waited = time.monotonic() - started
            if waited > self.settle_timeout_s:
                raise TimeoutError(f"still busy after {self.settle_timeout_s:g} s: {', '.join(busy)}")
            # A quick call (most are) is waited for by yielding, a slow one by sleeping:
            # a timer's sleep lasts at least a millisecond, even once the thread is done.
            await asyncio.sleep(0 if waited < _SPIN_S else 0.001)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper in deadline order and settling after each. Loop only."""
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError("a clock advances by a finite number of seconds, zero or more")
        await self.settle()  # tasks started just now must get to their first sleep
        target = self._mono + seconds
        while (deadline := self.next_deadline()) is not None and deadline <= target:
            self._wall += deadline - self._mono
            self._mono = deadline
            # Every sleeper due at this instant wakes together, in the order it slept.
            while self._sleepers and self._sleepers[0][0] <= deadline:
                _, _, fut = heapq.heappop(self._sleepers)
                if not fut.done():
                    fut.set_result(None)
            await self.settle()
        self._wall += target - self._mono
        self._mono = target
        await self.settle()

    def jump_wall(self, seconds: float) -> None:
        """Move only the wall clock, as NTP does to a Raspberry Pi without an RTC."""
        self._wall += seconds


# How long settle() yields to the loop, rather than sleeping, while a thread finishes.
_SPIN_S = 0.002
# Iterations given to woken tasks on a loop whose ready queue cannot be seen.
_BLIND_ROUNDS = 20
# Past this many loop iterations in one settle, a task that never sleeps is spinning.
_MAX_ROUNDS = 10_000


async def sleep_unless_woken(clock: Clock, seconds: float, wake: asyncio.Event) -> None:
    """Sleep `seconds` on `clock`, or less if `wake` is set meanwhile (a deadline moved closer)."""
    sleep = asyncio.ensure_future(clock.sleep(max(seconds, 0.0)))
    poked = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait((sleep, poked), return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleep.cancel()
        poked.cancel()


async def settle_loop(min_rounds: int = 1) -> None:
    """Run the event loop until nothing is ready to run: every task waits on a timer, thread or socket."""
    await _let_tasks_run(min_rounds)


def _ready_queue(loop: asyncio.AbstractEventLoop) -> Sized | None:
    return getattr(loop, "_ready", None)


async def _let_tasks_run(min_rounds: int) -> None:
    # A woken task may pass through several awaits before it sleeps again. CPython's
    # loop keeps its runnable callbacks in `_ready`: once that is empty when this task
    # resumes, every other task is waiting on something (the clock, a thread, a socket).
    ready = _ready_queue(asyncio.get_running_loop())
    if ready is None:  # another loop (uvloop): no way to see that it is quiet, so give it time
        min_rounds = max(min_rounds, _BLIND_ROUNDS)
    for n in range(_MAX_ROUNDS):
        await asyncio.sleep(0)
        if n + 1 >= min_rounds and (ready is None or not ready):
            return


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
