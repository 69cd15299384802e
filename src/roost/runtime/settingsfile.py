"""Settings files in the data directory: JSON with a schema number, written crash-safely.

A file is written to a temporary file beside it (created 0600: settings may
hold secrets), flushed and fsynced, renamed over the old one, and the folder
fsynced, so a power cut leaves the old file or the new one, never half of
either. A file that cannot be used (unreadable, not JSON, without a schema
number, or from a newer roost) is refused with SettingsUnreadable and left as
it is. devices.json, channels.json and rules.json are such files.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from roost.core.errors import RoostError

__all__ = ["SettingsUnreadable", "check_document", "read_document", "section", "write_atomically"]


class SettingsUnreadable(RoostError):
    """A settings file cannot be used (unreadable, not JSON, not roost's, or from a newer roost)."""

    status = 503
    code = "unavailable"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (owner-only) so that a crash leaves either the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600: secrets in it are never readable by others, not even briefly.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)  # the rename itself must reach the disk too
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_document(path: Path, what: str, schema: int) -> dict[str, Any] | None:
    """Return the document at `path` (None when there is no file); raise SettingsUnreadable.

    `what` names the file in messages ("device settings"); `schema` is the newest this roost reads.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsUnreadable(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise SettingsUnreadable(f"{path} is not JSON ({exc}); move it away to start afresh") from None
    return check_document(doc, str(path), what, schema)


def check_document(doc: Any, where: str, what: str, schema: int) -> dict[str, Any]:
    """Return `doc` if it is a roost `what` file of at most schema `schema`; raise SettingsUnreadable."""
    if not isinstance(doc, dict) or not isinstance(doc.get("schema"), int):
        raise SettingsUnreadable(f"{where} is not a roost {what} file (no schema number)")
    if doc["schema"] > schema:
        raise SettingsUnreadable(
            f"{where} was written by a newer roost (schema {doc['schema']}, this one reads up to {schema})"
        )
    return doc


def section(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """Return the object under `key` ({} when absent); raise SettingsUnreadable if it is not one."""
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise SettingsUnreadable(f"{where}: {key} must be an object")
    return value
