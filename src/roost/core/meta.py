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


def resolve_meta(rules: tuple[MetaRule, ...], path: str) -> PathMeta:
    """Return the metadata of `path`: every matching rule, later ones winning."""
    result = EMPTY_META
    for rule in rules:
        if rule.pattern.matches(path):
            result = result.merged(rule.meta)
    return result


def make_rule(pattern: str, **fields_: Any) -> MetaRule:
    """Return a rule for `pattern`; unknown keyword arguments go to `extra`."""
    known = {f.name for f in fields(PathMeta)} - {"extra"}
    extra = {k: v for k, v in fields_.items() if k not in known}
    meta = PathMeta(**{k: v for k, v in fields_.items() if k in known}, extra=extra)
    return MetaRule(compile_pattern(pattern), meta)
