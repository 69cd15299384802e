"""The pure tree: diffs are leaf-level and exact, and replaying them rebuilds the tree."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.core.errors import InvalidPath, InvalidValue
from roost.core.tree import apply_diff, assign, iter_leaves, merge, normalize, same

keys = st.sampled_from(["a", "b", "c", "d"])
leaves = st.one_of(
    st.integers(-3, 3), st.booleans(), st.none(), st.floats(-2, 2, allow_nan=False), st.text(max_size=2)
)
values = st.recursive(leaves, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=8)
paths = st.lists(keys, min_size=1, max_size=3).map(tuple)


def test_assign_reports_only_real_changes() -> None:
    root, diff = assign({}, ("a", "b"), 1.5)
    assert diff.values == {"a/b": 1.5}
    same_root, diff = assign(root, ("a", "b"), 1.5)
    assert not diff and same_root is root


def test_assign_leaf_by_branch_removes_the_leaf() -> None:
    root, _ = assign({}, ("a",), 5)
    root, diff = assign(root, ("a", "b"), 1)
    assert root == {"a": {"b": 1}}
    assert diff.values == {"a/b": 1} and diff.removed == ("a",)


def test_subtree_replace_removes_missing_keys_and_merge_keeps_them() -> None:
    root, _ = assign({}, ("r",), {"x": 1, "y": 2})
    replaced, diff = assign(root, ("r",), {"x": 1})
    assert replaced == {"r": {"x": 1}} and diff.removed == ("r/y",) and diff.values == {}
    merged, diff = merge(root, ("r",), {"z": 3})
    assert merged == {"r": {"x": 1, "y": 2, "z": 3}} and diff.values == {"r/z": 3}


def test_old_roots_are_never_mutated() -> None:
    root, _ = assign({}, ("a", "b"), 1)
    frozen = {"a": {"b": 1}}
    assign(root, ("a", "c"), 2)
    assign(root, ("a",), {})
    assert root == frozen


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [(1, 1.0, False), (1, True, False), (0, False, False), ([1, 2], [1, 2], True), ("x", "x", True)],
)
def test_same_is_type_strict(a: Any, b: Any, equal: bool) -> None:
    assert same(a, b) is equal


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        object(),
        {1: "x"},
        {"a/b": 1},
        b"bytes",
        2**63,
        [-(2**63) - 1],
        pytest.param(10**400, id="10**400"),
    ],
)
def test_normalize_rejects(bad: Any) -> None:
    with pytest.raises((InvalidValue, InvalidPath)):
        normalize(bad)


@given(st.lists(st.tuples(paths, values), max_size=12))
def test_replaying_diffs_rebuilds_the_tree(writes: list[tuple[tuple[str, ...], Any]]) -> None:
    root: dict[str, Any] = {}
    replica: dict[str, Any] = {}
    for path, value in writes:
        root, diff = assign(root, path, value)
        replica = apply_diff(replica, diff.values, diff.removed)
        assert replica == root
        assert not any(v == {} for _, v in iter_leaves(root))
