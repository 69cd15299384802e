"""Daemon threads for blocking user code, so a hung sensor read can never block shutdown.

A call whose caller stopped waiting (a command timeout) while its thread still
runs it is *stuck*: the thread is left to it, counted, and replaced by a new
one up to a hard cap, so that one hung device call costs one thread, never the
whole pool. A stuck call that returns at last gives its thread back.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

# The states of a call; moved from one to the next under the pool's lock only.
_QUEUED, _RUNNING, _DROPPED, _DONE = range(4)


class _Call:
    __slots__ = ("abandoned", "func", "fut", "label", "loop", "started", "state")

    def __init__(
        self, func: Callable[[], Any], label: str, loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any]
    ) -> None:
        self.func = func
        self.label = label
        self.loop = loop
        self.fut = fut
        self.state = _QUEUED
        self.abandoned = False
        self.started = 0.0


class DaemonPool:
    """Up to `max_threads` daemon threads that run blocking calls for the event loop.

    Unlike `asyncio.to_thread`, the threads are daemons: a call that never returns
    costs its thread, not the process's exit. Threads running stuck calls do not
    count against `max_threads`; `hard_cap` bounds all threads together.
    """

    def __init__(
        self, name: str, max_threads: int, hard_cap: int | None = None, *, report_stuck: bool = True
    ) -> None:
        self.name = name
        # Off for workers: a run cut short at shutdown is no news, and their schedulers
        # say themselves what is left behind.
        self.report_stuck = report_stuck
        self.max_threads = max_threads
        self.hard_cap = max(hard_cap if hard_cap is not None else max_threads, max_threads)
        self._jobs: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._waiting = 0
        self._serial = 0
        self._in_flight: dict[str, int] = {}
        self._stuck: dict[str, int] = {}
        self._stuck_total = 0
        self.stuck_ever = 0

    @property
    def busy(self) -> int:
        """Return how many calls are running now (stuck ones included)."""
        return self._busy

    @property
    def unfinished(self) -> int:
        """Return how many calls are queued or running."""
        with self._lock:
            return self._busy + self._waiting

    @property
    def threads(self) -> int:
        """Return how many threads the pool has."""
        return len(self._threads)

    def in_flight(self, label: str) -> int:
        """Return how many calls labelled `label` are queued or running (stuck ones included)."""
        return self._in_flight.get(label, 0)

    def stuck(self) -> dict[str, int]:
        """Return the number of stuck calls by label."""
        with self._lock:
            return {k: v for k, v in self._stuck.items() if v}

    async def run(self, func: Callable[[], T], label: str = "") -> T:
        """Run `func()` in a pool thread and return its result. Loop only."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        call = _Call(func, label, loop, fut)
        with self._lock:
            self._waiting += 1
            self._in_flight[label] = self._in_flight.get(label, 0) + 1
            self._grow()
        self._jobs.put(call)
        try:
            return await fut
        except asyncio.CancelledError:
            self._give_up(call)
            raise

    def close(self) -> None:
        """Let idle threads end; busy ones end after their call."""
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads.clear()

    def _give_up(self, call: _Call) -> None:
        # The caller stopped waiting (a timeout, or shutdown).
        with self._lock:
            if call.state == _QUEUED:
                call.state = _DROPPED  # its thread skips it when its turn comes
                self._waiting -= 1
                self._release(call.label)
                return
            if call.state != _RUNNING:
                return
            call.abandoned = True
            self._stuck[call.label] = self._stuck.get(call.label, 0) + 1
            self._stuck_total += 1
            self.stuck_ever += 1
            stuck = self._stuck_total
            self._grow()
        if not self.report_stuck:
            return
        log.warning(
            "%s: a call of %s is stuck (its caller gave up after %.1f s); its thread is left to it "
            "and replaced (%d stuck now)",
            self.name,
            call.label or "a job",
            time.monotonic() - call.started,
            stuck,
        )

    def _grow(self) -> None:
        # Under the lock. A new thread when more calls wait than threads are free,
        # while the threads not stuck number under max_threads and all under the cap.
        n = len(self._threads)
        if self._waiting > n - self._busy and n - self._stuck_total < self.max_threads and n < self.hard_cap:
            self._serial += 1
            thread = threading.Thread(target=self._serve, name=f"{self.name}-{self._serial}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _release(self, label: str) -> None:
        left = self._in_flight.get(label, 0) - 1
        if left > 0:
            self._in_flight[label] = left
        else:
            self._in_flight.pop(label, None)

    def _serve(self) -> None:
        while True:
            call = self._jobs.get()
            if call is None:
                return
            with self._lock:
                if call.state != _QUEUED:  # dropped: its caller left before its turn
                    continue
                # Cancelled, its caller not yet told (Task.cancel() cancels the future at
                # once): skip it too. Reading done() here is a benign race; at worst it runs.
                if call.fut.done():
                    call.state = _DROPPED
                    self._waiting -= 1
                    self._release(call.label)
                    continue
                call.state = _RUNNING
                call.started = time.monotonic()
                self._waiting -= 1
                self._busy += 1
            result: Any = None
            error: BaseException | None = None
            try:
                result = call.func()
            except BaseException as exc:  # delivered to the awaiting task, which logs it
                error = exc
            finally:
                # No longer busy before the caller hears back, so that a caller who got its
                # result never sees the call still counted (a stopping scheduler, /healthz).
                with self._lock:
                    call.state = _DONE
                    self._busy -= 1
                    self._release(call.label)
                    surplus = False
                    if call.abandoned:
                        self._stuck[call.label] -= 1
                        self._stuck_total -= 1
                        # Its replacement is serving already: one thread too many now.
                        surplus = len(self._threads) - self._stuck_total > self.max_threads
                        if surplus and threading.current_thread() in self._threads:
                            self._threads.remove(threading.current_thread())
            if call.abandoned:
                log.log(
                    logging.INFO if self.report_stuck else logging.DEBUG,
                    "%s: the stuck call of %s returned after %.1f s",
                    self.name,
                    call.label or "a job",
                    time.monotonic() - call.started,
                )
                if surplus:
                    return
                continue
            _deliver(call.loop, call.fut, result, error)


def _deliver(
    loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    def settle() -> None:
        if fut.done():  # the awaiting task was cancelled meanwhile
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop has closed: nobody is waiting any more
        log.debug("result of %r dropped: event loop closed", fut)
