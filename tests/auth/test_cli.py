"""`roost user ...` and `roost token ...` in real subprocesses on a real auth.db."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from roost.auth import crypto
from roost.auth.db import AuthDB


def roost(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roost", *args, "--data-dir", str(data)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_user_add_list_passwd_remove(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = roost(data, "user", "add", "alice", "--admin", "--password-stdin", stdin="s3cret-pass\n")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(data / "auth.db").st_mode) == 0o600
    assert (
        roost(
            data, "user", "add", "bob", "--scope", "read", "--password-stdin", stdin="other-pass\n"
        ).returncode
        == 0
    )
    assert roost(data, "user", "list").stdout.split("\n")[:2] == ["alice\tadmin", "bob\tread"]
    db = AuthDB(data)
    old = db.user("alice")
    assert old is not None and crypto.verify_password("s3cret-pass", old.password_hash)
    assert roost(data, "user", "passwd", "alice", "--password-stdin", stdin="new-password\n").returncode == 0
    new = db.user("alice")
    assert new is not None and crypto.verify_password("new-password", new.password_hash)
    removed = roost(data, "user", "remove", "bob")
    assert removed.returncode == 0, removed.stderr + removed.stdout
    assert [u.name for u in db.users()] == ["alice"]
    kinds = [e["kind"] for e in db.audit()]
    assert kinds == ["user_removed", "password_changed", "user_added", "user_added"]
    db.close()
    # Only after close: closing any descriptor of the file drops this process's SQLite locks.
    raw = (data / "auth.db").read_bytes()
    assert b"s3cret-pass" not in raw and b"new-password" not in raw


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "carol", "--password-stdin"], "short\n", "at least 8"),
        (["user", "passwd", "nobody", "--password-stdin"], "long enough\n", "no user named"),
        (["user", "remove", "nobody"], "", "no user named"),
        (["token", "revoke", "nothing"], "", "no token"),
        (["token", "create", "--name", "x", "--scope", "read", "--expires", "soon"], "", "not a duration"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path: Path, args: list[str], stdin: str, message: str) -> None:
    done = roost(tmp_path / "data", *args, stdin=stdin)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


def test_token_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = roost(data, "token", "create", "--name", "ci", "--scope", "control", "--expires", "90d")
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("roost_")
    assert secret not in done.stderr
    assert secret.encode() not in (data / "auth.db").read_bytes()  # only its hash is stored
    listed = roost(data, "token", "list").stdout
    assert "\tci\tcontrol\texpires " in listed and secret not in listed
    assert roost(data, "token", "create", "--name", "ci", "--scope", "read").returncode == 1
    assert roost(data, "token", "revoke", "ci").returncode == 0
    assert roost(data, "token", "list").stdout == ""
