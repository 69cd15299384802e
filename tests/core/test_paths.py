from __future__ import annotations

import pytest

from roost.core.errors import InvalidPath
from roost.core.paths import compile_pattern, split_path


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("a", ("a",)),
        ("a/b/c", ("a", "b", "c")),
        ("/a/b/", ("a", "b")),
        ("", ()),
        ("Temp Sensors/x", ("Temp Sensors", "x")),
    ],
)
def test_split_path(path: str, parts: tuple[str, ...]) -> None:
    assert split_path(path) == parts


@pytest.mark.parametrize("path", ["a//b", "a/*/b", "a/#", "x+y", "a/\x00", "a" * 600])
def test_split_path_rejects(path: str) -> None:
    with pytest.raises(InvalidPath):
        split_path(path)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("basement/*", "basement/party_room", True),
        ("basement/*", "basement/a/b", False),
        ("plugs/**", "plugs", True),
        ("plugs/**", "plugs/tv/power_w", True),
        ("plugs/**", "plugsx/tv", False),
        ("plugs/*/power_w", "plugs/tv/power_w", True),
        ("**/power_w", "power_w", True),
        ("**/power_w", "a/b/power_w", True),
        ("a/**/c", "a/c", True),
        ("a/**/c", "a/x/y/c", True),
        ("a/**/c", "a/x/y/d", False),
        ("temp_?", "temp_1", True),
        ("temp_?", "temp_12", False),
        ("a.b", "axb", False),
        ("**", "anything/at/all", True),
    ],
)
def test_pattern_matching(pattern: str, path: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(path) is expected


@pytest.mark.parametrize(
    ("pattern", "prefix", "expected"),
    [
        ("basement/*", "basement", True),
        ("basement/*", "plugs", False),
        ("*/temp", "plugs", True),
        ("plugs/**", "plugs/tv", True),
        ("a/b/c", "a", True),
        # A wildcard inside a key: `abc` can match `a?c` although it does not start with `a/`.
        ("a?c/x", "abc", True),
        ("ab*/x", "abz", True),
    ],
)
def test_could_match_below(pattern: str, prefix: str, expected: bool) -> None:
    assert compile_pattern(pattern).could_match_below(prefix) is expected
