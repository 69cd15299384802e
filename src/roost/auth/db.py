"""auth.db: users, sessions, API tokens, one-time tickets and the audit log, in SQLite.

The node and the `roost user` / `roost token` commands open the same file (WAL
mode, so either may write while the other reads). The node keeps users, tokens
and sessions in memory and reloads them when another process commits
(`PRAGMA data_version`), so a token revoked from the command line stops working
at once without a database read per request.

Every method is thread-safe (one connection behind a lock); the node calls the
writing ones through `asyncio.to_thread`.
"""

from __future__ import annotations

import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from roost.core.caller import Scope

DB_FILE = "auth.db"
_BUSY_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in with a password."""

    name: str
    password_hash: str
    scope: Scope
    created: float
    changed: float


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: only the digest of its cookie is stored."""

    digest: str
    user: str
    csrf: str
    created: float
    last_seen: float
    address: str


@dataclass(frozen=True, slots=True)
class Token:
    """An API token: only the digest of its secret is stored."""

    id: str
    name: str
    digest: str
    scope: Scope
    created: float
    expires: float | None
    created_by: str

    def to_json(self) -> dict[str, Any]:
        """Return what the API shows of a token (never its digest)."""
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope.label,
            "created": self.created,
            "expires": self.expires,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    ts: float
    kind: str
    principal: str = ""
    transport: str = ""
    address: str = ""
    detail: dict[str, Any] | None = None


def _v1(db: sqlite3.Connection) -> None:
    # Statement by statement: executescript() would commit the migration's transaction.
    script = """
        CREATE TABLE users (
            name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, scope TEXT NOT NULL,
            created REAL NOT NULL, changed REAL NOT NULL);
        CREATE TABLE sessions (
            digest TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
            csrf TEXT NOT NULL, created REAL NOT NULL, last_seen REAL NOT NULL, address TEXT NOT NULL);
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, digest TEXT NOT NULL UNIQUE,
            scope TEXT NOT NULL, created REAL NOT NULL, expires REAL, created_by TEXT NOT NULL);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, principal TEXT NOT NULL,
            transport TEXT NOT NULL, address TEXT NOT NULL, detail TEXT);
        CREATE INDEX audit_ts ON audit(ts);
        """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def read_snapshot(path: Path) -> tuple[list[User], list[Token], list[Session]]:
    """Read users, tokens and sessions from an auth.db that cannot be opened for writing.

    `immutable=1`: SQLite reads the file as it is, without the -wal and -shm files a
    read-only directory cannot hold. Raise sqlite3.Error or OSError if even that fails.
    """
    uri = "file:" + quote(str(path.resolve())) + "?immutable=1"
    db = sqlite3.connect(uri, uri=True)
    try:
        users = [
            User(r[0], r[1], Scope.parse(r[2]), r[3], r[4])
            for r in db.execute("SELECT name, password_hash, scope, created, changed FROM users")
        ]
        tokens = [
            Token(r[0], r[1], r[2], Scope.parse(r[3]), r[4], r[5], r[6])
            for r in db.execute("SELECT id, name, digest, scope, created, expires, created_by FROM tokens")
        ]
        sessions = [
            Session(*r)
            for r in db.execute("SELECT digest, user, csrf, created, last_seen, address FROM sessions")
        ]
    finally:
        db.close()
    return users, tokens, sessions


# Numbered migrations: index i brings the schema from version i to i + 1.
MIGRATIONS: Sequence[Callable[[sqlite3.Connection], None]] = (_v1,)


class AuthDB:
    """The auth database of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_FILE
        fresh = not self.path.exists()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if fresh:
            # Password hashes and session digests: nobody else's business on this machine.
            os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                for step in MIGRATIONS[version:]:
                    step(self._db)
                self._db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: Iterable[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(args)).rowcount

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def data_version(self) -> int:
        """Return SQLite's data version: it changes when another connection commits."""
        return int(self._read("PRAGMA data_version")[0][0])

    # -- users -------------------------------------------------------------------

    def users(self) -> list[User]:
        """Return every user, by name."""
        rows = self._read("SELECT name, password_hash, scope, created, changed FROM users ORDER BY name")
        return [User(r[0], r[1], Scope.parse(r[2]), r[3], r[4]) for r in rows]

    def user(self, name: str) -> User | None:
        """Return the user `name`, if any."""
        return next((u for u in self.users() if u.name == name), None)

    def add_user(self, name: str, password_hash: str, scope: Scope, now: float) -> bool:
        """Add a user; return False if the name is taken. Clears the set-up code."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)", (name, password_hash, scope.label, now, now)
                )
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                return False
            self._db.execute("DELETE FROM settings WHERE key = 'setup_code'")
            self._db.execute("COMMIT")
            return True

    def set_password(self, name: str, password_hash: str, now: float) -> bool:
        """Replace a user's password and end every session of theirs; return False if no such user."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            n = self._db.execute(
                "UPDATE users SET password_hash = ?, changed = ? WHERE name = ?", (password_hash, now, name)
            ).rowcount
            self._db.execute("DELETE FROM sessions WHERE user = ?", (name,))
            self._db.execute("COMMIT")
            return n > 0

    def rehash(self, name: str, old_hash: str, new_hash: str) -> None:
        """Store a stronger hash of the same password (sessions stay)."""
        self._write(
            "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
            (new_hash, name, old_hash),
        )

    def remove_user(self, name: str) -> bool:
        """Remove a user and their sessions; return False if no such user."""
        return self._write("DELETE FROM users WHERE name = ?", (name,)) > 0

    # -- set-up code ---------------------------------------------------------------

    def setup_digest(self) -> str | None:
        """Return the digest of the current set-up code, if one is outstanding."""
        rows = self._read("SELECT value FROM settings WHERE key = 'setup_code'")
        return str(rows[0][0]) if rows else None

    def set_setup_digest(self, value: str | None) -> None:
        """Store (or with None, clear) the digest of the set-up code."""
        if value is None:
            self._write("DELETE FROM settings WHERE key = 'setup_code'")
        else:
            self._write("INSERT OR REPLACE INTO settings VALUES ('setup_code', ?)", (value,))

    def claim_setup(self, code_digest: str, name: str, password_hash: str, now: float) -> bool:
        """Create the first admin if `code_digest` is the outstanding code and no user exists.

        One transaction: two requests racing with the same code create one admin.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT value FROM settings WHERE key = 'setup_code'").fetchone()
            users = self._db.execute("SELECT count(*) FROM users").fetchone()[0]
            if row is None or users or not hmac.compare_digest(str(row[0]), code_digest):
                self._db.execute("ROLLBACK")
                return False
            self._db.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)", (name, password_hash, Scope.ADMIN.label, now, now)
            )
            self._db.execute("DELETE FROM settings WHERE key = 'setup_code'")
            self._db.execute("COMMIT")
            return True

    # -- sessions -----------------------------------------------------------------

    def sessions(self) -> list[Session]:
        """Return every stored session."""
        rows = self._read("SELECT digest, user, csrf, created, last_seen, address FROM sessions")
        return [Session(*r) for r in rows]

    def add_session(self, session: Session) -> None:
        """Store a new session."""
        s = session
        self._write(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
            (s.digest, s.user, s.csrf, s.created, s.last_seen, s.address),
        )

    def remove_sessions(self, digests: Iterable[str]) -> None:
        """Forget sessions by digest."""
        with self._lock:
            self._db.executemany("DELETE FROM sessions WHERE digest = ?", [(d,) for d in digests])

    def touch_sessions(self, last_seen: dict[str, float]) -> None:
        """Store when sessions were last used (written now and then, not per request)."""
        with self._lock:
            self._db.executemany(
                "UPDATE sessions SET last_seen = max(last_seen, ?) WHERE digest = ?",
                [(t, d) for d, t in last_seen.items()],
            )

    # -- tokens --------------------------------------------------------------------

    def tokens(self) -> list[Token]:
        """Return every token, oldest first."""
        rows = self._read(
            "SELECT id, name, digest, scope, created, expires, created_by FROM tokens ORDER BY created, id"
        )
        return [Token(r[0], r[1], r[2], Scope.parse(r[3]), r[4], r[5], r[6]) for r in rows]

    def add_token(self, token: Token) -> bool:
        """Store a token; return False if its name is taken."""
        t = token
        try:
            self._write(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)",
                (t.id, t.name, t.digest, t.scope.label, t.created, t.expires, t.created_by),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def remove_token(self, id_or_name: str) -> Token | None:
        """Revoke a token by id or name; return it, or None if there is none."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, digest, scope, created, expires, created_by FROM tokens "
                "WHERE id = ? OR name = ?",
                (id_or_name, id_or_name),
            ).fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM tokens WHERE id = ?", (row[0],))
        return Token(row[0], row[1], row[2], Scope.parse(row[3]), row[4], row[5], row[6])

    # -- audit ---------------------------------------------------------------------

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries to the audit log in one transaction."""
        rows = [
            (
                e.ts,
                e.kind,
                e.principal,
                e.transport,
                e.address,
                None if e.detail is None else json.dumps(e.detail, default=str, separators=(",", ":")),
            )
            for e in entries
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO audit (ts, kind, principal, transport, address, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")

    def audit(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        kind: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """Return audit entries, newest first."""
        where: list[str] = []
        args: list[Any] = []
        if before_id is not None:
            where.append("id < ?")
            args.append(before_id)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        sql = "SELECT id, ts, kind, principal, transport, address, detail FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self._read(sql, [*args, limit])
        return [
            {
                "id": r[0],
                "ts": r[1],
                "kind": r[2],
                "principal": r[3],
                "transport": r[4],
                "address": r[5],
                "detail": None if r[6] is None else json.loads(r[6]),
            }
            for r in rows
        ]

    def prune_audit(self, before: float) -> int:
        """Delete audit entries older than `before`; return how many."""
        return self._write("DELETE FROM audit WHERE ts < ?", (before,))
