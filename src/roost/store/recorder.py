"""The recorder: turns the state tree's changes into history, and answers history queries.

The recorder is the change stream's "history" consumer (`hub.consume`). On the
loop, each change is filtered (patterns, `record` metadata, numbers and
booleans only), thinned (`min_interval_s`, `deadband`) and appended to a bounded
buffer; it never waits for the disk. Every `commit_interval_s` the buffer goes
to the writer thread as one task, which commits it in one transaction. On
stop, the consumer is drained up to the final seq and one more flush commits
everything, so SIGTERM and `App.stop()` lose nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from roost.core.errors import Unavailable, describe_error
from roost.core.meta import MetaRule
from roost.core.metrics import Metric
from roost.core.paths import compile_pattern, matches_any
from roost.core.timespec import parse_instant
from roost.core.tree import iter_leaves
from roost.runtime.blocking import refuse_on_loop
from roost.runtime.component import Component
from roost.runtime.consumer import Consumer
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.runtime.state import Change
from roost.store.db import HistoryUnavailable, HistoryUnwritable, backup_database
from roost.store.engine import Sample
from roost.store.query import Series
from roost.store.retained import Pending, RetainedValues
from roost.store.routes import history_paths, history_routes
from roost.store.settings import HistorySettings
from roost.store.store import DEFAULT_POINTS, HistoryStore, UnknownSeries, normal_path, sample_value
from roost.store.writer import Append, Call

log = logging.getLogger(__name__)

# The first purge waits a little, so that starting up stays quick.
_FIRST_PURGE_S = 60.0
# How often a database that could not be opened (a read-only data directory) is tried again.
REOPEN_EVERY_S = 5.0
_SWITCH_WORDS = {"on": 1.0, "off": 0.0, "true": 1.0, "false": 0.0}

TimeArg = float | int | str | datetime


@dataclass(frozen=True, slots=True)
class _Rule:
    """How one path is recorded."""

    min_interval_ms: int
    deadband: float
    switch: bool


class Recorder(Component):
    """Records numeric and boolean state into SQLite; `app.history` is the one an App adds.

    Thread-safe unless a method says "Loop only.". As everywhere in roost, the plain
    names (`query`, `ingest`, `flush`) block, for worker threads and programs; on the
    loop await their twins (`aquery`, `aingest`, `aflush`).
    """

    name = "history"

    def __init__(self, hub: Hub, settings: HistorySettings | None = None) -> None:
        self.hub = hub
        self.settings = settings or HistorySettings()
        self._include = tuple(compile_pattern(p) for p in self.settings.include)
        self._exclude = tuple(compile_pattern(p) for p in self.settings.exclude)
        self._store: HistoryStore | None = None
        self._rules: dict[str, _Rule | None] = {}
        self._rules_of: tuple[MetaRule, ...] | None = None
        self._last: dict[str, tuple[int, float]] = {}  # path -> (ms, value) last recorded
        self._held: dict[str, tuple[int, float]] = {}  # path -> newest value held back by min_interval_s
        self._buffer: deque[Sample] = deque()
        self._in_flight = 0
        self._consumer: Consumer | None = None
        self._last_commit_at: float | None = None
        self.committed_seq = 0
        self.dropped = 0
        self.queries = 0
        self.query_seconds = 0.0
        self._flush_lock = asyncio.Lock()
        self._retained = RetainedValues(hub)
        self._dropped_seen = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._unavailable: str | None = None  # why the database could not be opened

    @property
    def store(self) -> HistoryStore:
        """The history database (raise Unavailable before start, after stop, or while unopenable)."""
        if self._store is None:
            if self._unavailable is not None:
                raise Unavailable(f"history is unavailable: {self._unavailable}")
            raise Unavailable("history is not running")
        return self._store

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database, record the current values, and start the commit timer. Loop only.

        A database that cannot be opened for writing (a read-only data directory or
        disk) does not stop the node: history is reported unavailable, changes are
        buffered (up to `max_buffered`), and opening is retried every
        REOPEN_EVERY_S until it works. Another node holding the database still
        raises HistoryUnavailable.
        """
        self._unavailable = None
        self._tasks = []
        try:
            store = await self._open_store()
        except HistoryUnwritable as exc:
            store = None
            self._set_unavailable(exc)
        except HistoryUnavailable:
            raise
        except (sqlite3.Error, OSError) as exc:
            store = None
            self._set_unavailable(exc)
        snapshot = self.hub.state.snapshot()
        self.committed_seq = snapshot.seq
        # Dropping, never coalescing: history wants every value. The batches are
        # handled on the loop at once, so only a burst bigger than the buffer drops.
        self._consumer = self.hub.consume(
            self.name,
            self._on_batch,
            max_pending=self.settings.max_buffered,
            coalesce=False,
            since=snapshot.seq,
        )
        now_ms = round(self.hub.clock.time() * 1000)
        for path, value in iter_leaves(snapshot.root):
            self._offer(path, value, now_ms)
        if store is None:
            self._tasks = [asyncio.create_task(self._reopen_loop(), name="history-reopen")]
        else:
            self._start_timers()

    def _start_timers(self) -> None:
        self._tasks += [
            asyncio.create_task(self._flush_loop(), name="history-flush"),
            asyncio.create_task(self._purge_loop(), name="history-purge"),
        ]

    async def _open_store(self) -> HistoryStore:
        store = HistoryStore(
            self.hub.data_dir / self.settings.file_name, self.hub.tz, self.settings.retention()
        )
        await asyncio.to_thread(store.open)
        self._store = store
        try:
            # At start: before any worker, and before the components added after this one,
            # read the tree. Opened late (the disk was read-only): the values stored before
            # come back too, except those the tree has changed or removed since start.
            self._retained.restore(await asyncio.to_thread(store.retained_rows))
        except BaseException:
            self._store = None
            await asyncio.to_thread(store.close)
            raise
        return store

    def _set_unavailable(self, exc: BaseException) -> None:
        # The reason without the path: /healthz shows it to anyone who may read.
        reason = describe_error(exc)
        if self._unavailable is None:
            log.warning(
                "history unavailable: cannot open %s (%s); the node runs without it, "
                "buffers up to %d samples and tries again every %g s",
                self.hub.data_dir / self.settings.file_name,
                exc,
                self.settings.max_buffered,
                REOPEN_EVERY_S,
            )
        self._unavailable = reason

    async def _reopen_loop(self) -> None:
        while True:
            await self.hub.clock.sleep(REOPEN_EVERY_S)
            if await self._try_reopen():
                self._start_timers()
                return

    async def _try_reopen(self) -> bool:
        try:
            await self._open_store()
        except (sqlite3.Error, OSError, HistoryUnwritable) as exc:
            self._set_unavailable(exc)
            return False
        except HistoryUnavailable as exc:  # another node took it meanwhile
            self._set_unavailable(exc)
            return False
        log.info("history available again: %s is open", self.settings.file_name)
        self._unavailable = None
        return True

    async def stop(self) -> None:
        """Take the last changes, commit everything buffered and close the database. Loop only."""
        if self._consumer is not None:
            # The hub drained every consumer before stopping components; this takes
            # what components stopped before this one wrote meanwhile.
            await self._consumer.drain()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._store is None and self._unavailable is not None and self._consumer is not None:
            # The disk may be writable by now: one last try, so that the buffer is kept.
            await self._try_reopen()
        try:
            if self._store is not None:
                await self._flush(final=True)
        finally:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
            store, self._store = self._store, None
            if store is not None:
                await asyncio.to_thread(store.close)

    # -- recording -------------------------------------------------------------------

    def _on_batch(self, changes: Sequence[Change]) -> None:
        for change in changes:
            ts = round(change.ts * 1000)
            for path, value in change.values.items():
                self._offer(path, value, ts)
            for path in change.removed:
                self._last.pop(path, None)
                self._held.pop(path, None)
            self._retained.observe(change)

    def _offer(self, path: str, value: Any, ts: int) -> None:
        rule = self._rule(path)
        if rule is None:
            return
        number = sample_value(value)
        if number is None:
            number = _SWITCH_WORDS.get(value.lower()) if rule.switch and isinstance(value, str) else None
            if number is None:
                return
        last = self._last.get(path)
        if last is not None:
            if rule.min_interval_ms and ts - last[0] < rule.min_interval_ms:
                self._held[path] = (ts, number)
                return
            if rule.deadband and abs(number - last[1]) < rule.deadband:
                return
        self._held.pop(path, None)
        self._record(path, ts, number)

    def _record(self, path: str, ts: int, value: float) -> None:
        self._last[path] = (ts, value)
        if len(self._buffer) >= self.settings.max_buffered:
            # The disk has stalled for a long time: keep the newest samples.
            self._buffer.popleft()
            self.dropped += 1
        self._buffer.append((path, ts, value))

    def _rule(self, path: str) -> _Rule | None:
        rules = self.hub.meta_rules()
        if rules is not self._rules_of:  # the program declared metadata since: start over
            self._rules.clear()
            self._rules_of = rules
        try:
            return self._rules[path]
        except KeyError:
            pass
        meta = self.hub.meta(path)
        rule: _Rule | None = None
        if meta.record or (
            meta.record is None and matches_any(path, self._include) and not matches_any(path, self._exclude)
        ):
            rule = _Rule(
                round((meta.min_interval_s or 0) * 1000), meta.deadband or 0.0, meta.kind == "switch"
            )
        self._rules[path] = rule
        return rule

    def _due_samples(self, now_ms: int, final: bool) -> None:
        """Record held-back values whose interval has passed (all of them if `final`), and heartbeats."""
        for path, (ts, value) in list(self._held.items()):
            rule = self._rule(path)
            last = self._last.get(path)
            if final or rule is None or last is None or now_ms - last[0] >= rule.min_interval_ms:
                del self._held[path]
                if rule is not None:
                    self._record(path, ts, value)
        heartbeat = self.settings.heartbeat_s
        if heartbeat is None:
            return
        due = now_ms - round(heartbeat * 1000)
        for path, (ts, _) in list(self._last.items()):
            if ts > due or path in self._held:
                continue
            number = sample_value(self.hub.state.get(path))
            if number is None:  # gone, or no longer a number
                del self._last[path]
            elif self._rule(path) is not None:
                self._record(path, now_ms, number)

    async def aflush(self) -> int:
        """Commit every buffered sample now; return how many were committed. Loop only."""
        return await self._flush(final=False)

    async def _flush(self, final: bool) -> int:
        # Changes already written reach listeners on the next loop iteration: let them.
        await asyncio.sleep(0)
        async with self._flush_lock:
            store = self.store
            now_ms = round(self.hub.clock.time() * 1000)
            self._due_samples(now_ms, final)
            retried = 0
            if store.engine.pending and not final:
                # A commit failed and the writer still holds its samples: retry those alone
                # first. While that fails the buffer stays here, where max_buffered bounds
                # what a failing disk (full, read-only) costs in memory.
                retried = await self._commit(store, [], now_ms)
            batch = list(self._buffer)
            self._buffer.clear()
            seq = self._consumer.last_seq if self._consumer is not None else self.committed_seq
            self._in_flight = len(batch)
            consumer = self._consumer
            if consumer is not None and consumer.dropped > self._dropped_seen:
                # Changes were lost in a burst: what they did to retained values is not
                # known, so the next commit writes the retained part of the tree anew.
                self._dropped_seen = consumer.dropped
                self._retained.resync(iter_leaves(self.hub.state.snapshot().root))
            kept = self._retained.take()
            try:
                # If the commit fails, the writer keeps what it took and commits it with the next.
                written = await self._commit(store, batch, now_ms, kept)
            except BaseException:
                if kept is not None:
                    self._retained.give_back(kept)
                raise
            finally:
                self._in_flight = 0
            self.committed_seq = max(self.committed_seq, seq)
            self._last_commit_at = self.hub.clock.time()
            return retried + written

    @staticmethod
    async def _commit(
        store: HistoryStore, batch: list[Sample], now_ms: int, kept: Pending | None = None
    ) -> int:
        # Shielded: cancelling the wait (stop() cancels the timer) must not cancel a
        # commit still queued behind other writer work, which would drop its samples.
        # Retained values go in the same transaction as the samples.
        extra = None if kept is None else kept.writer()
        return await asyncio.shield(asyncio.wrap_future(store.submit(Append(batch, now_ms, extra))))

    def flush(self, timeout_s: float | None = None) -> int:
        """`aflush`, from a thread: commit every buffered sample now and wait. Not on the loop."""
        refuse_on_loop("app.history.flush()", "app.history.aflush()")
        loop = self.hub.loop
        if loop is None:
            raise Unavailable("history is not running")
        return asyncio.run_coroutine_threadsafe(self.aflush(), loop).result(timeout_s)

    def flush_threadsafe(self, timeout_s: float | None = None) -> int:
        """Deprecated: `flush` is the thread-safe one now."""
        warnings.warn(
            "app.history.flush_threadsafe() is now app.history.flush(); "
            "on the loop use `await app.history.aflush()`",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.flush(timeout_s)

    async def _flush_loop(self) -> None:
        while True:
            await self.hub.clock.sleep(self.settings.commit_interval_s)
            try:
                await self.aflush()
            except Unavailable:
                return
            except Exception as exc:  # the writer has logged the traceback
                log.warning("history commit failed (%s); its samples go with the next one", exc)

    async def _purge_loop(self) -> None:
        await self.hub.clock.sleep(_FIRST_PURGE_S)
        while True:
            try:
                # One small batch per writer task, so that commits slip in between.
                while await asyncio.wrap_future(self.store.purge_step(round(self.hub.clock.time() * 1000))):
                    pass
            except Unavailable:
                return
            except Exception:
                log.exception("history purge failed; trying again later")
            await self.hub.clock.sleep(self.settings.purge_interval_s)

    # -- the Python API -------------------------------------------------------------

    def query(
        self,
        paths: str | Sequence[str],
        start: TimeArg = "-24h",
        end: TimeArg = "now",
        points: int = DEFAULT_POINTS,
        resolution: str | int | None = None,
    ) -> list[Series]:
        """Return each path over `[start, end)` at the finest resolution that fits `points`.

        Times are epoch seconds, datetimes, ISO 8601, or relative (`-7d`, `-24h`,
        `now`). `resolution` forces `raw`, `5m`, `1h` or `1d`. A path with no history
        that is in the state tree gives an empty series; one in neither raises
        UnknownSeries. Blocks on disk: call it from a thread, or `aquery` on the loop.
        """
        refuse_on_loop("app.history.query()", "app.history.aquery(...)")
        started = self.hub.clock.monotonic()
        wanted = [paths] if isinstance(paths, str) else list(paths)
        store = self.store
        normal = [normal_path(p) for p in wanted]
        unknown = [p for p in normal if not store.has(p) and p not in self.hub.state]
        if unknown:
            raise UnknownSeries(unknown)
        now = self.hub.clock.time()
        result = store.query(
            normal, self._instant(start, now), self._instant(end, now), points, resolution, strict=False
        )
        self.queries += 1
        self.query_seconds += self.hub.clock.monotonic() - started
        return result

    async def aquery(
        self,
        paths: str | Sequence[str],
        start: TimeArg = "-24h",
        end: TimeArg = "now",
        points: int = DEFAULT_POINTS,
        resolution: str | int | None = None,
    ) -> list[Series]:
        """`query`, from the loop: the reading runs in a thread. Loop only."""
        return await asyncio.to_thread(self.query, paths, start, end, points, resolution)

    def ingest(self, samples: Iterable[tuple[str, float, Any]]) -> int:
        """Record `(path, epoch seconds, value)` samples of any time, now; return how many were committed.

        For programs that fetch history from elsewhere (a logger's memory, a web
        service). Blocks until committed: call it from a thread, or `aingest`.
        """
        refuse_on_loop("app.history.ingest()", "app.history.aingest(...)")
        return self.store.ingest(samples, self.hub.clock.time())

    async def aingest(self, samples: Iterable[tuple[str, float, Any]]) -> int:
        """`ingest`, from the loop. Loop only."""
        rows = list(samples)
        return await asyncio.to_thread(self.ingest, rows)

    def paths(self) -> list[str]:
        """Return every path that has history."""
        return self.store.paths()

    def _instant(self, value: TimeArg, now: float) -> float:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=self.hub.tz)).timestamp()
        if isinstance(value, str):
            return parse_instant(value, now, self.hub.tz)
        return float(value)

    async def abackup(self, target: Path) -> None:
        """Write a consistent copy of the database to `target` with SQLite's online backup. Loop only."""
        store = self.store
        await asyncio.wrap_future(store.submit(Call(lambda engine: backup_database(engine.conn, target))))

    # -- observability ------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Return the samples recorded but not yet committed."""
        pending = self._store.engine.pending if self._store is not None else 0
        return len(self._buffer) + self._in_flight + pending

    def health(self) -> dict[str, Any]:
        """Return the recorder's /healthz entry."""
        store = self._store
        if store is None:
            if self._unavailable is not None:
                return {
                    "ok": False,
                    "available": False,
                    "buffered": self.buffered,
                    "dropped": self.dropped,
                    "retry_every_s": REOPEN_EVERY_S,
                    "error": self._unavailable,
                }
            return {"ok": False, "error": "not running"}
        stats = store.engine.stats
        writer = store.writer
        return {
            "ok": writer.alive and writer.last_error is None,
            "available": True,
            "buffered": self.buffered,
            "written": stats.samples_written,
            "dropped": self.dropped,
            "series": len(store.engine.series),
            "committed_seq": self.committed_seq,
            "last_commit_ms": round(stats.commit_seconds_last * 1000, 3),
            "last_commit_age_s": None
            if self._last_commit_at is None
            else round(self.hub.clock.time() - self._last_commit_at, 1),
            "db_bytes": store.size_bytes(),
            "bytes_written": store.bytes_written(),
            "error": writer.last_error,
        }

    def metrics(self) -> list[Metric]:
        """Return the recorder's metric families."""
        store = self._store
        if store is None:
            return []
        stats = store.engine.stats
        families = [
            Metric.single(
                "roost_history_samples_buffered", "gauge", "Samples not yet committed.", self.buffered
            ),
            Metric.single(
                "roost_history_samples_written_total", "counter", "Samples committed.", stats.samples_written
            ),
            Metric.single(
                "roost_history_samples_dropped_total",
                "counter",
                "Samples dropped because the buffer was full.",
                self.dropped,
            ),
            Metric.single(
                "roost_history_committed_seq",
                "gauge",
                "Sequence number of the last state change whose samples are committed.",
                self.committed_seq,
            ),
            Metric.single("roost_history_commits_total", "counter", "Transactions committed.", stats.commits),
            Metric.single(
                "roost_history_commit_seconds_total",
                "counter",
                "Time spent in commits.",
                stats.commit_seconds_total,
            ),
            Metric.single(
                "roost_history_commit_seconds_last",
                "gauge",
                "Duration of the last commit.",
                stats.commit_seconds_last,
            ),
            Metric.single(
                "roost_history_commit_seconds_max",
                "gauge",
                "Longest commit since start.",
                stats.commit_seconds_max,
            ),
            Metric.single(
                "roost_history_commit_errors_total", "counter", "Commits that failed.", store.writer.failures
            ),
            Metric.single("roost_history_series", "gauge", "Series recorded.", len(store.engine.series)),
            Metric.single(
                "roost_history_late_samples_total",
                "counter",
                "Samples older than what was already sealed, merged into rows on disk.",
                stats.late_samples,
            ),
            Metric.single(
                "roost_history_rows_purged_total", "counter", "Rows deleted by retention.", stats.rows_purged
            ),
            Metric.single(
                "roost_history_database_bytes",
                "gauge",
                "Size of the database and its WAL.",
                store.size_bytes(),
            ),
            Metric.single(
                "roost_history_queries_total", "counter", "History queries answered.", self.queries
            ),
            Metric.single(
                "roost_history_query_seconds_total",
                "counter",
                "Time spent answering queries.",
                self.query_seconds,
            ),
        ]
        written = store.bytes_written()
        if written is not None:
            families.append(
                Metric.single(
                    "roost_history_bytes_written_total",
                    "counter",
                    "Bytes the writer thread caused to be written to disk (Linux write_bytes).",
                    written,
                )
            )
        return families

    # -- HTTP ---------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Serve `GET /api/history`."""
        return history_routes(self)

    def openapi_paths(self) -> dict[str, Any]:
        """Describe `GET /api/history`."""
        return history_paths()
