"""Metadata rules: the index answers what a scan of every rule in order would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from roost.core.meta import EMPTY_META, MetaIndex, MetaRule, PathMeta, make_rule

KEYS = st.sampled_from(["a", "b", "c"])
PATHS = st.lists(KEYS, min_size=1, max_size=3).map("/".join)
PATTERNS = st.lists(st.sampled_from(["a", "b", "c", "*", "**", "?"]), min_size=1, max_size=3).map("/".join)
RULES = st.lists(
    st.tuples(st.one_of(PATHS, PATTERNS), st.sampled_from(["x", "y", None]), st.sampled_from(["W", None])),
    max_size=12,
)


def scan(rules: list[MetaRule], path: str) -> PathMeta:
    result = EMPTY_META
    for rule in rules:
        if rule.pattern.matches(path):
            result = result.merged(rule.meta)
    return result


@given(RULES, PATHS)
def test_the_index_resolves_as_a_scan_in_order(specs, path) -> None:
    index = MetaIndex()
    rules = [make_rule(pattern, label=label, unit=unit) for pattern, label, unit in specs]
    for rule in rules:
        index.add(rule)
    assert index.resolve(path) == scan(rules, path)
    assert index.rules == tuple(rules)


def test_a_plain_rule_names_its_path_and_a_pattern_none() -> None:
    index = MetaIndex()
    assert index.add(make_rule("devices/tv/power_w", label="TV power")) == "devices/tv/power_w"
    assert index.add(make_rule("devices/*/power_w", unit="W")) is None
    # The later pattern adds its unit; the earlier plain rule's label stays.
    assert index.resolve("devices/tv/power_w") == PathMeta(label="TV power", unit="W")


def test_rules_is_the_same_object_until_a_rule_is_added() -> None:
    index = MetaIndex()
    index.add(make_rule("a", label="A"))
    first = index.rules
    assert index.rules is first
    index.add(make_rule("b", label="B"))
    assert index.rules is not first and len(index.rules) == 2
