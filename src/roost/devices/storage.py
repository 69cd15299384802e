"""Device settings, schedules and overrides on disk: one JSON file, written crash-safely.

`devices.json` in the data directory holds `{"schema": N, "devices": {...},
"schedules": {...}, "overrides": {...}}`. It is written to a temporary file in
the same folder, flushed and fsynced, then renamed over the old one (and the
folder fsynced), so a power cut leaves the old file or the new one, never half
of either. A file from a newer roost (a higher schema) is refused rather than
overwritten. Switch events are appended to `device-events.jsonl`, compacted
at start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from roost.runtime.settingsfile import check_document, read_document, section, write_atomically

log = logging.getLogger(__name__)
SCHEMA = 1
SETTINGS_FILE = "devices.json"
EVENTS_FILE = "device-events.jsonl"


def empty_document() -> dict[str, Any]:
    """Return a document with nothing in it."""
    return {"schema": SCHEMA, "devices": {}, "schedules": {}, "overrides": {}}


def load_document(path: Path) -> dict[str, Any]:
    """Return the settings document at `path` (empty if there is none); raise SettingsUnreadable."""
    doc = read_document(path, "device settings", SCHEMA)
    return empty_document() if doc is None else upgrade(doc, str(path))


def upgrade(doc: Any, where: str) -> dict[str, Any]:
    """Return `doc` at the current schema (older ones are migrated); raise SettingsUnreadable."""
    check_document(doc, where, "device settings", SCHEMA)
    # Migrations go here, one function per schema step, when the schema grows.
    out = empty_document()
    for key in ("devices", "schedules", "overrides"):
        out[key] = section(doc, key, where)
    deleted = doc.get("deleted_schedules", [])
    if deleted:
        # Schedules a program declares that the page deleted: they stay deleted.
        out["deleted_schedules"] = [str(name) for name in deleted] if isinstance(deleted, list) else []
    return out


def save_document(path: Path, doc: dict[str, Any]) -> None:
    """Write the settings document crash-safely."""
    # Compact: 500 devices are written in a few milliseconds; `roost config export` indents.
    write_atomically(path, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())


class EventLog:
    """Switch events as JSON lines, appended; the newest `keep` per device are read back at start."""

    def __init__(self, path: Path, keep: int = 200) -> None:
        self.path = path
        self.keep = keep

    def read(self) -> list[dict[str, Any]]:
        """Return the stored events, oldest first (a torn last line is skipped)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        events: list[dict[str, Any]] = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue  # the tail of a line a power cut interrupted
            if isinstance(obj, dict):
                events.append(obj)
        return events

    def compact(self, events: Iterable[dict[str, Any]]) -> None:
        """Rewrite the file with just `events`."""
        data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        write_atomically(self.path, data.encode())

    def append(self, events: Iterable[dict[str, Any]]) -> None:
        """Append events (one write, flushed; not fsynced: events are worth less than settings)."""
        data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        if not data:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(data)
