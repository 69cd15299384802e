"""`roost user ...` and `roost token ...`: manage a node's users and API tokens from the shell.

They work while the node runs: it notices the change within a tick (a revoked
token's streams close, a changed password ends that user's sessions).
"""

from __future__ import annotations

import getpass
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from roost.auth import crypto
from roost.auth.db import AuditEntry, AuthDB, Token
from roost.auth.service import SETUP_FILE, check_token_name, check_user_name, parse_duration
from roost.core.caller import Scope
from roost.core.errors import RoostError

ReadPassword = Callable[[str], str]


def _who() -> str:
    try:
        return f"shell:{getpass.getuser()}"
    except (KeyError, OSError):
        return "shell"


def _audit(db: AuthDB, kind: str, detail: dict[str, object]) -> None:
    db.append_audit([AuditEntry(time.time(), kind, _who(), "program", "", detail)])


def read_password(stdin: bool, prompt: Callable[[str], str] = getpass.getpass) -> str:
    """Read a new password: one line from standard input, or typed twice at a prompt."""
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = prompt("Password: ")
    if prompt("Password again: ") != first:
        raise RoostError("the two passwords differ")
    return first


def _new_hash(password: str) -> str:
    problem = crypto.check_password_rules(password)
    if problem is not None:
        raise RoostError(problem)
    return crypto.hash_password(password)


def user_add(data_dir: Path, name: str, scope: Scope, password: str, out: TextIO) -> int:
    """Add a user."""
    check_user_name(name)
    db = AuthDB(data_dir)
    try:
        if not db.add_user(name, _new_hash(password), scope, time.time()):
            print(f"roost: a user named {name!r} exists already", file=sys.stderr)
            return 1
        (data_dir / SETUP_FILE).unlink(missing_ok=True)
        _audit(db, "user_added", {"user": name, "scope": scope.label})
    finally:
        db.close()
    print(f"added user {name} ({scope.label})", file=out)
    return 0


def user_passwd(data_dir: Path, name: str, password: str, out: TextIO) -> int:
    """Change a password; every session of that user ends."""
    db = AuthDB(data_dir)
    try:
        if not db.set_password(name, _new_hash(password), time.time()):
            print(f"roost: no user named {name!r}", file=sys.stderr)
            return 1
        _audit(db, "password_changed", {"user": name})
    finally:
        db.close()
    print(f"changed the password of {name}; their sessions have ended", file=out)
    return 0


def user_list(data_dir: Path, out: TextIO) -> int:
    """List users and their scopes."""
    db = AuthDB(data_dir)
    try:
        users = db.users()
    finally:
        db.close()
    for u in users:
        print(f"{u.name}\t{u.scope.label}", file=out)
    if not users:
        print("no users yet", file=sys.stderr)
    return 0


def user_remove(data_dir: Path, name: str, out: TextIO) -> int:
    """Remove a user and their sessions."""
    db = AuthDB(data_dir)
    try:
        if not db.remove_user(name):
            print(f"roost: no user named {name!r}", file=sys.stderr)
            return 1
        _audit(db, "user_removed", {"user": name})
    finally:
        db.close()
    print(f"removed user {name}", file=out)
    return 0


def token_create(data_dir: Path, name: str, scope: Scope, expires: str | None, out: TextIO) -> int:
    """Create a token and print its secret, once."""
    check_token_name(name)
    expires_s = parse_duration(expires) if expires else None
    secret = crypto.new_token()
    now = time.time()
    token = Token(
        secrets.token_hex(4),
        name,
        crypto.digest(secret),
        scope,
        now,
        None if expires_s is None else now + expires_s,
        _who(),
    )
    db = AuthDB(data_dir)
    try:
        if not db.add_token(token):
            print(f"roost: a token named {name!r} exists already", file=sys.stderr)
            return 1
        _audit(db, "token_created", token.to_json())
    finally:
        db.close()
    print(f"created token {token.id} {name!r} ({scope.label}); it is shown only now:", file=sys.stderr)
    print(secret, file=out)
    return 0


def token_list(data_dir: Path, out: TextIO) -> int:
    """List tokens: id, name, scope, expiry."""
    db = AuthDB(data_dir)
    try:
        tokens = db.tokens()
    finally:
        db.close()
    now = time.time()
    for t in tokens:
        if t.expires is None:
            until = "never expires"
        elif t.expires <= now:
            until = "expired"
        else:
            until = "expires " + time.strftime("%Y-%m-%d %H:%M", time.localtime(t.expires))
        print(f"{t.id}\t{t.name}\t{t.scope.label}\t{until}", file=out)
    if not tokens:
        print("no tokens", file=sys.stderr)
    return 0


def token_revoke(data_dir: Path, id_or_name: str, out: TextIO) -> int:
    """Revoke a token by id or name."""
    db = AuthDB(data_dir)
    try:
        token = db.remove_token(id_or_name)
        if token is None:
            print(f"roost: no token {id_or_name!r}", file=sys.stderr)
            return 1
        _audit(db, "token_revoked", token.to_json())
    finally:
        db.close()
    print(f"revoked token {token.id} {token.name!r}", file=out)
    return 0
