"""raspend's shared dict, backed by roost's state tree.

A raspend program reads and writes one dict of dicts from every thread:
`self.sharedDict["basement"]["party_room"] = 17.8`, `thisDict = sharedDict[key]`
kept across runs, `json.dumps(self.sharedDict)` to publish it. roost gives it a
`SharedDict`: a real `dict` subclass, so `json`, `isinstance(x, dict)`, `==` and
`copy()` behave as before, whose every mutation at every level is written
through to the state tree (and so reaches the live page, history and metrics).

The dicts hold a mirror of the tree for reading at native speed. Two things keep
mirror and tree equal: every write through a `SharedDict` updates both under one
lock, and writes that others make to the tree (roost commands, bridges) are
copied into the mirror by the hub's "raspend" consumer of the change stream.
That copy takes the tree's current value of each path a change touched, so it
is the same for our own writes (already in the mirror: nothing changes, and a
list the program holds stays the one in the dict) as for anyone else's. The
mirror differs from the tree in one way only: it keeps the empty dicts a
program creates (`sharedDict[section] = {}` before the first reading), which
the tree does not store.

Lists are `SharedList`s: `append`, slice assignment and the rest write the whole
list to its path, and dicts or lists inside a list commit through the list that
holds them. Values must be JSON (str, numbers, bool, None, lists, dicts with
string keys); a float that is not finite becomes None.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from roost.core.errors import InvalidValue
from roost.core.paths import check_key, join_path
from roost.core.tree import MAX_DEPTH, Json, get_node, iter_leaves, same
from roost.runtime.consumer import Consumer
from roost.runtime.hub import Hub
from roost.runtime.state import Change, StateTree

_MISSING: Any = object()
Parts = tuple[str, ...]


class UnsupportedValue(InvalidValue, TypeError):
    """A value the shared dict cannot hold: the state tree stores JSON only."""


def to_plain(value: Any, depth: int = 0) -> Json:
    """Return a private JSON copy of `value` (non-finite floats become None), or raise."""
    if depth > MAX_DEPTH:
        raise UnsupportedValue(f"value nested deeper than {MAX_DEPTH} levels (a dict that holds itself?)")
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, numbers.Integral):  # int subclasses, numpy integers
        return int(value)
    if isinstance(value, numbers.Real):  # numpy floats and the like
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {check_key(k): to_plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, depth + 1) for v in value]
    raise UnsupportedValue(
        f"{type(value).__name__} is not a JSON value; the shared dict holds str, numbers, bool, None, "
        "lists and dicts"
    )


def plain_copy(value: Any) -> Json:
    """Return a plain deep copy of a shared-dict value (dicts and lists, not views)."""
    # Under the store's lock, which every write takes: copying a level "in one C
    # call" is not enough, as an allocation there can start the garbage collector,
    # whose finalizers are Python code that lets another thread in midway.
    store = getattr(value, "_store", None)
    if store is not None:
        with store.lock:
            return _plain_copy(value)
    return _plain_copy(value)


def _plain_copy(value: Any) -> Json:
    # Structural only: the contents were checked on the way in.
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in list(dict.items(value))}
    if isinstance(value, list):
        return [_plain_copy(v) for v in list(list.__iter__(value))]
    return value


class SharedStore:
    """The mirror of the state tree that raspend code reads, and the one path its writes take.

    Thread-safe. `root` is the shared dict handed to the program.
    """

    def __init__(self, state: StateTree) -> None:
        self.state = state
        # Re-entrant: a list's sort() may call a key function that reads the dict.
        self.lock = threading.RLock()
        self.root = SharedDict(self, ())
        self._fill(self.root, (), state.snapshot().root)

    # -- writes from raspend code ---------------------------------------------

    def assign(self, parts: Parts, value: Any) -> None:
        """Set the value at `parts` in the tree and the mirror."""
        plain = to_plain(value)
        with self.lock:
            self.state.set(join_path(parts), plain)
            self._put(self._branch(parts[:-1]), parts, plain)

    def merge(self, parts: Parts, mapping: Mapping[str, Any]) -> None:
        """Assign every key of `mapping` below `parts` in one tree write (`dict.update`)."""
        plain = {check_key(k): to_plain(v) for k, v in mapping.items()}
        with self.lock:
            self.state.update(join_path(parts), plain)
            node = self._branch(parts)
            for key, child in plain.items():
                self._put(node, (*parts, key), child)

    def delete(self, parts: Parts) -> None:
        """Remove the value at `parts` (which the caller saw in the mirror)."""
        with self.lock:
            self.state.set(join_path(parts), {})
            parent = self._find(parts[:-1])
            if parent is not None:
                dict.pop(parent, parts[-1], None)

    def clear(self, parts: Parts) -> None:
        """Empty the dict at `parts`; it stays, as an empty dict does in raspend."""
        with self.lock:
            self.state.set(join_path(parts), {})
            node = self._find(parts)
            if node is not None:
                dict.clear(node)

    def commit_list(self, top: SharedList) -> None:
        """Write a list that changed in place back to its path. Caller holds the lock."""
        parts = top.parts
        self.state.set(join_path(parts), plain_copy(top))
        parent = self._branch(parts[:-1])
        if dict.get(parent, parts[-1]) is not top:
            # Written through a list the mirror had replaced meanwhile: the tree now
            # holds this list's contents, so the mirror must too.
            dict.__setitem__(parent, parts[-1], top)

    def wrap_item(self, plain: Json, top: SharedList) -> Any:
        """Return the mirror form of a plain value stored inside the list `top`."""
        if isinstance(plain, dict):
            return _ListedDict(self, top, {k: self.wrap_item(v, top) for k, v in plain.items()})
        if isinstance(plain, list):
            return SharedList(self, top.parts, [self.wrap_item(v, top) for v in plain], top)
        return plain

    # -- writes by others, from the change stream -------------------------------

    def attach(self, hub: Hub) -> Consumer:
        """Follow the tree's change stream as the hub's "raspend" consumer; close it to stop. Loop only."""
        with self.lock:
            # Writes made by others before now (a device added between
            # RaspendApplication() and run()) were never copied: catch up on them,
            # then follow every change after this snapshot.
            snapshot = self.state.snapshot()
            consumer = hub.consume("raspend", self._on_batch, since=snapshot.seq)
            root = snapshot.root
            tree = dict(iter_leaves(root))
            mirror = dict(iter_leaves(self.root))
            for path in mirror.keys() - tree.keys():
                self._sync(tuple(path.split("/")), root)
            for path in tree:
                self._sync(tuple(path.split("/")), root)
        return consumer

    def _on_batch(self, changes: Sequence[Change]) -> None:
        # Loop only. Copy the tree's *current* value of each touched leaf, so that a
        # change delivered after a newer write of ours can never roll the mirror back.
        with self.lock:
            root = self.state.snapshot().root
            touched = dict.fromkeys(path for change in changes for path in (*change.removed, *change.values))
            for path in touched:
                self._sync(tuple(path.split("/")), root)

    def _sync(self, parts: Parts, root: Json) -> None:
        try:
            value = get_node(root, parts)
        except (KeyError, TypeError):
            value = _MISSING
        if value is not _MISSING:
            branch = self._branch(parts[:-1])
            held = dict.get(branch, parts[-1], _MISSING)
            if isinstance(held, SharedList) and isinstance(value, list) and same(plain_copy(held), value):
                return  # our own write, or equal: the program may hold this list, keep it
            self._put(branch, parts, value)
            return
        parent = self._find(parts[:-1])
        current = _MISSING if parent is None else dict.get(parent, parts[-1], _MISSING)
        if isinstance(current, SharedDict):
            _drop_leaves(current)  # keep the empty dicts the program made; the tree never has them
        elif current is not _MISSING and parent is not None:
            dict.__delitem__(parent, parts[-1])

    # -- the mirror -------------------------------------------------------------

    def _find(self, parts: Parts) -> SharedDict | None:
        node = self.root
        for key in parts:
            child = dict.get(node, key)
            if not isinstance(child, SharedDict):
                return None
            node = child
        return node

    def _branch(self, parts: Parts) -> SharedDict:
        # As in the tree, a leaf standing where a branch is needed is replaced by it.
        node = self.root
        for i, key in enumerate(parts):
            child = dict.get(node, key)
            if not isinstance(child, SharedDict):
                child = SharedDict(self, parts[: i + 1])
                dict.__setitem__(node, key, child)
            node = child
        return node

    def _put(self, parent: SharedDict, parts: Parts, plain: Json) -> None:
        key = parts[-1]
        if isinstance(plain, dict):
            node = dict.get(parent, key)
            if isinstance(node, SharedDict):
                # Update the existing dict in place: a handler that keeps
                # `thisDict = sharedDict[key]` goes on writing into the live one.
                self._fill(node, parts, plain)
                for stale in [k for k in dict.keys(node) if k not in plain]:
                    dict.__delitem__(node, stale)
            else:
                node = SharedDict(self, parts)
                self._fill(node, parts, plain)
                dict.__setitem__(parent, key, node)
        elif isinstance(plain, list):
            top = SharedList(self, parts, ())
            list.extend(top, [self.wrap_item(v, top) for v in plain])
            dict.__setitem__(parent, key, top)
        else:
            dict.__setitem__(parent, key, plain)

    def _fill(self, node: SharedDict, parts: Parts, plain: Mapping[str, Json]) -> None:
        for key, child in plain.items():
            self._put(node, (*parts, key), child)


def _snapshot(node: SharedDict | _ListedDict) -> dict[str, Any]:
    # Under the store's lock for the reason plain_copy gives. (dict.copy() would go
    # back through the overridden keys() of a subclass.)
    with node._store.lock:
        return dict(list(dict.items(node)))


def _drop_leaves(node: SharedDict) -> None:
    for key, child in list(dict.items(node)):
        if isinstance(child, SharedDict):
            _drop_leaves(child)
        else:
            dict.__delitem__(node, key)


class SharedDict(dict[str, Any]):
    """One dict of the shared dict: reads from the mirror, writes through to the state tree.

    Thread-safe. Iteration works on a snapshot of the keys, so a thread that adds
    a key never breaks another thread's loop over the dict.
    """

    def __init__(self, store: SharedStore, parts: Parts) -> None:
        super().__init__()
        self._store = store
        self.parts = parts

    def __setitem__(self, key: str, value: Any) -> None:
        self._store.assign((*self.parts, check_key(key)), value)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._store.delete((*self.parts, key))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Assign every key of a mapping (or of key/value pairs) in one write."""
        merged: dict[str, Any] = dict(*args, **kwargs)
        if merged:
            self._store.merge(self.parts, merged)

    def __ior__(self, other: Any) -> SharedDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        """Remove every key."""
        self._store.clear(self.parts)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return the value at `key`, storing `default` there first if it is missing."""
        with self._store.lock:
            if key not in self:
                self[key] = default
            # The live value, not `default`: writes into a new section must go through.
            return dict.__getitem__(self, key)

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove `key` and return a plain copy of its value."""
        with self._store.lock:
            if key not in self:
                if default is _MISSING:
                    raise KeyError(key)
                return default
            value = plain_copy(dict.__getitem__(self, key))
            self._store.delete((*self.parts, key))
            return value

    def popitem(self) -> tuple[str, Any]:
        """Remove the last key and return it with a plain copy of its value."""
        with self._store.lock:
            if not dict.__len__(self):
                raise KeyError("popitem(): dictionary is empty")
            key = next(reversed(dict.keys(self)))
            return key, self.pop(key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(dict.keys(self)))

    def keys(self) -> Any:
        """Return the keys, as of now."""
        return _snapshot(self).keys()

    def values(self) -> Any:
        """Return the values, as of now."""
        return _snapshot(self).values()

    def items(self) -> Any:
        """Return the items, as of now (what `json.dumps` reads)."""
        return _snapshot(self).items()

    def copy(self) -> dict[str, Any]:
        """Return a shallow copy, as dict.copy() does: nested dicts stay the live ones."""
        return _snapshot(self)

    def __copy__(self) -> dict[str, Any]:
        return _snapshot(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return plain_copy(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Pickle (and anything built on it) gets a plain dict, not a view of a tree.
        return (dict, (plain_copy(self),))


class SharedList(list[Any]):
    """A list in the shared dict: every change in place writes the whole list to its path."""

    def __init__(self, store: SharedStore, parts: Parts, items: Iterable[Any], top: SharedList | None = None):
        super().__init__(items)
        self._store = store
        self.parts = parts
        self._top = self if top is None else top

    def _mutate(self, op: Callable[..., Any], *args: Any) -> Any:
        store = self._store
        with store.lock:
            before = list(list.__iter__(self))
            result = op(self, *args)
            try:
                for i, item in enumerate(list(list.__iter__(self))):
                    if not _belongs(item, self._top):
                        list.__setitem__(self, i, store.wrap_item(to_plain(item), self._top))
                store.commit_list(self._top)
            except BaseException:
                list.__setitem__(self, slice(None), before)
                raise
            return result

    def __setitem__(self, index: Any, value: Any) -> None:
        self._mutate(list.__setitem__, index, value)

    def __delitem__(self, index: Any) -> None:
        self._mutate(list.__delitem__, index)

    def __iadd__(self, other: Any) -> SharedList:  # type: ignore[misc]
        self._mutate(list.__iadd__, other)
        return self

    def __imul__(self, n: Any) -> SharedList:  # type: ignore[misc]
        self._mutate(list.__imul__, n)
        return self

    def append(self, item: Any) -> None:
        """Append and write the list through."""
        self._mutate(list.append, item)

    def extend(self, items: Iterable[Any]) -> None:
        """Extend and write the list through."""
        self._mutate(list.extend, list(items))

    def insert(self, index: Any, item: Any) -> None:
        """Insert and write the list through."""
        self._mutate(list.insert, index, item)

    def pop(self, index: Any = -1) -> Any:
        """Remove and return an item, and write the list through."""
        return plain_copy(self._mutate(list.pop, index))

    def remove(self, item: Any) -> None:
        """Remove the first equal item and write the list through."""
        self._mutate(list.remove, item)

    def clear(self) -> None:
        """Empty the list and write it through."""
        self._mutate(list.clear)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        """Sort in place and write the list through."""
        self._mutate(lambda lst: list.sort(lst, key=key, reverse=reverse))

    def reverse(self) -> None:
        """Reverse in place and write the list through."""
        self._mutate(list.reverse)

    def __copy__(self) -> list[Any]:
        return list(list.__iter__(self))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return plain_copy(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (plain_copy(self),))


class _ListedDict(dict[str, Any]):
    """A dict inside a shared list: a change writes the list that holds it."""

    def __init__(self, store: SharedStore, top: SharedList, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self._store = store
        self._top = top

    def _mutate(self, op: Callable[..., Any], *args: Any) -> Any:
        store = self._store
        with store.lock:
            before = dict.copy(self)
            result = op(self, *args)
            try:
                for key, value in list(dict.items(self)):
                    check_key(key)
                    if not _belongs(value, self._top):
                        dict.__setitem__(self, key, store.wrap_item(to_plain(value), self._top))
                store.commit_list(self._top)
            except BaseException:
                dict.clear(self)
                dict.update(self, before)
                raise
            return result

    def __setitem__(self, key: str, value: Any) -> None:
        self._mutate(dict.__setitem__, key, value)

    def __delitem__(self, key: str) -> None:
        self._mutate(dict.__delitem__, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update and write the list that holds this dict."""
        self._mutate(dict.update, dict(*args, **kwargs))

    def __ior__(self, other: Any) -> _ListedDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        """Empty the dict and write the list that holds it."""
        self._mutate(dict.clear)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return the value at `key`, storing `default` first if it is missing."""
        with self._store.lock:
            if key not in self:
                self[key] = default
            return dict.__getitem__(self, key)

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove `key` and return a plain copy of its value."""
        with self._store.lock:
            if key not in self:
                if default is _MISSING:
                    raise KeyError(key)
                return default
            return plain_copy(self._mutate(dict.pop, key))

    def popitem(self) -> tuple[str, Any]:
        """Remove the last key and return it with a plain copy of its value."""
        key, value = self._mutate(dict.popitem)
        return key, plain_copy(value)

    def __copy__(self) -> dict[str, Any]:
        return _snapshot(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return plain_copy(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (plain_copy(self),))


def _belongs(item: Any, top: SharedList) -> bool:
    # An item already in mirror form for this list; anything else is converted
    # (a SharedDict from elsewhere is copied, never aliased into the list).
    return isinstance(item, (SharedList, _ListedDict)) and item._top is top
