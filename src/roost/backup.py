"""`roost backup DIR`: a consistent copy of a node's data directory, taken while the node runs.

SQLite files are copied with SQLite's online backup API, so each copy is the
database as of one moment, never a file torn between two commits. The
history database is held exclusively by the running node (no other process
can read it), so the node makes that copy itself and sends it
(`GET /api/history/backup`, admin scope). Other files are copied as they are.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

_SQLITE_HEADER = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def backup(data_dir: Path, target: Path, url: str, token: str | None = None) -> list[tuple[str, str]]:
    """Copy `data_dir` into `target` (new or empty); return (file, how it was copied) for each file."""
    if not data_dir.is_dir():
        raise BackupError(f"no data directory at {data_dir}")
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes into a directory of its own")
    done: list[tuple[str, str]] = []
    for source in sorted(data_dir.rglob("*")):
        relative = source.relative_to(data_dir)
        dest = target / relative
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif source.name.endswith(_SIDE_FILES):
            continue  # part of its database, which the backup API reads as a whole
        elif _is_sqlite(source):
            done.append((str(relative), _copy_database(source, dest, relative, url, token)))
        elif source.is_file():
            shutil.copy2(source, dest)
            done.append((str(relative), "copied"))
    return done


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == _SQLITE_HEADER
    except OSError:
        return False


def _copy_database(source: Path, dest: Path, relative: Path, url: str, token: str | None) -> str:
    if relative == Path("history.db"):
        # A running node holds it exclusively (a reader would wait on its lock): ask the
        # node first, and copy the file here only when no node answers.
        try:
            _fetch(url.rstrip("/") + "/api/history/backup", dest, token)
        except _NoNode:
            dest.unlink(missing_ok=True)
        else:
            _check(dest)
            return f"online backup made by the running node at {url}"
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)
        try:
            out = sqlite3.connect(dest)
            try:
                src.backup(out)
            finally:
                out.close()
        finally:
            src.close()
    except sqlite3.OperationalError as exc:
        raise BackupError(f"cannot copy {relative}: {exc} (is a node running at another --url?)") from None
    _check(dest)
    return "SQLite online backup"


class _NoNode(Exception):
    pass


def _fetch(url: str, dest: Path, token: str | None) -> None:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=300) as reply, dest.open("wb") as out:
            shutil.copyfileobj(reply, out, 1 << 18)
    except urllib.error.HTTPError as exc:
        try:
            said = json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            said = exc.reason
        hint = " (an admin token: --token or $ROOST_TOKEN)" if exc.code in (401, 403) else ""
        raise BackupError(f"the node at {url} refused the history backup: {exc.code} {said}{hint}") from None
    except OSError as exc:
        raise BackupError(
            f"history.db is held by a running node, which did not answer at {url} ({exc}); name it with --url"
        ) from None


def _check(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if verdict != "ok":
        raise BackupError(f"the copy {path} fails SQLite's integrity check: {verdict}")
