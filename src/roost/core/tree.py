"""Pure operations on the state tree: nested dicts of JSON leaves, never mutated in place.

Every write returns a new root that shares all untouched branches with the old
one (path copying), so a reader holding an old root always sees a complete,
consistent tree without locks or deep copies. The diff of a write is leaf-level:
the leaves it set (new or different) and the leaves it removed. Empty dicts are
not stored: a subtree exists only while it has at least one leaf.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from roost.core.errors import InvalidValue
from roost.core.paths import check_key, join_path

Json: TypeAlias = Any
Tree: TypeAlias = dict[str, Any]

MAX_DEPTH = 32
# Integers must fit in 64 bits: orjson, SQLite and most JSON readers take no more.
MIN_INT, MAX_INT = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class Diff:
    """What a write changed: leaves set to a new value, and leaves that are gone."""

    values: dict[str, Json]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.values or self.removed)


NO_DIFF = Diff({}, ())


def normalize(value: Any, depth: int = 0) -> Json:
    """Return a private JSON copy of `value`, or raise InvalidValue.

    Mappings become subtrees (keys checked), tuples become lists, integers must
    fit in 64 bits, and floats must be finite: a NaN would never compare equal to
    itself and so would look like a change on every write.
    """
    if depth > MAX_DEPTH:
        raise InvalidValue(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise InvalidValue("integer does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"{value} is not a JSON number")
        return value
    if isinstance(value, Mapping):
        return {check_key(k): normalize(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v, depth + 1) for v in value]
    raise InvalidValue(f"{type(value).__name__} is not a JSON value")


def same(a: Json, b: Json) -> bool:
    """Return True if two leaves are the same JSON value (1, 1.0 and True all differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def iter_leaves(value: Json, prefix: str = "") -> Iterator[tuple[str, Json]]:
    """Yield `(path, leaf)` for every leaf of `value`, which sits at `prefix`."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from iter_leaves(child, f"{prefix}/{key}" if prefix else key)
    elif prefix:
        yield prefix, value


def get_node(root: Tree, parts: tuple[str, ...]) -> Json:
    """Return the node at `parts`, or raise KeyError."""
    node: Json = root
    for key in parts:
        if not isinstance(node, dict):
            raise KeyError(join_path(parts))
        node = node[key]
    return node


def assign(root: Tree, parts: tuple[str, ...], value: Json) -> tuple[Tree, Diff]:
    """Return `(new_root, diff)` with the subtree at `parts` replaced by `value`.

    `value` must already be normalized. Assigning `{}` removes the subtree; a leaf
    standing where a branch is needed is replaced by the branch.
    """
    if not parts:
        if not isinstance(value, dict):
            raise InvalidValue("the root of the tree must be an object")
        return _diffed(root, _prune(value), dict(iter_leaves(root)), dict(iter_leaves(value)))
    path = join_path(parts)
    displaced = _displaced(root, parts)
    old_leaves = dict(iter_leaves(displaced[1], displaced[0])) if displaced else {}
    new_leaves = dict(iter_leaves(value, path))
    if not old_leaves and not new_leaves:
        return root, NO_DIFF
    return _diffed(root, _replace(root, parts, 0, value), old_leaves, new_leaves)


def merge(root: Tree, parts: tuple[str, ...], mapping: dict[str, Json]) -> tuple[Tree, Diff]:
    """Return `(new_root, diff)` with each key of `mapping` assigned below `parts`."""
    values: dict[str, Json] = {}
    removed: list[str] = []
    for key, child in mapping.items():
        root, diff = assign(root, (*parts, key), child)
        for p in diff.removed:
            values.pop(p, None)
        removed.extend(diff.removed)
        values.update(diff.values)
    removed = [p for p in dict.fromkeys(removed) if p not in values]
    return root, Diff(values, tuple(removed))


def _displaced(root: Tree, parts: tuple[str, ...]) -> tuple[str, Json] | None:
    # What a write at `parts` replaces: the old subtree there, or a leaf ancestor.
    node: Json = root
    for i, key in enumerate(parts):
        if not isinstance(node, dict):
            return join_path(parts[:i]), node
        if key not in node:
            return None
        node = node[key]
    return join_path(parts), node


def _diffed(
    root: Tree, new_root: Tree, old_leaves: dict[str, Json], new_leaves: dict[str, Json]
) -> tuple[Tree, Diff]:
    values = {p: v for p, v in new_leaves.items() if p not in old_leaves or not same(old_leaves[p], v)}
    removed = tuple(p for p in old_leaves if p not in new_leaves)
    if not values and not removed:
        # Keep the old root: an unchanged write must not invalidate cached encodings.
        return root, NO_DIFF
    return new_root, Diff(values, removed)


def _replace(node: Json, parts: tuple[str, ...], i: int, value: Json) -> Tree:
    # Copy only the dicts along the path; everything else is shared with the old tree.
    copy: Tree = dict(node) if isinstance(node, dict) else {}
    key = parts[i]
    if i == len(parts) - 1:
        if isinstance(value, dict) and not any(True for _ in iter_leaves(value)):
            copy.pop(key, None)
        else:
            copy[key] = _prune(value)
        return copy
    child = _replace(copy.get(key), parts, i + 1, value)
    if child:
        copy[key] = child
    else:
        copy.pop(key, None)
    return copy


def _prune(value: Json) -> Json:
    # Drop empty dicts inside an assigned subtree so that "exists" means "has leaves".
    if not isinstance(value, dict):
        return value
    out = {k: _prune(v) for k, v in value.items()}
    return {k: v for k, v in out.items() if v != {}}


def remove(root: Tree, parts: tuple[str, ...]) -> tuple[Tree, Diff]:
    """Return `(new_root, diff)` with the subtree at `parts` gone."""
    return assign(root, parts, {})


def apply_diff(root: Tree, values: Mapping[str, Json], removed: tuple[str, ...] | list[str]) -> Tree:
    """Return `root` with a diff applied: removals first, then sets (how clients replay)."""
    for path in removed:
        root, _ = assign(root, tuple(path.split("/")), {})
    for path, leaf in values.items():
        root, _ = assign(root, tuple(path.split("/")), leaf)
    return root
