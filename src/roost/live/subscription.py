"""Which leaves a client asked for: path patterns such as `basement/*` and `plugs/**`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from roost.core.errors import BadRequest, InvalidPath
from roost.core.paths import MAX_PATH_CHARS, PathPattern, compile_pattern
from roost.core.tree import Json, Tree, iter_leaves


@dataclass(frozen=True, slots=True)
class Subscription:
    """A set of path patterns; a leaf is wanted when it matches one of them."""

    patterns: tuple[PathPattern, ...]

    @property
    def key(self) -> tuple[str, ...]:
        """Return the pattern texts, equal for equal subscriptions (to share encodings)."""
        return tuple(p.text for p in self.patterns)

    def matches(self, path: str) -> bool:
        """Return True if the leaf at `path` is wanted."""
        return any(p.matches(path) for p in self.patterns)

    def filter_tree(self, root: Tree) -> Tree:
        """Return a new tree holding only the wanted leaves of `root`."""
        out: Tree = {}
        for key, child in root.items():
            # Skip whole branches no pattern can reach: a big tree, a narrow subscription.
            if not any(p.could_match_below(key) for p in self.patterns):
                continue
            for path, leaf in iter_leaves(child, key):
                if self.matches(path):
                    _insert(out, path.split("/"), leaf)
        return out


def _insert(root: Tree, parts: list[str], leaf: Json) -> None:
    node = root
    for key in parts[:-1]:
        node = node.setdefault(key, {})
    node[parts[-1]] = leaf


def parse_subscription(texts: Sequence[object], max_patterns: int) -> Subscription | None:
    """Check and compile patterns; return None for "everything" (no patterns, or `**`)."""
    if len(texts) > max_patterns:
        raise BadRequest(f"too many patterns ({len(texts)}); the limit is {max_patterns}")
    patterns: list[PathPattern] = []
    for text in texts:
        if not isinstance(text, str) or not text.strip("/"):
            raise InvalidPath(repr(text)[:40], "a pattern must be a non-empty string")
        if len(text) > MAX_PATH_CHARS:
            raise InvalidPath(text[:40] + "...", f"longer than {MAX_PATH_CHARS} characters")
        pattern = compile_pattern(text)
        if pattern.text.strip("/") == "**":
            return None
        if pattern not in patterns:
            patterns.append(pattern)
    return Subscription(tuple(patterns)) if patterns else None
