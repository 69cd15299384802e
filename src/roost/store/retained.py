"""Retained values: leaves the program marks `retain=True` survive a restart.

The recorder owns them. At start, before any other component or worker, the
stored values go back into the tree; from then on each change of a retained
leaf (or its removal) is noted here, and written in the recorder's next commit,
in the same transaction as the samples. So a retained value is as durable as
history: on disk within one commit interval, and at SIGTERM with the final
flush. Any JSON value is kept exactly (strings, lists, whole subtrees), not
only numbers.

A leaf is retained if the nearest of itself and its ancestors that has a
`retain` setting says True: `app.meta("heating", retain=True)` keeps the whole
subtree, and `app.meta("heating/debug", retain=False)` takes a part out again.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from roost.core import codec
from roost.core.errors import RoostError
from roost.core.meta import MetaRule
from roost.core.tree import Json
from roost.runtime.hub import Hub
from roost.runtime.state import Change

log = logging.getLogger(__name__)

_GONE: Any = object()  # marks a retained leaf that was removed: its row goes


class RetainedValues:
    """Which leaves are retained, and what changed in them since the last commit. Loop only."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._rules_of: tuple[MetaRule, ...] | None = None
        self._any = False
        self._cache: dict[str, bool] = {}
        self._dirty: dict[str, Any] = {}
        self._full = False
        self.restored = 0

    def retained(self, path: str) -> bool:
        """Return True if the leaf at `path` is retained."""
        rules = self.hub.meta_rules()
        if rules is not self._rules_of:  # the program declared metadata since: start over
            self._rules_of = rules
            self._any = any(rule.meta.retain for rule in rules)
            self._cache.clear()
        if not self._any:
            return False
        found = self._cache.get(path)
        if found is None:
            found = False
            parts = path.split("/")
            for end in range(len(parts), 0, -1):
                setting = self.hub.meta("/".join(parts[:end])).retain
                if setting is not None:
                    found = setting
                    break
            if len(self._cache) < 100_000:
                self._cache[path] = found
        return found

    def restore(self, rows: Mapping[str, str]) -> None:
        """Put stored values back into the tree; rows no longer retained are dropped at the next commit.

        A leaf changed or removed since start (noted, not yet written) keeps what the tree says.
        """
        state = self.hub.state
        for path, text in sorted(rows.items()):
            if path in self._dirty:
                continue
            if not self.retained(path):
                self._dirty[path] = _GONE
                continue
            try:
                value: Json = codec.loads(text)
                state.set(path, value)
            except (ValueError, RoostError) as exc:  # a row that no longer fits (a path made invalid)
                log.warning("retained value of %s not restored: %s", path, exc)
                self._dirty[path] = _GONE
                continue
            self.restored += 1
        # Retained leaves the program set before start that have no row yet are kept too.
        for path, value in state.leaves():
            if (
                path not in self._dirty
                and self.retained(path)
                and rows.get(path) != codec.dumps(value).decode()
            ):
                self._dirty[path] = value

    def observe(self, change: Change) -> None:
        """Note a change of the tree (removals first, as the change applies them)."""
        if not self._any and self.hub.meta_rules() is self._rules_of:
            return
        for path in change.removed:
            if self.retained(path):
                self._dirty[path] = _GONE
        for path, value in change.values.items():
            if self.retained(path):
                self._dirty[path] = value

    def resync(self, leaves: Iterable[tuple[str, Json]]) -> None:
        """Write every retained leaf of `leaves` anew and drop all other rows (after changes were lost)."""
        self._full = True
        self._dirty = {path: value for path, value in leaves if self.retained(path)}

    @property
    def pending(self) -> int:
        """Return how many retained leaves wait for the next commit."""
        return len(self._dirty)

    def take(self) -> Pending | None:
        """Return what the next commit must write, and forget it (None if nothing)."""
        if not self._dirty and not self._full:
            return None
        taken = Pending(self._dirty, self._full)
        self._dirty, self._full = {}, False
        return taken

    def give_back(self, taken: Pending) -> None:
        """Keep what a failed commit did not write, unless the leaf changed again since."""
        if taken.full and not self._full:
            # The lost rewrite is still owed: the newer changes are already in `values`.
            self._full = True
            self._dirty = {**taken.values, **self._dirty}
            return
        for path, value in taken.values.items():
            self._dirty.setdefault(path, value)


@dataclass(frozen=True, slots=True)
class Pending:
    """What one commit writes: leaves to store (or drop), and whether every other row goes."""

    values: Mapping[str, Any]
    full: bool = False

    def writer(self) -> Callable[[sqlite3.Connection], None]:
        """Return the function that writes this inside the commit's transaction."""
        upserts = [(p, codec.dumps(v).decode()) for p, v in self.values.items() if v is not _GONE]
        removals = [(p,) for p, v in self.values.items() if v is _GONE]
        full = self.full

        def write(conn: sqlite3.Connection) -> None:
            if full:
                conn.execute("DELETE FROM retained")
            if upserts:
                conn.executemany(
                    "INSERT INTO retained (path, value) VALUES (?, ?)"
                    " ON CONFLICT (path) DO UPDATE SET value = excluded.value",
                    upserts,
                )
            if removals:
                conn.executemany("DELETE FROM retained WHERE path = ?", removals)

        return write


def read_rows(conn: sqlite3.Connection) -> dict[str, str]:
    """Return every stored retained value as path -> JSON text."""
    return {str(path): str(value) for path, value in conn.execute("SELECT path, value FROM retained")}
