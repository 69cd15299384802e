"""Per-path metadata: what a value is, how to show it, whether to record it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from roost.core.paths import PathPattern, compile_pattern


@dataclass(frozen=True, slots=True)
class PathMeta:
    """What the program declares about a path (or every path matching a pattern).

    `kind` is free text that the page and adapters understand (`temperature`,
    `power`, `energy`, `humidity`, `switch`, ...). A `switch` names the `command`
    that sets it; the page calls it with `command_args` plus `on: bool`. `power`
    names the path of the switch's power reading, and `lock` a path whose truthy
    value locks the switch (its value, if a string, is the reason shown).
    `record`, `min_interval_s` and `deadband` steer the history recorder.
    `retain` keeps the value (or the subtree) across restarts.
    """

    label: str | None = None
    unit: str | None = None
    kind: str | None = None
    record: bool | None = None
    min_interval_s: float | None = None
    deadband: float | None = None
    command: str | None = None
    command_args: dict[str, Any] | None = None
    power: str | None = None
    lock: str | None = None
    retain: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def merged(self, other: PathMeta) -> PathMeta:
        """Return this meta overlaid by the fields `other` sets."""
        changes: dict[str, Any] = {}
        for f in fields(other):
            value = getattr(other, f.name)
            if f.name == "extra":
                if value:
                    changes["extra"] = {**self.extra, **value}
            elif value is not None:
                changes[f.name] = value
        return replace(self, **changes) if changes else self

    def to_json(self) -> dict[str, Any]:
        """Return the fields that are set, for the wire."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                out.update(value)
            elif value is not None:
                out[f.name] = value
        return out


EMPTY_META = PathMeta()


@dataclass(frozen=True, slots=True)
class MetaRule:
    """A pattern and the metadata it gives every path it matches."""

    pattern: PathPattern
    meta: PathMeta


class MetaIndex:
    """Rules in the order declared, indexed by plain path.

    A node with 500 devices declares thousands of plain-path rules and a few
    patterns; resolving a path costs the patterns plus that path's own rules,
    not a scan of them all. Not thread-safe: its owner serialises `add`.
    """

    def __init__(self) -> None:
        self._count = 0
        self._rules: tuple[MetaRule, ...] | None = ()
        self._all: list[MetaRule] = []
        self._patterns: list[tuple[int, MetaRule]] = []
        self._plain: dict[str, list[tuple[int, MetaRule]]] = {}

    @property
    def rules(self) -> tuple[MetaRule, ...]:
        """Every rule in order; the same object until the next `add`."""
        if self._rules is None:
            self._rules = tuple(self._all)
        return self._rules

    def add(self, rule: MetaRule) -> str | None:
        """Add `rule` after the others; return the one path it is about, or None for a pattern."""
        entry = (self._count, rule)
        self._count += 1
        self._all.append(rule)
        self._rules = None
        literal = rule.pattern.literal
        if literal is None:
            self._patterns.append(entry)
        else:
            self._plain.setdefault(literal, []).append(entry)
        return literal

    def resolve(self, path: str) -> PathMeta:
        """Return the metadata of `path`: every matching rule, later ones winning."""
        hits = [entry for entry in self._patterns if entry[1].pattern.matches(path)]
        own = self._plain.get(path)
        if own:
            hits = sorted(hits + own, key=lambda entry: entry[0])
        result = EMPTY_META
        for _, rule in hits:
            result = result.merged(rule.meta)
        return result


def make_rule(pattern: str, **fields_: Any) -> MetaRule:
    """Return a rule for `pattern`; unknown keyword arguments go to `extra`."""
    known = {f.name for f in fields(PathMeta)} - {"extra"}
    extra = {k: v for k, v in fields_.items() if k not in known}
    meta = PathMeta(**{k: v for k, v in fields_.items() if k in known}, extra=extra)
    return MetaRule(compile_pattern(pattern), meta)
