"""The writer's engine: takes batches of samples into memory and the database, one transaction each.

Only the writer thread calls it. A batch is added to the series' tails and open
buckets first (under the store lock, so queries see it at once), then one
transaction writes what is due: late samples merged into rows on disk, sealed
days, and the log row that makes the rest durable. Only after the
commit does memory forget what went to disk, so a failed commit loses nothing:
the next one retries it.

What one commit writes, and why it is little: one log row (the new samples
since the last commit, usually one page); once a day, each series' raw row and
rollup rows, and the log rows they made redundant deleted.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from operator import itemgetter, le

from roost.core.rollup import WIDTHS_S, Bucket, Calendar, merge_buckets
from roost.store import chunks
from roost.store.chunks import key
from roost.store.series import MAX_CHUNK_SAMPLES, SealPlan, SeriesState

log = logging.getLogger(__name__)

Sample = tuple[str, int, float]  # (path, ms since the epoch, value)

# Seal a day only this long after it ended, so that samples still on
# their way (buffered for the commit interval) seldom arrive late.
SEAL_GRACE_MS = 30_000
_ROLLUP_TABLES = {w: f"rollup_{w}" for w in WIDTHS_S}


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each tier is kept, in days; None keeps it for ever."""

    raw_days: float | None = 400
    rollup_5m_days: float | None = None
    rollup_1h_days: float | None = None
    rollup_1d_days: float | None = None

    def __post_init__(self) -> None:
        for name in ("raw_days", "rollup_5m_days", "rollup_1h_days", "rollup_1d_days"):
            days = getattr(self, name)
            # Today's buckets are rebuilt from today's raw rows after a restart: keep those.
            if days is not None and not days >= 2:
                raise ValueError(f"{name} must be at least 2 days (or None for ever)")

    def tiers(self) -> list[tuple[int, float | None]]:
        """Return `(width_s, days)` for every tier, the raw one as width 0."""
        return [
            (0, self.raw_days),
            (300, self.rollup_5m_days),
            (3600, self.rollup_1h_days),
            (86400, self.rollup_1d_days),
        ]


@dataclass(slots=True)
class EngineStats:
    """Counters the writer keeps for /metrics (read from other threads without locking)."""

    samples_written: int = 0
    commits: int = 0
    commit_seconds_total: float = 0.0
    commit_seconds_last: float = 0.0
    commit_seconds_max: float = 0.0
    chunks_sealed: int = 0
    days_sealed: int = 0
    late_samples: int = 0
    rows_purged: int = 0
    last_commit_at: float | None = None


class Engine:
    """The history database's writer: memory of open data plus the one writing connection."""

    def __init__(self, conn: sqlite3.Connection, tz: tzinfo, lock: threading.Lock) -> None:
        self.conn = conn
        self.cal = Calendar(tz)
        self.lock = lock
        self.series: dict[str, SeriesState] = {}
        self.by_id: dict[int, SeriesState] = {}
        self.stats = EngineStats()
        self._next_id = 1
        self._pending: dict[SeriesState, list[tuple[Sequence[int], Sequence[float]]]] = {}
        self._pending_count = 0
        self._late_raw: list[tuple[SeriesState, Sequence[int], Sequence[float]]] = []
        self._late_rollup: list[tuple[SeriesState, Sequence[int], Sequence[float]]] = []
        # The log's rows in order: (row id, newest sample time per series id in it).
        self._log_rows: list[tuple[int, dict[int, int]]] = []
        self._purge_cursor = 0

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL into the database file)."""
        self.conn.close()

    @property
    def pending(self) -> int:
        """Return how many samples are in memory but not yet committed."""
        return self._pending_count

    # -- start -------------------------------------------------------------------

    def load(self) -> None:
        """Rebuild memory from the database: tails from the log, open buckets from today's raw rows."""
        c = self.conn
        for series_id, path, rolled_until in c.execute(
            "SELECT id, path, rolled_until FROM series ORDER BY id"
        ):
            sealed_until = max(rolled_until, self._sealed_through(series_id))
            self._register(SeriesState(series_id, path, sealed_until, rolled_until, persisted=True))
        tails: dict[int, list[tuple[int, float]]] = {}
        unknown: set[int] = set()
        for row_id, blob in c.execute("SELECT id, data FROM log ORDER BY id").fetchall():
            newest: dict[int, int] = {}
            for series_id, ts, values in chunks.decode_log(blob):
                state = self.by_id.get(series_id)
                if state is None:
                    unknown.add(series_id)
                    continue
                newest[series_id] = max(newest.get(series_id, -1), max(ts))
                # Samples before sealed_until have been sealed into raw rows since; the rest is the tail.
                tails.setdefault(series_id, []).extend(
                    p for p in zip(ts, values, strict=True) if p[0] >= state.sealed_until
                )
            self._log_rows.append((row_id, newest))
        if unknown:
            log.warning("history log holds samples of unknown series %s; ignored", sorted(unknown))
        for series_id, samples in tails.items():
            samples.sort(key=itemgetter(0))
            state = self.by_id[series_id]
            state.tail_ts.extend(t for t, _ in samples)
            state.tail_v.extend(v for _, v in samples)
        for state in self.series.values():
            self._rebuild_open(state)

    def _sealed_through(self, series_id: int) -> int:
        """Return the instant just after the latest sample in the series' raw rows (0 if none)."""
        c = self.conn
        newest = c.execute(
            "SELECT max(id) FROM raw WHERE id >= ? AND id <= ?",
            (key(series_id, 0), key(series_id, chunks.MAX_TS)),
        ).fetchone()[0]
        if newest is None:
            return 0
        # The latest sample need not be in the row with the newest key (late samples get rows
        # of their own), but it is in one starting at most a row's span before it.
        latest = -1
        for (blob,) in c.execute(
            "SELECT data FROM raw WHERE id >= ? AND id <= ?",
            (key(series_id, chunks.key_ts(newest) - chunks.RAW_ROW_SPAN_MS), newest),
        ):
            latest = max(latest, max(chunks.decode_samples(blob)[0]))
        return latest + 1

    def _rebuild_open(self, state: SeriesState) -> None:
        ts: list[int] = []
        values: list[float] = []
        for (blob,) in self.conn.execute(
            "SELECT data FROM raw WHERE id >= ? AND id <= ? ORDER BY id",
            (key(state.id, state.rolled_until), key(state.id, chunks.MAX_TS)),
        ):
            t, v = chunks.decode_samples(blob)
            ts += t
            values += v
        # Never true after a clean run (sealed_until >= rolled_until), but cheap to be sure:
        # tail samples before rolled_until would be in rollup rows already.
        first = bisect_left(state.tail_ts, state.rolled_until)
        ts += state.tail_ts[first:]
        values += state.tail_v[first:]
        if not ts:
            return
        order = sorted(range(len(ts)), key=ts.__getitem__)
        ts = [ts[i] for i in order]
        values = [values[i] for i in order]
        for width in WIDTHS_S:
            merge_buckets(state.open[width], self.cal.buckets(width, ts, values))

    def _register(self, state: SeriesState) -> None:
        self.series[state.path] = state
        self.by_id[state.id] = state
        self._next_id = max(self._next_id, state.id + 1)

    # -- writing -----------------------------------------------------------------

    def append(
        self,
        samples: Iterable[Sample],
        now_ms: int,
        extra: Callable[[sqlite3.Connection], None] | None = None,
        hold: bool = False,
    ) -> int:
        """Add samples and commit what is due in one transaction; return the samples committed.

        `extra` runs inside the same transaction (the CSV import records its progress there).
        `hold` says more samples of the same stretch of time follow (a bulk load in
        batches): the day of each series' newest sample then stays open, so that the
        next batch does not find it sealed and arrive late.
        """
        with self.lock:
            self._add(samples)
        horizon = now_ms - SEAL_GRACE_MS
        plans = []
        for state in self.series.values():
            until = min(horizon, state.newest) if hold else horizon
            plan = state.plan(self.cal, until)
            if plan is not None:
                plans.append((state, plan))
        if not (plans or self._pending or self._late_raw or self._late_rollup or extra):
            return 0
        committed = self._pending_count + sum(len(ts) for _, ts, _ in self._late_raw)
        started = time.perf_counter()
        log_change = self._write(plans, extra)
        elapsed = time.perf_counter() - started
        with self.lock:
            for state, plan in plans:
                state.apply(plan)
            for state in self.series.values():
                state.persisted = True
        left, added = log_change
        if left is not None:
            self._log_rows = left
        if added is not None:
            self._log_rows.append(added)
        self._pending.clear()
        self._pending_count = 0
        self._late_raw.clear()
        self._late_rollup.clear()
        stats = self.stats
        stats.samples_written += committed
        stats.commits += 1
        stats.commit_seconds_last = elapsed
        stats.commit_seconds_total += elapsed
        stats.commit_seconds_max = max(stats.commit_seconds_max, elapsed)
        stats.chunks_sealed += sum(len(p.chunks) for _, p in plans)
        stats.days_sealed += sum(len(p.days) for _, p in plans)
        stats.last_commit_at = time.time()
        return committed

    def _add(self, samples: Iterable[Sample]) -> None:
        groups: dict[str, tuple[list[int], list[float]]] = {}
        for path, at, value in samples:
            group = groups.get(path)
            if group is None:
                group = groups[path] = ([], [])
            group[0].append(at)
            group[1].append(value)
        for path, (ts, values) in groups.items():
            if not all(map(le, ts, ts[1:])):
                order = sorted(range(len(ts)), key=ts.__getitem__)  # stable: equal times keep their order
                ts = [ts[i] for i in order]
                values = [values[i] for i in order]
            state = self.series.get(path) or self._create(path)
            (late_ts, late_v), (early_ts, early_v) = state.add(self.cal, ts, values)
            fresh = len(ts) - len(late_ts)
            if fresh:
                self._pending.setdefault(state, []).append((ts[len(late_ts) :], values[len(late_ts) :]))
                self._pending_count += fresh
            if late_ts:
                self._late_raw.append((state, late_ts, late_v))
                self.stats.late_samples += len(late_ts)
            if early_ts:
                self._late_rollup.append((state, early_ts, early_v))

    def _create(self, path: str) -> SeriesState:
        if self._next_id >= chunks.MAX_SERIES:
            raise OverflowError("the history database holds the most series it can")
        state = SeriesState(self._next_id, path, 0, 0, persisted=False)
        self._register(state)
        return state

    def _write(
        self, plans: list[tuple[SeriesState, SealPlan]], extra: Callable[..., None] | None
    ) -> tuple[list[tuple[int, dict[int, int]]] | None, tuple[int, dict[int, int]] | None]:
        """Run the commit's transaction; return (the log rows left, or None if unchanged; the row added)."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            for state in self.series.values():
                if not state.persisted:
                    c.execute(
                        "INSERT OR IGNORE INTO series (id, path, rolled_until) VALUES (?, ?, ?)",
                        (state.id, state.path, state.rolled_until),
                    )
            for state, ts, values in self._late_raw:
                self._put_late_raw(state.id, ts, values)
            for state, ts, values in self._late_rollup:
                self._merge_rollups(state.id, ts, values)
            for state, plan in plans:
                self._seal(state, plan)
            log_change = self._write_log(plans)
            if extra is not None:
                extra(c)
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        return log_change

    def _seal(self, state: SeriesState, plan: SealPlan) -> None:
        for i, j in plan.chunks:
            self.put_raw(state.id, state.tail_ts[i:j], state.tail_v[i:j])
        if plan.days:
            for width in WIDTHS_S:
                self._put_rollups(state.id, width, [b for day in plan.days for b in day.buckets[width]])
            self.conn.execute(
                "UPDATE series SET rolled_until = ? WHERE id = ?", (plan.rolled_until, state.id)
            )

    def _write_log(
        self, plans: list[tuple[SeriesState, SealPlan]]
    ) -> tuple[list[tuple[int, dict[int, int]]] | None, tuple[int, dict[int, int]] | None]:
        """Delete the log rows whose samples are all sealed now; add the new samples still unsealed.

        A commit writes one small row, never the tails again. A row goes once all
        its samples are sealed, whichever rows before it still wait (one holding a
        sample of next year must not keep every later row). At a restart, a log
        sample older than its series' raw rows is known to be sealed and skipped.
        Return the log rows left (None: unchanged) and the row added.
        """
        c = self.conn
        sealed_until = {state.id: state.sealed_until for state in self.series.values()}
        for state, plan in plans:
            sealed_until[state.id] = max(state.sealed_until, plan.sealed_until, plan.rolled_until)
        left: list[tuple[int, dict[int, int]]] | None = None
        # Rows become deletable only when something is sealed: not worth a look otherwise.
        if plans:
            left = []
            run: list[int] = []  # ids of consecutive deletable rows, deleted as one key range
            for row in self._log_rows:
                row_id, newest = row
                if all(ts < sealed_until[series_id] for series_id, ts in newest.items()):
                    run.append(row_id)
                    continue
                left.append(row)
                if run:
                    c.execute("DELETE FROM log WHERE id >= ? AND id <= ?", (run[0], run[-1]))
                    run = []
            if run:
                c.execute("DELETE FROM log WHERE id >= ? AND id <= ?", (run[0], run[-1]))
            if len(left) == len(self._log_rows):
                left = None
        entries = []
        newest = {}
        for state, parts in self._pending.items():
            until = sealed_until[state.id]
            kept = [(t, v) for ts, values in parts for t, v in zip(ts, values, strict=True) if t >= until]
            if kept:  # a bulk load seals most of its samples in the same commit: no log for those
                entries.append((state.id, [t for t, _ in kept], [v for _, v in kept]))
                newest[state.id] = max(t for t, _ in kept)
        if not entries:
            return left, None
        cur = c.execute("INSERT INTO log (data) VALUES (?)", (chunks.encode_log(entries),))
        return left, (int(cur.lastrowid or 0), newest)

    # -- rows on disk --------------------------------------------------------------

    def put_raw(self, series_id: int, ts: Sequence[int], values: Sequence[float]) -> None:
        """Write one raw row of samples sorted by time; merge with a row of the same key."""
        row_key = key(series_id, ts[0])
        cur = self.conn.execute(
            "INSERT INTO raw (id, n, data) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (row_key, len(ts), chunks.encode_samples(ts, values)),
        )
        if cur.rowcount:
            return
        # Same first millisecond as a row already there (late samples): merge the two.
        (blob,) = self.conn.execute("SELECT data FROM raw WHERE id = ?", (row_key,)).fetchone()
        old_ts, old_v = chunks.decode_samples(blob)
        merged = sorted([*zip(old_ts, old_v, strict=True), *zip(ts, values, strict=True)], key=itemgetter(0))
        self.conn.execute(
            "UPDATE raw SET n = ?, data = ? WHERE id = ?",
            (
                len(merged),
                chunks.encode_samples([p[0] for p in merged], [p[1] for p in merged]),
                row_key,
            ),
        )

    def _put_late_raw(self, series_id: int, ts: Sequence[int], values: Sequence[float]) -> None:
        # Late samples get rows of their own, one per local day, next to the sealed ones.
        i, n = 0, len(ts)
        while i < n:
            _, day_end = self.cal.day(ts[i])
            j = i
            while j < n and ts[j] < day_end and j - i < MAX_CHUNK_SAMPLES:
                j += 1
            self.put_raw(series_id, ts[i:j], values[i:j])
            i = j

    def put_buckets(self, width: int, series_id: int, row: int, buckets: Sequence[Bucket]) -> None:
        """Write buckets of `width` sorted by start into the row starting at `row`; merge with its buckets."""
        table = _ROLLUP_TABLES[width]
        row_key = key(series_id, row)
        cur = self.conn.execute(
            f"INSERT INTO {table} (id, n, data) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (row_key, len(buckets), chunks.encode_buckets(buckets)),
        )
        if cur.rowcount:
            return
        (blob,) = self.conn.execute(f"SELECT data FROM {table} WHERE id = ?", (row_key,)).fetchone()
        merged = {b.start: b for b in chunks.decode_buckets(blob)}
        merge_buckets(merged, (b.copy() for b in buckets))
        ordered = [merged[s] for s in sorted(merged)]
        self.conn.execute(
            f"UPDATE {table} SET n = ?, data = ? WHERE id = ?",
            (len(ordered), chunks.encode_buckets(ordered), row_key),
        )

    def _merge_rollups(self, series_id: int, ts: Sequence[int], values: Sequence[float]) -> None:
        for width in WIDTHS_S:
            self._put_rollups(series_id, width, self.cal.buckets(width, ts, values))

    def _put_rollups(self, series_id: int, width: int, buckets: Sequence[Bucket]) -> None:
        # Several days sealed in one commit (an import) share their month's and year's row: write it once.
        by_row: dict[int, list[Bucket]] = {}
        row_start = row_end = -1
        for b in buckets:
            if not row_start <= b.start < row_end:
                row_start, row_end = chunks.row_bounds(self.cal, width, b.start)
            by_row.setdefault(row_start, []).append(b)
        for row, group in by_row.items():
            self.put_buckets(width, series_id, row, group)

    # -- retention -------------------------------------------------------------------

    def purge(self, now_ms: int, retention: Retention, budget: int = 256) -> bool:
        """Delete up to `budget` rows past their retention in one transaction; return True if more remain."""
        ids = sorted(self.by_id)
        if not ids:
            return False
        c = self.conn
        left = budget
        c.execute("BEGIN IMMEDIATE")
        try:
            # Resume with the series where the last step stopped, so every series gets its turn.
            start = self._purge_cursor % len(ids)
            for offset in range(len(ids)):
                state = self.by_id[ids[(start + offset) % len(ids)]]
                for width, days in retention.tiers():
                    if days is None:
                        continue
                    cutoff = now_ms - int(days * 86_400_000)
                    if width == 0:
                        table = "raw"
                        # Never what today's open buckets will be rebuilt from.
                        cutoff = min(cutoff, state.rolled_until)
                    else:
                        table = _ROLLUP_TABLES[width]
                        # Whole rows only: delete a row once all of it is past the retention.
                        cutoff -= chunks.ROW_SPAN_MS[width]
                    cur = c.execute(
                        f"DELETE FROM {table} WHERE id IN "
                        f"(SELECT id FROM {table} WHERE id >= ? AND id < ? LIMIT ?)",
                        (key(state.id, 0), key(state.id, cutoff), left),
                    )
                    left -= max(cur.rowcount, 0)
                    if left <= 0:
                        self._purge_cursor = start + offset
                        break
                if left <= 0:
                    break
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        self.stats.rows_purged += budget - left
        return left <= 0
