"""Alerts on disk: `alerts.db` (SQLite) holds every alert, open and past, so a restart loses none.

Writes go through one thread of their own, in order: a slow or stalled disk
delays the file, never the event loop or the evaluation of rules. The engine's
memory is the truth while it runs; the file is what the next start reads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import sqlite3
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)
ALERTS_FILE = "alerts.db"
SCHEMA = 1
State = Literal["pending", "firing", "acknowledged", "resolved"]
OPEN_STATES: tuple[State, ...] = ("pending", "firing", "acknowledged")
KEEP_RESOLVED = 1000  # past alerts kept in the file; the oldest go first


@dataclass(slots=True)
class Alert:
    """One alert: a rule's condition from the moment it turned bad until it resolved."""

    id: int
    rule: str
    state: State
    severity: str
    label: str
    path: str
    since: float  # when the condition turned bad
    value: Any = None
    unit: str = ""
    message: str = ""
    fired_at: float | None = None
    acked_at: float | None = None
    acked_by: str | None = None
    snoozed_until: float | None = None
    repeats: int = 0
    last_sent: float | None = None
    escalated: bool = False
    resolved_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the alert as the API shows it."""
        return asdict(self)


_NAMES = {f.name for f in fields(Alert)}


def _from_doc(doc: str) -> Alert | None:
    try:
        data = json.loads(doc)
        return Alert(**{k: v for k, v in data.items() if k in _NAMES})
    except (ValueError, TypeError):
        return None


class AlertStore:
    """The alerts file, written by one thread in call order. Open and close on the loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.failures = 0
        self.last_error: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.next_id = 1

    async def open(self) -> list[Alert]:
        """Open (or create) the file; return the open alerts in it. May be called again after a failure."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="roost-alerts")
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._open)

    @property
    def available(self) -> bool:
        """Whether the file is open (writes may still fail, as on a disk gone read-only)."""
        return self._conn is not None

    def _open(self) -> list[Alert]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA:
            conn.close()
            raise RuntimeError(f"{self.path} is from a newer roost (schema {version}); it is left as it is")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS alerts"
            " (id INTEGER PRIMARY KEY, rule TEXT NOT NULL, state TEXT NOT NULL, doc TEXT NOT NULL)"
        )
        conn.execute("CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, id)")
        conn.execute(f"PRAGMA user_version = {SCHEMA}")
        self._conn = conn
        self.next_id = max(self.next_id, (conn.execute("SELECT max(id) FROM alerts").fetchone()[0] or 0) + 1)
        marks = ",".join("?" * len(OPEN_STATES))
        rows = conn.execute(f"SELECT doc FROM alerts WHERE state IN ({marks}) ORDER BY id", OPEN_STATES)
        return [a for (doc,) in rows if (a := _from_doc(doc)) is not None]

    def new_id(self) -> int:
        """Return the next alert id (ids are never reused)."""
        self.next_id += 1
        return self.next_id - 1

    def save(self, alert: Alert) -> None:
        """Write `alert` as it is now (a copy is taken here); never blocks."""
        row = (alert.id, alert.rule, alert.state, json.dumps(alert.to_json()))
        self._submit(self._save, row)

    def delete(self, alert_id: int) -> None:
        """Forget an alert that never fired (a pending one whose condition went away)."""
        self._submit(self._delete, alert_id)

    def _submit(self, func: Any, arg: Any) -> None:
        if self._pool is None:
            return
        self._pool.submit(self._guarded, func, arg)

    def _guarded(self, func: Any, arg: Any) -> None:
        if self._conn is None:
            return  # not open: the engine writes every open alert once it opens
        try:
            func(arg)
            self.last_error = None
        except sqlite3.Error as exc:
            self.failures += 1
            self.last_error = str(exc)
            log.warning("alerts.db: %s (the alert stays in memory)", exc)

    def _save(self, row: tuple[int, str, str, str]) -> None:
        assert self._conn is not None
        self._conn.execute("INSERT OR REPLACE INTO alerts (id, rule, state, doc) VALUES (?, ?, ?, ?)", row)
        if row[2] == "resolved" and row[0] % 100 == 0:
            self._conn.execute(
                "DELETE FROM alerts WHERE state = 'resolved' AND id <= ?", (row[0] - KEEP_RESOLVED,)
            )

    def _delete(self, alert_id: int) -> None:
        assert self._conn is not None
        self._conn.execute("DELETE FROM alerts WHERE id = ?", (alert_id,))

    async def recent(self, limit: int) -> list[Alert]:
        """Return the newest resolved alerts, newest first (after every write queued before)."""
        if self._pool is None or self._conn is None:
            return []
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._recent, limit)

    def _recent(self, limit: int) -> list[Alert]:
        assert self._conn is not None
        try:
            rows = self._conn.execute(
                "SELECT doc FROM alerts WHERE state = 'resolved' ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        except sqlite3.Error as exc:
            log.warning("alerts.db: %s", exc)
            return []
        return [a for (doc,) in rows if (a := _from_doc(doc)) is not None]

    async def close(self) -> None:
        """Write what is queued and close the file."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        await asyncio.get_running_loop().run_in_executor(pool, self._close)
        pool.shutdown(wait=True)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
