"""The authentication component: who a request is, sessions, tokens, tickets, set-up, audit.

Users, tokens and sessions live in `auth.db` and in memory: a request is
checked against dicts keyed by the SHA-256 of its secret, never by a database
read. A tick (every `tick_s`) expires sessions and tokens, picks up changes
other processes committed (`roost token revoke` while the node runs), writes
the audit entries gathered since the last tick, and closes the streams of
credentials that ended through `hub.credentials`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from roost.auth import crypto
from roost.auth.db import DB_FILE, AuditEntry, AuthDB, Session, Token, User, read_snapshot
from roost.auth.errors import LoginThrottled, SetupRefused, Unauthenticated
from roost.auth.policy import is_loopback_name, parse_networks
from roost.auth.settings import DAY_S, AuthSettings
from roost.auth.throttle import LoginThrottle
from roost.core.caller import Caller, Scope
from roost.core.errors import BadRequest, InvalidArguments, Unavailable
from roost.runtime.commands import CallRecord
from roost.runtime.component import Component
from roost.runtime.hub import Hub

log = logging.getLogger(__name__)

SETUP_FILE = "setup-code"
REOPEN_EVERY_S = 5.0
MAX_QUEUED_AUDIT = 10_000
Kind = Literal["open", "session", "token", "ticket", "none"]


@dataclass(frozen=True, slots=True)
class Identity:
    """What a request's credentials prove: who, with what scope, through which credential."""

    kind: Kind
    principal: str = ""
    scope: Scope | None = None
    key: str = ""  # opaque credential key for hub.credentials ("" when none)
    csrf: str = ""  # the session's CSRF token
    session: str = ""  # the session's digest


NOBODY = Identity("none")


class Auth(Component):
    """Users, sessions, scoped tokens and the audit log of one node. Loop only, except `bind_host`."""

    name = "auth"

    def __init__(self, hub: Hub, settings: AuthSettings | None = None) -> None:
        self.hub = hub
        self.settings = settings or AuthSettings()
        self.trusted = parse_networks(self.settings.trusted_proxies)
        self.bind_host = "127.0.0.1"  # set by the App before it starts
        self.db: AuthDB | None = None
        self.throttle = LoginThrottle(hub.clock.monotonic)
        self._users: dict[str, User] = {}
        self._tokens: dict[str, Token] = {}  # by digest of the secret
        self._sessions: dict[str, Session] = {}  # by digest of the cookie
        self._seen: dict[str, float] = {}  # session digest -> last use, not yet stored
        self._touch_every_s = min(60.0, self.settings.session_idle_s / 10)
        self._tickets: dict[str, tuple[float, Identity]] = {}  # by digest
        self._audit: list[AuditEntry] = []
        self._data_version = -1
        self._task: asyncio.Task[None] | None = None
        self._hashing = asyncio.Semaphore(self.settings.max_concurrent_hashes)
        self._unlisten: Callable[[], None] | None = None
        self.setup_code: str | None = None
        # Why auth.db cannot be used (a read-only data directory); None when it can.
        self.unavailable: str | None = None
        self._locked = False

    # -- lifecycle -------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The node's data directory (auth.db and the set-up code file live there)."""
        return self.hub.data_dir

    async def start(self) -> None:
        """Open auth.db, load users, tokens and sessions, make a set-up code if needed. Loop only."""
        self._unlisten = self.hub.commands.listen(self._on_command)
        await self._open()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _open(self) -> bool:
        """Open auth.db and load it; return False (read-only mode) if it cannot be opened for writing."""
        try:
            self.db = await asyncio.to_thread(AuthDB, self.data_dir)
        except (OSError, sqlite3.Error) as exc:
            await self._read_only(exc)
            return False
        if self.unavailable is not None:
            log.warning("authentication available again")
        self.unavailable = None
        await self._reload()
        if not self._users and self.required:
            await self._new_setup_code()
        else:
            # On an open loopback node `roost user add NAME --admin` makes the first user.
            self._remove_setup_file()
            await asyncio.to_thread(self._db().set_setup_digest, None)
        return True

    async def stop(self) -> None:
        """Write what is pending and close auth.db. Loop only."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.db is not None:
            try:
                await self._flush()
            except (OSError, sqlite3.Error):
                log.exception("the last audit entries could not be written")
            await asyncio.to_thread(self.db.close)
            self.db = None

    def health(self) -> dict[str, Any]:
        """Return the mode, counts of users, tokens and sessions."""
        return {
            # Read-only auth.db still serves users and tokens: only a locked node is failing.
            "ok": not (self.unavailable is not None and self._locked),
            "error": self.unavailable,
            "required": self.required,
            "users": len(self._users),
            "tokens": len(self._tokens),
            "sessions": len(self._sessions),
            "setup_pending": self.setup_code is not None,
        }

    # -- the model ------------------------------------------------------------------

    @property
    def required(self) -> bool:
        """Whether requests need credentials: once a user exists, off loopback, or behind a proxy."""
        if self.unavailable is not None and self._locked:
            return True  # nobody knows who may do what
        if self.settings.require is not None:
            return self.settings.require
        # A proxy on this machine forwards other machines' requests: loopback is no longer "local".
        return bool(self._users) or not is_loopback_name(self.bind_host) or bool(self.trusted)

    @property
    def setup_needed(self) -> bool:
        """Whether no user exists yet (the first-run screen shows)."""
        return not self._users

    def now(self) -> float:
        """Wall-clock seconds (the hub's clock)."""
        return self.hub.clock.time()

    def _db(self) -> AuthDB:
        if self.db is None:
            raise Unavailable(self.unavailable or "authentication is not started")
        return self.db

    # -- credentials -----------------------------------------------------------------

    def by_token(self, secret: str) -> Identity | None:
        """Return the identity of an API token secret, or None. No database read."""
        token = self._tokens.get(crypto.digest(secret))
        if token is None or (token.expires is not None and token.expires <= self.now()):
            return None
        return Identity("token", f"token:{token.name}", token.scope, f"t:{token.id}")

    def by_session(self, cookie: str) -> Identity | None:
        """Return the identity of a session cookie, or None; counts as a use of the session."""
        d = crypto.digest(cookie)
        session = self._sessions.get(d)
        if session is None:
            return None
        now = self.now()
        if self._expired(session, now):
            return None
        user = self._users.get(session.user)
        if user is None:
            return None
        # Stored now and then, not per request: the idle expiry is off by at most this much.
        if now - max(session.last_seen, self._seen.get(d, 0.0)) >= self._touch_every_s:
            self._seen[d] = now
        return Identity("session", user.name, user.scope, f"s:{d}", session.csrf, d)

    def by_ticket(self, ticket: str) -> Identity | None:
        """Return the identity behind a one-time ticket and use it up, or None."""
        entry = self._tickets.pop(crypto.digest(ticket), None)
        if entry is None or entry[0] <= self.now():
            return None
        return replace(entry[1], kind="ticket")

    def ticket_for(self, identity: Identity) -> str:
        """Return a new single-use ticket for the URL of a stream, valid `ticket_ttl_s`."""
        now = self.now()
        # Drop expired ones as new ones come, so the dict cannot grow without bound.
        for d in [d for d, (t, _) in self._tickets.items() if t <= now]:
            del self._tickets[d]
        ticket = crypto.new_secret()
        self._tickets[crypto.digest(ticket)] = (now + self.settings.ticket_ttl_s, identity)
        return ticket

    def _expired(self, session: Session, now: float) -> bool:
        last = max(session.last_seen, self._seen.get(session.digest, 0.0))
        s = self.settings
        return now - last >= s.session_idle_s or now - session.created >= s.session_max_s

    # -- logging in ------------------------------------------------------------------

    async def login(
        self, name: str, password: str, address: str, old_cookie: str | None
    ) -> tuple[str, Session]:
        """Check a password and open a new session; return `(cookie, session)`.

        Raise LoginThrottled while the name or address must wait, Unauthenticated
        for a wrong name or password (the same answer and the same work for both).
        """
        keys = (f"user:{name.casefold()}", f"addr:{address}")
        wait = self.throttle.wait_s(keys)
        if wait > 0:
            self.audit("login_throttled", name, "http", address)
            raise LoginThrottled(wait)
        user = self._users.get(name)
        stored = user.password_hash if user is not None else None
        async with self._hashing:
            ok = await asyncio.to_thread(crypto.verify_password, password, stored, self.settings.scrypt)
        if not ok or user is None:
            self.throttle.failed(keys)
            self.audit("login_failed", name, "http", address)
            raise Unauthenticated("wrong user name or password")
        self.throttle.succeeded(keys)
        if crypto.needs_rehash(user.password_hash, self.settings.scrypt):
            new_hash = await asyncio.to_thread(crypto.hash_password, password, self.settings.scrypt)
            await asyncio.to_thread(self._db().rehash, user.name, user.password_hash, new_hash)
            self._users[user.name] = replace(user, password_hash=new_hash)
        if old_cookie:
            # A new id at every login: a cookie planted before it is worth nothing after.
            await self.end_session(crypto.digest(old_cookie))
        cookie, session = await self._open_session(user.name, address)
        self.audit("login", user.name, "http", address)
        return cookie, session

    async def _open_session(self, user: str, address: str) -> tuple[str, Session]:
        cookie = crypto.new_secret()
        now = self.now()
        session = Session(crypto.digest(cookie), user, crypto.new_secret(), now, now, address)
        await asyncio.to_thread(self._db().add_session, session)
        self._sessions[session.digest] = session
        return cookie, session

    async def end_session(self, digest: str) -> bool:
        """End a session (sign-out); its streams close. Return whether it existed."""
        session = self._sessions.pop(digest, None)
        self._seen.pop(digest, None)
        await asyncio.to_thread(self._db().remove_sessions, [digest])
        self.hub.credentials.revoke([f"s:{digest}"])
        return session is not None

    async def setup(self, code: str, name: str, password: str, address: str) -> tuple[str, Session]:
        """Create the first admin with the set-up code and sign them in; refuse a wrong or used code."""
        keys = (f"addr:{address}", "setup")
        wait = self.throttle.wait_s(keys)
        if wait > 0:
            raise LoginThrottled(wait)
        check_user_name(name)
        problem = crypto.check_password_rules(password)
        if problem is not None:
            raise InvalidArguments(problem, argument="password")
        password_hash = await self._hash(password)
        given = crypto.digest(crypto.normalize_setup_code(code))
        if not await asyncio.to_thread(self._db().claim_setup, given, name, password_hash, self.now()):
            self.throttle.failed(keys)
            self.audit("setup_refused", name, "http", address)
            if self._users or self.setup_code is None:
                raise SetupRefused("this node is already set up; sign in instead")
            raise SetupRefused("wrong set-up code; it is in the node's log and in <data dir>/setup-code")
        self.throttle.succeeded(keys)
        self.setup_code = None
        self._remove_setup_file()
        await self._reload()
        self.audit("user_added", name, "http", address, {"user": name, "scope": "admin", "via": "setup"})
        cookie, session = await self._open_session(name, address)
        self.audit("login", name, "http", address)
        return cookie, session

    async def _read_only(self, exc: BaseException) -> None:
        # A read-only data directory: users, tokens and sessions are read as they are,
        # and checked as usual; what would write (signing in, tokens, the set-up) is
        # 503 until auth.db opens again. No auth.db at all means no user: the usual
        # rule holds (open on loopback). One that cannot even be read is locked.
        path = self.data_dir / DB_FILE
        first = self.unavailable is None
        self.unavailable = f"authentication is read-only: {DB_FILE} in the data directory cannot be written"
        self._locked = False
        if path.exists():
            try:
                users, tokens, sessions = await asyncio.to_thread(read_snapshot, path)
            except (OSError, sqlite3.Error):
                self._locked = True
            else:
                self._users = {u.name: u for u in users}
                self._tokens = {t.digest: t for t in tokens}
                self._sessions = {x.digest: x for x in sessions}
        if first:
            what = "every request but the page is refused" if self._locked else "signing in and tokens wait"
            log.error("authentication unavailable (%s): %s", what, exc)

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(crypto.hash_password, password, self.settings.scrypt)

    async def _new_setup_code(self) -> None:
        code = crypto.new_setup_code()
        await asyncio.to_thread(self._db().set_setup_digest, crypto.digest(crypto.normalize_setup_code(code)))
        path = self.data_dir / SETUP_FILE
        # Created with 0600 from the start: never readable by others, not even for an instant.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(code + "\n")
        os.chmod(path, 0o600)  # an older file of looser mode keeps its mode through O_TRUNC
        self.setup_code = code
        log.warning(
            "no user yet: create the admin on the page's first-run screen with the set-up code %s "
            "(also in %s), or run `roost user add NAME --admin`",
            code,
            path,
        )

    def _remove_setup_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / SETUP_FILE).unlink()

    async def add_user(self, name: str, password: str, scope: Scope, by: Caller) -> None:
        """Add a user (for programs and tests; people use `roost user add`)."""
        check_user_name(name)
        problem = crypto.check_password_rules(password)
        if problem is not None:
            raise InvalidArguments(problem, argument="password")
        password_hash = await self._hash(password)
        if not await asyncio.to_thread(self._db().add_user, name, password_hash, scope, self.now()):
            raise InvalidArguments(f"a user named {name!r} exists already", argument="name")
        await self._reload()
        self.audit("user_added", by.principal, by.transport, by.address, {"user": name, "scope": scope.label})

    # -- tokens ------------------------------------------------------------------------

    async def create_token(
        self, name: str, scope: Scope, expires_s: float | None, by: Caller
    ) -> tuple[str, Token]:
        """Create a token; return its secret (shown once) and its record."""
        check_token_name(name)
        secret = crypto.new_token()
        now = self.now()
        token = Token(
            secrets.token_hex(4),
            name,
            crypto.digest(secret),
            scope,
            now,
            None if expires_s is None else now + expires_s,
            by.principal or by.transport,
        )
        if not await asyncio.to_thread(self._db().add_token, token):
            raise InvalidArguments(f"a token named {name!r} exists already", argument="name")
        self._tokens[token.digest] = token
        self.audit("token_created", by.principal, by.transport, by.address, token.to_json())
        return secret, token

    async def revoke_token(self, id_or_name: str, by: Caller) -> Token | None:
        """Revoke a token by id or name; its open streams close. Return it, or None."""
        token = await asyncio.to_thread(self._db().remove_token, id_or_name)
        if token is None:
            return None
        self._tokens.pop(token.digest, None)
        self._drop_tickets(f"t:{token.id}")
        self.hub.credentials.revoke([f"t:{token.id}"])
        self.audit("token_revoked", by.principal, by.transport, by.address, token.to_json())
        return token

    def tokens(self) -> list[Token]:
        """Return every token, oldest first."""
        return sorted(self._tokens.values(), key=lambda t: (t.created, t.id))

    def _drop_tickets(self, key: str) -> None:
        for d in [d for d, (_, ident) in self._tickets.items() if ident.key == key]:
            del self._tickets[d]

    # -- audit -----------------------------------------------------------------------

    def audit(
        self, kind: str, principal: str, transport: str, address: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Queue an audit entry; the next tick writes it."""
        self._queue(AuditEntry(self.now(), kind, principal, transport, address, detail))

    def _queue(self, entry: AuditEntry) -> None:
        if len(self._audit) >= MAX_QUEUED_AUDIT:  # auth.db unwritable for long: keep the newest
            del self._audit[: MAX_QUEUED_AUDIT // 10]
        self._audit.append(entry)

    def _on_command(self, record: CallRecord) -> None:
        # hub.commands.listen: every finished call, refused ones included.
        caller = record.caller
        detail: dict[str, Any] = {
            "command": record.command,
            "args": dict(record.args),
            "outcome": record.outcome,
            "scope": caller.scope.label,
            "duration_s": round(record.duration_s, 4),
        }
        if record.error:
            detail["error"] = record.error
        self._queue(
            AuditEntry(record.ts, "command", caller.principal, caller.transport, caller.address, detail)
        )

    async def query_audit(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Return audit entries, newest first (what is queued is written first)."""
        await self._flush()
        return await asyncio.to_thread(self._db().audit, **kwargs)

    # -- the tick ----------------------------------------------------------------------

    async def _run(self) -> None:
        last_prune = float("-inf")
        last_open = self.now()
        while True:
            await asyncio.sleep(self.settings.tick_s)
            if self.db is None:
                if self.now() - last_open >= REOPEN_EVERY_S:
                    last_open = self.now()
                    await self._open()
                continue
            try:
                await self._tick()
                if self.now() - last_prune > DAY_S:
                    last_prune = self.now()
                    keep_s = self.settings.audit_keep_days * DAY_S
                    await asyncio.to_thread(self._db().prune_audit, self.now() - keep_s)
            except Exception:
                log.exception("authentication housekeeping failed")

    async def _tick(self) -> None:
        now = self.now()
        ended: list[str] = []
        expired = [d for d, s in self._sessions.items() if self._expired(s, now)]
        for d in expired:
            del self._sessions[d]
            self._seen.pop(d, None)
            ended.append(f"s:{d}")
        if expired:
            await asyncio.to_thread(self._db().remove_sessions, expired)
        for d, t in list(self._tokens.items()):
            if t.expires is not None and t.expires <= now:
                del self._tokens[d]
                ended.append(f"t:{t.id}")
        self.hub.credentials.revoke(ended)
        version = await asyncio.to_thread(self._db().data_version)
        if version != self._data_version:
            await self._reload()
        await self._flush()

    async def _flush(self) -> None:
        db = self._db()
        if self._audit:
            entries, self._audit = self._audit, []
            await asyncio.to_thread(db.append_audit, entries)
        if self._seen:
            seen, self._seen = self._seen, {}
            seen = {d: t for d, t in seen.items() if d in self._sessions}
            for d, t in seen.items():
                self._sessions[d] = replace(self._sessions[d], last_seen=t)
            if seen:
                await asyncio.to_thread(db.touch_sessions, seen)

    async def _reload(self) -> None:
        """Load users, tokens and sessions; close the streams of those that went."""
        db = self._db()

        def load() -> tuple[int, list[User], list[Token], list[Session]]:
            return db.data_version(), db.users(), db.tokens(), db.sessions()

        version, users, tokens, sessions = await asyncio.to_thread(load)
        now = self.now()
        new_tokens = {t.digest: t for t in tokens if t.expires is None or t.expires > now}
        new_sessions = {s.digest: s for s in sessions}
        ended = [f"t:{t.id}" for d, t in self._tokens.items() if d not in new_tokens]
        ended += [f"s:{d}" for d in self._sessions if d not in new_sessions]
        self._users = {u.name: u for u in users}
        self._tokens = new_tokens
        self._sessions = new_sessions
        self._data_version = version
        for key in ended:
            self._drop_tickets(key)
        self.hub.credentials.revoke(ended)
        if self._users and self.setup_code is not None:
            self.setup_code = None
            self._remove_setup_file()


def check_user_name(name: str) -> None:
    """Refuse user names that are empty, too long, or would be confused with tokens."""
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not name.isprintable():
        raise InvalidArguments("a user name has 1 to 64 printable characters", argument="name")
    if name.startswith("token:") or name != name.strip():
        raise InvalidArguments("a user name may not start with 'token:' or with a space", argument="name")


def check_token_name(name: str) -> None:
    """Refuse token names that are empty or too long."""
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not name.isprintable():
        raise InvalidArguments("a token name has 1 to 64 printable characters", argument="name")


def parse_duration(text: str) -> float:
    """Return seconds for `90d`, `12h`, `30m`, `3600s` or `3600`; raise BadRequest."""
    text = text.strip().lower()
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY_S, "w": 7 * DAY_S}
    factor = units.get(text[-1:])
    number = text[:-1] if factor is not None else text
    try:
        value = float(number) * (factor or 1.0)
    except ValueError:
        raise BadRequest(f"not a duration: {text!r}; use e.g. 90d, 12h or 30m") from None
    if not 0 < value < 100 * 365 * DAY_S:
        raise BadRequest(f"a duration must be positive and under 100 years, not {text!r}")
    return value
