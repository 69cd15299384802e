"""The shared state tree: thread-safe writes, consistent snapshots, and one ordered change stream.

Writers (worker threads, tasks, commands) call `state[path] = value`. Under one
short lock the write is diffed against the current tree, given the next sequence
number, and published as a new root; no user code ever runs under that lock.
Readers take the current root without locking: it is never mutated, so it is
always a complete tree as of one sequence number.

Changes reach consumers on the event loop, in sequence order. Features follow
them through `hub.consume()` (`roost.runtime.consumer`): a named, bounded
consumer built on `follow()`, the batch-level hook here. `subscribe()` is the
per-change hook underneath, for tests and tools.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roost.core import codec
from roost.core.errors import InvalidValue, UnknownPath
from roost.core.paths import split_path
from roost.core.tree import Diff, Json, Tree, assign, get_node, iter_leaves, merge, normalize
from roost.runtime.clock import Clock, SystemClock

log = logging.getLogger(__name__)

Listener = Callable[["Change"], None]
BatchListener = Callable[[Sequence["Change"]], None]
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Change:
    """One write's effect: leaves set and leaves removed, stamped with seq and time.

    `values` and `removed` are shared with every consumer: read, never mutate.
    """

    seq: int
    ts: float
    values: Mapping[str, Json]
    removed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole tree as of `seq`. `root` is shared: read, never mutate."""

    seq: int
    ts: float
    root: Tree


class StateTree:
    """The program's state: a mapping from `/`-separated paths to JSON values.

    Every public method is thread-safe unless its docstring says "Loop only."
    """

    def __init__(self, clock: Clock | None = None, buffer_size: int = 4096) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._current = Snapshot(0, self._clock.time(), {})
        self._recent: deque[Change] = deque(maxlen=buffer_size)
        self._last_seen: dict[str, float] = {}
        self._listeners: list[Listener] = []
        self._followers: list[BatchListener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[Change] = []
        self._wake_scheduled = False
        self._encoded: tuple[int, bytes] = (-1, b"")
        self.writes = 0

    # -- reading -------------------------------------------------------------

    @property
    def seq(self) -> int:
        """Return the sequence number of the newest change."""
        return self._current.seq

    def snapshot(self) -> Snapshot:
        """Return the current tree with its seq (shared and read-only)."""
        return self._current

    def node(self, path: str) -> Json:
        """Return the value or subtree at `path`, shared and read-only; raise UnknownPath.

        For readers that only encode or inspect (HTTP handlers); `state[path]` copies.
        """
        try:
            return get_node(self._current.root, split_path(path))
        except (KeyError, TypeError):
            raise UnknownPath(path) from None

    def __getitem__(self, path: str) -> Json:
        """Return a copy of the value or subtree at `path`; raise UnknownPath (a KeyError)."""
        node = self.node(path)
        return copy.deepcopy(node) if isinstance(node, (dict, list)) else node

    def get(self, path: str, default: Json = None) -> Json:
        """Return a copy of the value at `path`, or `default` if there is none."""
        try:
            return self[path]
        except UnknownPath:
            return default

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        try:
            self.node(path)
        except UnknownPath:
            return False
        return True

    def to_dict(self) -> dict[str, Json]:
        """Return a deep copy of the whole tree."""
        return copy.deepcopy(self._current.root)

    def leaves(self, prefix: str = "") -> Iterator[tuple[str, Json]]:
        """Yield `(path, value)` for every leaf at or below `prefix`, from one snapshot."""
        parts = split_path(prefix)
        try:
            node = get_node(self._current.root, parts)
        except (KeyError, TypeError):
            return
        yield from iter_leaves(node, "/".join(parts))

    def last_seen(self, path: str) -> float | None:
        """Return when the leaf at `path` was last written, changed or not."""
        return self._last_seen.get(path)

    def encoded(self) -> tuple[int, bytes]:
        """Return `(seq, JSON bytes)` of the whole tree, encoded at most once per change."""
        seq, data = self._encoded
        current = self._current
        if seq != current.seq:
            data = codec.dumps(current.root)
            self._encoded = (current.seq, data)
        return current.seq, data

    def changes_since(self, seq: int) -> list[Change] | None:
        """Return every change after `seq` in order, or None if some are no longer buffered."""
        with self._lock:
            current = self._current.seq
            if seq >= current:
                return [] if seq == current else None
            recent = self._recent
            if not recent or recent[0].seq > seq + 1:
                return None
            start = len(recent) - (current - seq)
            return list(recent)[start:]

    # -- writing -------------------------------------------------------------

    def __setitem__(self, path: str, value: Any) -> None:
        self.set(path, value)

    def __delitem__(self, path: str) -> None:
        if path not in self:
            raise UnknownPath(path)
        self.set(path, {})

    def set(self, path: str, value: Any) -> int | None:
        """Replace the value or subtree at `path`; return the new seq, or None if nothing changed."""
        parts = split_path(path)
        clean = normalize(value)
        if not parts and not isinstance(clean, dict):
            raise InvalidValue("the root of the tree can only be set to an object")
        return self._write(lambda root: assign(root, parts, clean), clean, "/".join(parts))

    def update(
        self, path_or_mapping: str | Mapping[str, Any], mapping: Mapping[str, Any] | None = None
    ) -> int | None:
        """Merge `mapping` into the subtree at the path (like `dict.update`, keys replaced whole)."""
        if isinstance(path_or_mapping, Mapping):
            path, mapping = "", path_or_mapping
        else:
            path = path_or_mapping
        if mapping is None:
            raise InvalidValue("update() needs a mapping")
        parts = split_path(path)
        clean = normalize(mapping)
        if not isinstance(clean, dict):
            raise InvalidValue("update() needs a mapping")
        return self._write(lambda root: merge(root, parts, clean), clean, "/".join(parts))

    def _write(self, op: Callable[[Tree], tuple[Tree, Diff]], value: Json, prefix: str) -> int | None:
        wake = False
        with self._lock:
            self.writes += 1
            new_root, diff = op(self._current.root)
            now = self._clock.time()
            for leaf, _ in iter_leaves(value, prefix):
                self._last_seen[leaf] = now
            if not diff:
                return None
            for leaf in diff.removed:
                self._last_seen.pop(leaf, None)
            seq = self._current.seq + 1
            change = Change(seq, now, diff.values, diff.removed)
            self._current = Snapshot(seq, now, new_root)
            self._recent.append(change)
            if self._loop is not None:
                self._pending.append(change)
                if not self._wake_scheduled:
                    self._wake_scheduled = wake = True
            loop = self._loop
        if wake and loop is not None:
            try:
                loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed during shutdown; snapshots still serve
                pass
        return seq

    # -- the change stream ---------------------------------------------------

    @property
    def leaf_count(self) -> int:
        """Return the number of leaves in the tree."""
        return len(self._last_seen)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver changes to listeners on `loop` from now on."""
        with self._lock:
            self._loop = loop

    def detach(self) -> None:
        """Stop delivering changes (shutdown); pending ones are delivered first. Loop only."""
        # One lock for both steps: a write from a thread lands either in this last
        # batch or after the loop is gone (then in snapshots and changes_since only).
        with self._lock:
            self._loop = None
            batch, self._pending = self._pending, []
            self._wake_scheduled = False
        self._deliver(batch)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(change)` on the loop for every change; return the unsubscribe function.

        A listener sees changes in seq order, possibly including ones at or below
        the seq of a snapshot it took in the same loop iteration: skip those.
        """
        # Copy-on-write under the lock: _deliver iterates whatever list it took.
        with self._lock:
            self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            with self._lock:
                self._listeners = [x for x in self._listeners if x is not listener]

        return unsubscribe

    def follow(self, listener: BatchListener) -> Callable[[], None]:
        """Call `listener(changes)` on the loop with each run of changes; return the unfollow function.

        The runs come in seq order, one per loop iteration that had changes. This is
        the hook under `roost.runtime.consumer.Consumer`; features use `hub.consume()`.
        """
        with self._lock:
            self._followers = [*self._followers, listener]

        def unfollow() -> None:
            with self._lock:
                self._followers = [x for x in self._followers if x is not listener]

        return unfollow

    def _drain(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._wake_scheduled = False
        self._deliver(batch)

    def _deliver(self, batch: list[Change]) -> None:
        if not batch:
            return
        listeners = self._listeners
        for change in batch:
            for listener in listeners:
                try:
                    listener(change)
                except Exception:
                    log.exception("change listener %r failed on seq %d", listener, change.seq)
        for follower in self._followers:
            try:
                follower(batch)
            except Exception:
                log.exception("change follower %r failed on seq %d..", follower, batch[0].seq)
