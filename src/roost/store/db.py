"""Opening the history database: connection settings and numbered migrations.

Connections use SQLite's `unix-excl` VFS where it exists: one process holds the
database, and its connections share the WAL index in heap memory instead of a
memory-mapped `-shm` file. That file would be dirtied, and so written to the SD
card, on every commit; without it a commit writes only its WAL frames. Other
processes get "database is locked" while a node runs, which also keeps a
second node or an import from writing under the recorder's feet.

The writer runs in WAL mode with `synchronous=FULL`: each commit is on disk when
it returns, so a power cut loses at most the samples of one commit interval,
and WAL never leaves a half-written transaction behind.

Pages are 1 KiB, not SQLite's usual 4 KiB. A commit of a few samples changes
one page, and its WAL frame (page plus 24 bytes) then dirties one 4 KiB block
of the file, or two where it straddles one; a 4 KiB page's frame always
straddles two. Measured by bench/history.py, that is a third fewer bytes
written per hour, with the same size on disk and the same query speed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from roost.core.errors import Unavailable

DB_FILE = "history.db"
PAGE_SIZE = 1024
# Checkpoint after this many WAL frames (4 MiB): rarer checkpoints copy a page
# changed by many commits to the database file once.
WAL_AUTOCHECKPOINT = 4096
_BUSY_TIMEOUT_S = 5.0
# Another process holds the database for as long as it runs: no point waiting long for it.
_OPEN_TIMEOUT_S = 0.25


class HistoryUnavailable(Unavailable):
    """The history database cannot be opened (held by another process, or too new)."""

    code = "history_unavailable"


class HistoryUnwritable(HistoryUnavailable):
    """The history database cannot be written (a read-only directory or disk): may pass."""


def _uri(path: Path, vfs: str | None) -> str:
    uri = "file:" + quote(str(path.resolve()))
    return uri + (f"?vfs={vfs}" if vfs else "")


def _connect_raw(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(
            _uri(path, "unix-excl"),
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=_OPEN_TIMEOUT_S,
        )
    except sqlite3.OperationalError as exc:
        if "no such vfs" not in str(exc):
            raise
    # Not a unix system: the default VFS (with its -shm file) works the same, writing a little more.
    return sqlite3.connect(
        _uri(path, None), uri=True, isolation_level=None, check_same_thread=False, timeout=_OPEN_TIMEOUT_S
    )


def connect(path: Path, *, writer: bool) -> sqlite3.Connection:
    """Open a connection to the database at `path`: the one writer, or a read-only reader.

    Raise HistoryUnavailable when another process holds the database.
    """
    try:
        conn = _connect_raw(path)
        if writer:
            # Before the first table exists; later it has no effect.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise HistoryUnwritable(f"cannot switch {path.name} to WAL mode (it stays {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
            # Some builds zero every freed page; that is pure extra writing for us.
            conn.execute("PRAGMA secure_delete = OFF")
        else:
            conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise HistoryUnavailable(
                f"the history database {path} is in use by another process (a running roost?)"
            ) from None
        raise
    return conn


def backup_database(source: sqlite3.Connection, target: Path) -> None:
    """Copy the database of `source` to a new file `target`, consistently, with SQLite's online backup."""
    dest = sqlite3.connect(target)
    try:
        # All pages in one step: the copy is of one moment, whatever writes come after.
        source.backup(dest)
    finally:
        dest.close()


# -- migrations ------------------------------------------------------------------
# Each migration is a numbered function, run once, in its own transaction; the
# database's `user_version` is the number of the last one applied.


def _m1_initial(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    conn.execute(
        "CREATE TABLE series ("
        " id INTEGER PRIMARY KEY,"
        " path TEXT NOT NULL UNIQUE,"
        # Buckets before this instant (ms, a local midnight) are in the rollup tables.
        " rolled_until INTEGER NOT NULL DEFAULT 0)"
    )
    # Raw samples, one row per series per local day (split beyond 4096), key = series << 44 | first ms.
    conn.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, data BLOB NOT NULL)")
    # Rollup buckets, one row per series per local day (5 min), month (1 h) or year (1 d),
    # key = series << 44 | start ms of that day, month or year.
    for width in (300, 3600, 86400):
        conn.execute(
            f"CREATE TABLE rollup_{width} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, data BLOB NOT NULL)"
        )
    # Samples committed but not yet sealed into `raw`; emptied when chunks are sealed.
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    # CSV imports, so that an interrupted one resumes where it stopped. A file is
    # recognised by the hash of its first head_len bytes (up to 64 KiB, all imported).
    conn.execute(
        "CREATE TABLE imports ("
        " id INTEGER PRIMARY KEY, name TEXT NOT NULL, head_len INTEGER NOT NULL, head_hash TEXT NOT NULL,"
        " offset INTEGER NOT NULL, line INTEGER NOT NULL, rows INTEGER NOT NULL, bad INTEGER NOT NULL,"
        " updated REAL NOT NULL)"
    )


def _m2_retained(conn: sqlite3.Connection) -> None:
    # The last value of each leaf the program retains (`app.meta(path, retain=True)`),
    # as JSON, written in the recorder's commits and put back into the tree at start.
    conn.execute("CREATE TABLE retained (path TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_m1_initial, _m2_retained)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks; return its schema version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise HistoryUnavailable(
            f"the history database has schema version {version}; this roost knows up to {len(MIGRATIONS)}"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number - 1](conn)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def setting(conn: sqlite3.Connection, name: str) -> str | None:
    """Return a stored setting, or None."""
    row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def put_setting(conn: sqlite3.Connection, name: str, value: str) -> None:
    """Store a setting (inside the caller's transaction, if any)."""
    conn.execute(
        "INSERT INTO settings (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


__all__ = ["DB_FILE", "MIGRATIONS", "HistoryUnavailable", "connect", "migrate"]
