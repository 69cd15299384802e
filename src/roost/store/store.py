"""HistoryStore: one node's history database, its writer thread, and queries for programs.

Every public method is thread-safe. `open`, `close`, `ingest` and `query` block
(on disk or on the writer): from the event loop, call them through
`asyncio.to_thread`, as the recorder does.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from roost.core.errors import InvalidValue, NotFound
from roost.core.paths import split_path
from roost.core.rollup import WIDTHS_S, Calendar
from roost.store import chunks, db, retained
from roost.store.engine import Engine, Retention, Sample
from roost.store.query import RESOLUTIONS, MemoryView, Series, read_series
from roost.store.writer import Append, Purge, Task, Writer

log = logging.getLogger(__name__)

DEFAULT_POINTS = 1000
MAX_POINTS = 1_000_000
INGEST_BATCH = 50_000


class UnknownSeries(NotFound):
    """Paths that have never been recorded."""

    code = "unknown_series"

    def __init__(self, paths: Sequence[str]) -> None:
        super().__init__(f"no history for {', '.join(repr(p) for p in paths)}", paths=list(paths))
        self.paths = list(paths)


# Databases open in this process: other processes are kept out by the VFS lock, but
# two stores of one process would each think they are the only writer.
_open_paths: set[Path] = set()
_open_paths_lock = threading.Lock()


class HistoryStore:
    """The history database at `path`: samples in, series out."""

    def __init__(
        self, path: Path, tz: tzinfo, retention: Retention | None = None, name: str = "roost-history"
    ) -> None:
        self.path = path
        self.retention = retention or Retention()
        self._requested_tz = tz
        self.tz: tzinfo = tz
        self._lock = threading.Lock()
        self._writer = Writer(
            self._open_engine, name=f"{name}-writer", reconnect=lambda: db.connect(self.path, writer=True)
        )
        self._engine: Engine | None = None
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._registered: Path | None = None

    # -- lifecycle -------------------------------------------------------------

    def open(self) -> None:
        """Create or open the database, apply migrations and rebuild memory. Blocks.

        Raise HistoryUnavailable if another process (or store) has it open.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        resolved = self.path.resolve()
        with _open_paths_lock:
            if resolved in _open_paths:
                raise db.HistoryUnavailable(
                    f"the history database {self.path} is open in this process already"
                )
            _open_paths.add(resolved)
            self._registered = resolved
        try:
            self._engine = self._writer.start()
        except BaseException:
            self._unregister()
            raise

    def _unregister(self) -> None:
        with _open_paths_lock:
            if self._registered is not None:
                _open_paths.discard(self._registered)
                self._registered = None

    def _open_engine(self) -> Engine:
        conn = db.connect(self.path, writer=True)
        try:
            db.migrate(conn)
            self.tz = self._settle_timezone(conn)
            engine = Engine(conn, self.tz, self._lock)
            engine.load()
        except BaseException:
            conn.close()
            raise
        return engine

    def _settle_timezone(self, conn: sqlite3.Connection) -> tzinfo:
        # Bucket edges must not move under existing rows: the zone the database was
        # created with stays its zone.
        wanted = getattr(self._requested_tz, "key", None) or str(self._requested_tz)
        stored = db.setting(conn, "timezone")
        if stored is None:
            conn.execute("BEGIN IMMEDIATE")
            db.put_setting(conn, "timezone", wanted)
            conn.execute("COMMIT")
            return self._requested_tz
        if stored == wanted:
            return self._requested_tz
        try:
            zone = ZoneInfo(stored)
        except (KeyError, ValueError, OSError):
            log.warning("history buckets were made in zone %r, unknown here; using %r", stored, wanted)
            return self._requested_tz
        log.warning("history buckets follow zone %s (set when the database was made), not %s", stored, wanted)
        return zone

    def close(self) -> None:
        """Commit everything queued, close every connection. Blocks."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._unregister()

    @property
    def engine(self) -> Engine:
        """The writer's engine (its state is the writer thread's: read under `lock`)."""
        if self._engine is None:
            raise RuntimeError("the history store is not open")
        return self._engine

    @property
    def lock(self) -> threading.Lock:
        """The lock under which the writer changes what queries see."""
        return self._lock

    # -- writing ---------------------------------------------------------------

    def submit(self, task: Task[Any]) -> Future[Any]:
        """Queue a task for the writer thread."""
        return self._writer.submit(task)

    def append(self, samples: Sequence[Sample], now_ms: int, hold: bool = False) -> Future[int]:
        """Queue checked samples `(path, ms, value)`; the future gives how many were committed.

        `hold`: more samples of the same time follow in the next call (see `Engine.append`).
        """
        return self._writer.submit(Append(samples, now_ms, hold=hold))

    def ingest(self, samples: Iterable[tuple[str, float, Any]], now_s: float) -> int:
        """Record `(path, epoch seconds, value)` samples (any order) and commit them; return the count.

        Values may be numbers or booleans (stored as 0/1). Blocks until committed.
        Raise InvalidValue, before anything is written, for a bad path, time or value.
        """
        checked = check_samples(samples)
        now_ms = round(now_s * 1000)
        batches = [
            self.append(checked[i : i + INGEST_BATCH], now_ms, hold=i + INGEST_BATCH < len(checked))
            for i in range(0, len(checked), INGEST_BATCH)
        ]
        return sum(batch.result() for batch in batches)

    def purge_step(self, now_ms: int) -> Future[bool]:
        """Queue one small purge batch; the future says whether more rows are due."""
        return self._writer.submit(Purge(now_ms, self.retention))

    # -- reading ---------------------------------------------------------------

    def has(self, path: str) -> bool:
        """Return True if `path` has ever been recorded."""
        return path in self.engine.series

    def paths(self) -> list[str]:
        """Return every recorded path, sorted."""
        with self._lock:
            return sorted(self.engine.series)

    def query(
        self,
        paths: str | Sequence[str],
        start_s: float,
        end_s: float,
        points: int = DEFAULT_POINTS,
        resolution: str | int | None = None,
        strict: bool = True,
    ) -> list[Series]:
        """Return each path over `[start_s, end_s)` at the finest resolution fitting `points`.

        `resolution` forces a tier (`raw`, `5m`, `1h`, `1d`, or 0/300/3600/86400).
        A path never recorded raises UnknownSeries, or gives an empty series if
        `strict` is false. Blocks on disk: call it from a thread.
        """
        wanted = [paths] if isinstance(paths, str) else list(paths)
        width = parse_resolution(resolution)
        normal = [normal_path(p) for p in wanted]
        if not math.isfinite(start_s) or not math.isfinite(end_s) or start_s >= end_s:
            raise InvalidValue("the time range is empty: `from` must be before `to`")
        if not 1 <= points <= MAX_POINTS:
            raise InvalidValue(f"points must be between 1 and {MAX_POINTS}")
        views = self._views(normal)
        missing = [p for p, v in zip(normal, views, strict=True) if v is None]
        if missing and strict:
            raise UnknownSeries(missing)
        lo, hi = _to_ms(start_s), _to_ms(end_s)
        out: list[Series] = []
        conn = self._reader()
        try:
            cal = Calendar(self.tz)
            conn.execute("BEGIN")
            try:
                for path, view in zip(normal, views, strict=True):
                    if view is None:
                        out.append(Series(path, width or 0, [], [], [], []))
                    else:
                        out.append(read_series(conn, cal, view, path, lo, hi, points, width))
            finally:
                conn.execute("COMMIT")
        finally:
            self._release(conn)
        return out

    def retained_rows(self) -> dict[str, str]:
        """Return the retained values stored, as path -> JSON text. Blocks on disk."""
        conn = self._reader()
        try:
            return retained.read_rows(conn)
        finally:
            self._release(conn)

    def _views(self, paths: Sequence[str]) -> list[MemoryView | None]:
        engine = self.engine
        views: list[MemoryView | None] = []
        with self._lock:
            for path in paths:
                state = engine.series.get(path)
                if state is None:
                    views.append(None)
                    continue
                views.append(
                    MemoryView(
                        state.id,
                        state.sealed_until,
                        state.rolled_until,
                        state.tail_ts.tolist(),
                        state.tail_v.tolist(),
                        {w: state.buckets_between(w, 0, chunks.MAX_TS) for w in WIDTHS_S},
                    )
                )
        return views

    def _reader(self) -> sqlite3.Connection:
        with self._readers_lock:
            if self._closed:
                raise RuntimeError("the history store is closed")
            if self._readers:
                return self._readers.pop()
        return db.connect(self.path, writer=False)

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._readers_lock:
            if not self._closed and len(self._readers) < 4:
                self._readers.append(conn)
                return
        conn.close()

    # -- observability ---------------------------------------------------------

    def size_bytes(self) -> int:
        """Return the bytes the database takes on disk (with its WAL)."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.stat(f"{self.path}{suffix}").st_size
            except OSError:
                pass
        return total

    def bytes_written(self) -> int | None:
        """Return the bytes the writer thread has caused to be written to disk (Linux), else None."""
        tid = self._writer.native_id
        if tid is None:
            return None
        try:
            with open(f"/proc/self/task/{tid}/io", encoding="ascii") as f:
                for line in f:
                    if line.startswith("write_bytes:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    @property
    def writer(self) -> Writer:
        """The writer thread (for health and metrics)."""
        return self._writer


def _to_ms(seconds: float) -> int:
    # Clamp before scaling: 1e306 s is finite, but not in milliseconds.
    return round(min(max(seconds, 0.0), _MAX_TS_S) * 1000)


def normal_path(path: str) -> str:
    """Return `path` in its canonical form (`/a/b/` is `a/b`); raise InvalidPath."""
    parts = split_path(path)
    if not parts:
        raise InvalidValue("a history path cannot be the root")
    return "/".join(parts)


def parse_resolution(resolution: str | int | None) -> int | None:
    """Return the width in seconds of `raw`/`5m`/`1h`/`1d` (or 0/300/3600/86400), None for automatic."""
    if resolution is None or resolution == "" or resolution == "auto":
        return None
    if isinstance(resolution, str):
        if resolution in RESOLUTIONS:
            return RESOLUTIONS[resolution]
        if resolution.isdigit():
            resolution = int(resolution)
    if isinstance(resolution, int) and resolution in RESOLUTIONS.values():
        return resolution
    raise InvalidValue(f"resolution must be one of {', '.join(RESOLUTIONS)} (or auto)")


def sample_value(value: Any) -> float | None:
    """Return the number history stores for a state value (booleans as 0/1), or None if it is none."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def check_samples(samples: Iterable[tuple[str, float, Any]]) -> list[Sample]:
    """Return samples ready for the writer, or raise InvalidValue/InvalidPath for the first bad one."""
    paths: dict[str, str] = {}
    out: list[Sample] = []
    append = out.append
    for path, ts_s, value in samples:
        # The common case, checked inline: a known path, a float time, a float value in range.
        normal = paths.get(path)
        if (
            normal is not None
            and type(value) is float
            and type(ts_s) is float
            and 0.0 <= ts_s < _MAX_TS_S
            and math.isfinite(value)
        ):
            append((normal, round(ts_s * 1000), value))
            continue
        sample = check_sample(path, ts_s, value)
        paths[path] = sample[0]
        append(sample)
    return out


_MAX_TS_S = chunks.MAX_TS / 1000


def check_sample(path: str, ts_s: float, value: Any) -> Sample:
    """Return a sample ready for the writer, or raise InvalidValue/InvalidPath."""
    number = sample_value(value)
    if number is None:
        raise InvalidValue(f"{value!r} is not a finite number or a boolean", path=path)
    if not isinstance(ts_s, (int, float)) or not math.isfinite(ts_s):
        raise InvalidValue(f"time {ts_s!r} is not a finite number of seconds", path=path)
    ms = round(ts_s * 1000)
    if not 0 <= ms <= chunks.MAX_TS:
        raise InvalidValue(f"time {ts_s!r} is outside 1970..2527", path=path)
    return normal_path(path), ms, number
