"""Where a connecting client starts: since/boot, Last-Event-ID, patterns."""

from __future__ import annotations

import pytest

from roost.core.errors import BadRequest
from roost.live.params import parse_params
from roost.live.subscription import parse_subscription


@pytest.mark.parametrize(
    ("since", "boot", "last_event_id", "expected"),
    [
        (None, None, None, (None, None)),
        ("12", None, None, (12, None)),
        ("12", "ab", None, (12, "ab")),
        (None, None, "ab:40", (40, "ab")),
        ("12", "cd", "ab:40", (40, "ab")),  # the header wins: EventSource sends it on reconnect
        (None, None, "40", (40, None)),
        ("", None, None, (None, None)),
    ],
)
def test_starting_point(since, boot, last_event_id, expected) -> None:
    params = parse_params(since, boot, last_event_id, [], 8)
    assert (params.since, params.boot) == expected


@pytest.mark.parametrize("since", ["x", "-1", "1.5"])
def test_bad_since(since: str) -> None:
    with pytest.raises(BadRequest):
        parse_params(since, None, None, [], 8)


def test_subscription_filters_a_tree_and_star_star_means_everything() -> None:
    sub = parse_subscription(["basement/*", "a?c/x"], 8)
    assert sub is not None
    tree = {"basement": {"r": 1, "deep": {"w": 2}}, "abc": {"x": 3, "y": 4}, "other": 5}
    assert sub.filter_tree(tree) == {"basement": {"r": 1}, "abc": {"x": 3}}
    assert parse_subscription(["a/*", "**"], 8) is None
    assert parse_subscription([], 8) is None
