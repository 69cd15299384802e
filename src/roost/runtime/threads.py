"""Daemon threads for blocking user code, so a hung sensor read can never block shutdown."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class DaemonPool:
    """Up to `max_threads` daemon threads that run blocking calls for the event loop.

    Unlike `asyncio.to_thread`, the threads are daemons: a call that never returns
    costs its thread, not the process's exit.
    """

    def __init__(self, name: str, max_threads: int) -> None:
        self.name = name
        self.max_threads = max_threads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._waiting = 0

    @property
    def busy(self) -> int:
        """Return how many calls are running now."""
        return self._busy

    @property
    def unfinished(self) -> int:
        """Return how many calls are queued or running."""
        with self._lock:
            return self._busy + self._waiting

    async def run(self, func: Callable[[], T]) -> T:
        """Run `func()` in a pool thread and return its result. Loop only."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._waiting += 1
            if self._waiting > len(self._threads) - self._busy and len(self._threads) < self.max_threads:
                self._start_thread()
        self._jobs.put((func, loop, fut))
        return await fut

    def close(self) -> None:
        """Let idle threads end; busy ones end after their call."""
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads.clear()

    def _start_thread(self) -> None:
        n = len(self._threads) + 1
        thread = threading.Thread(target=self._serve, name=f"{self.name}-{n}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            func, loop, fut = job
            with self._lock:
                self._waiting -= 1
                # The caller gave up (cancelled at shutdown) before the call began: skip it.
                # Reading done() from this thread is a benign race; worst case it runs once.
                if fut.done():
                    continue
                self._busy += 1
            result: Any = None
            error: BaseException | None = None
            try:
                result = func()
            except BaseException as exc:  # delivered to the awaiting task, which logs it
                error = exc
            finally:
                # No longer busy before the caller hears back, so that a caller who got its
                # result never sees the call still counted (a stopping scheduler, /healthz).
                with self._lock:
                    self._busy -= 1
            _deliver(loop, fut, result, error)


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
