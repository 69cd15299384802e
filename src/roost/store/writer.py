"""The one thread that writes the history database, fed task objects through a queue.

Each task runs alone on the writer's connection, in one transaction, and
settles a `concurrent.futures.Future` (the loop awaits it with
`asyncio.wrap_future`). Long jobs, like a purge, are cut into small tasks so
that the commits of new samples queue behind a few milliseconds of work at most.

A task that fails on a database error (a full or read-only disk, a file made
immutable) leaves the writer's connection suspect: SQLite opens a file it may
not write read-only without a word, and such a connection fails every commit
until it is closed. So the writer opens a fresh connection (`reconnect`)
before its next task, and again after each failure, until one succeeds: once
the disk is writable again, the next commit, and the final one at stop, go
through with what the engine kept.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from roost.core.errors import describe_error
from roost.store.engine import Engine, Retention, Sample

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Task(Protocol[T_co]):
    """Work for the writer: runs on its thread with the engine, in one transaction."""

    def run(self, engine: Engine) -> T_co:
        """Do the work and return its result."""
        ...


@dataclass(frozen=True, slots=True)
class Append:
    """Take samples and commit what is due (the recorder's flush, `ingest`, imports)."""

    samples: Sequence[Sample]
    now_ms: int
    extra: Callable[[Any], None] | None = None
    hold: bool = False

    def run(self, engine: Engine) -> int:
        """Return the number of samples committed."""
        return engine.append(self.samples, self.now_ms, self.extra, self.hold)


@dataclass(frozen=True, slots=True)
class Purge:
    """Delete one small batch of rows past their retention."""

    now_ms: int
    retention: Retention
    budget: int = 256

    def run(self, engine: Engine) -> bool:
        """Return True if more rows are due."""
        return engine.purge(self.now_ms, self.retention, self.budget)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """Run a function with the engine (reading what only the writer knows)."""

    func: Callable[[Engine], T]

    def run(self, engine: Engine) -> T:
        """Return what the function returns."""
        return self.func(engine)


class Writer:
    """Runs tasks one by one on its own thread with the engine `open_engine` returns."""

    def __init__(
        self,
        open_engine: Callable[[], Engine],
        name: str = "roost-history-writer",
        reconnect: Callable[[], sqlite3.Connection] | None = None,
    ) -> None:
        self._open_engine = open_engine
        self._reconnect = reconnect
        self._suspect = False
        self.reconnects = 0
        self._queue: queue.SimpleQueue[tuple[Task[Any], Future[Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._closed = False
        self._closing = threading.Lock()
        self.engine: Engine | None = None
        self.native_id: int | None = None
        self.failures = 0
        self.last_error: str | None = None
        self._logged_error: str | None = None

    def start(self) -> Engine:
        """Start the thread and wait until the engine is loaded; raise what opening raised."""
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error
        assert self.engine is not None
        return self.engine

    def submit(self, task: Task[T]) -> Future[T]:
        """Queue `task`; the future settles when it has run (thread-safe)."""
        fut: Future[T] = Future()
        # Checked and queued under one lock: a task queued behind close()'s end marker
        # would never run, and its caller would wait for ever.
        with self._closing:
            if self._closed:
                raise RuntimeError("the history writer is closed")
            self._queue.put((task, fut))
        return fut

    def close(self) -> None:
        """Run every task already queued, close the database, and end the thread."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            if self._thread.ident is None:  # never started
                return
            self._queue.put(None)
        self._thread.join()

    @property
    def queued(self) -> int:
        """Return how many tasks wait."""
        return self._queue.qsize()

    @property
    def alive(self) -> bool:
        """Return True while the thread runs."""
        return self._thread.is_alive()

    def _renew(self, engine: Engine) -> None:
        # A fresh connection before the task. The old one goes first: it holds the
        # file's exclusive lock. If opening fails, the task fails on the closed
        # connection as it would have on the old one, and the next task tries again.
        assert self._reconnect is not None
        try:
            engine.conn.close()
        except sqlite3.Error:
            pass
        try:
            engine.conn = self._reconnect()
        except Exception as exc:
            log.warning("history: reopening the database failed: %s: %s", type(exc).__name__, exc)
            return
        self._suspect = False
        self.reconnects += 1

    def _run(self) -> None:
        self.native_id = threading.get_native_id()
        try:
            self.engine = self._open_engine()
        except BaseException as exc:
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        engine = self.engine
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                task, fut = item
                if not fut.set_running_or_notify_cancel():
                    continue
                if self._suspect:
                    self._renew(engine)
                try:
                    result = task.run(engine)
                except BaseException as exc:
                    self.failures += 1
                    self.last_error = describe_error(exc)
                    if isinstance(exc, sqlite3.Error):
                        self._suspect = self._reconnect is not None
                    if self.failures == 1 or self.last_error != self._logged_error:
                        log.exception("history task %s failed", type(task).__name__)
                    else:  # the same failure again (a read-only disk): one line, not a traceback
                        log.warning("history task %s failed again: %s", type(task).__name__, self.last_error)
                    self._logged_error = self.last_error
                    fut.set_exception(exc)
                else:
                    if self.last_error is not None:
                        log.info("history writes again after %d failed tasks", self.failures)
                    self.last_error = self._logged_error = None
                    fut.set_result(result)
        finally:
            try:
                engine.close()
            except Exception:
                log.exception("closing the history database failed")
