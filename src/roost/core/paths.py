"""State paths (`basement/party_room`) and path patterns (`plugs/*/power`, `plugs/**`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from roost.core.errors import InvalidPath

MAX_PATH_CHARS = 512
# `*`, `+` and `#` are wildcards in patterns and MQTT topics; a key holding one
# could never be subscribed to or published faithfully.
_FORBIDDEN = re.compile(r"[*+#\x00-\x1f\x7f]")


def check_key(key: object) -> str:
    """Return `key` if it is a valid single path segment, else raise InvalidPath."""
    if not isinstance(key, str):
        raise InvalidPath(repr(key), "keys must be strings")
    if not key:
        raise InvalidPath(key, "empty key")
    if "/" in key:
        raise InvalidPath(key, "a key may not contain '/'")
    if _FORBIDDEN.search(key):
        raise InvalidPath(key, "keys may not contain *, +, # or control characters")
    return key


@lru_cache(maxsize=4096)
def split_path(path: str) -> tuple[str, ...]:
    """Split `a/b/c` into its keys; the empty string is the root, `()`."""
    if not isinstance(path, str):
        raise InvalidPath(repr(path), "paths must be strings")
    if len(path) > MAX_PATH_CHARS:
        raise InvalidPath(path[:40] + "...", f"longer than {MAX_PATH_CHARS} characters")
    trimmed = path.strip("/")
    if not trimmed:
        return ()
    parts = tuple(trimmed.split("/"))
    for part in parts:
        if not part:
            raise InvalidPath(path, "empty key between slashes")
        if _FORBIDDEN.search(part):
            raise InvalidPath(path, "keys may not contain *, +, # or control characters")
    return parts


def join_path(parts: tuple[str, ...] | list[str]) -> str:
    """Join keys into a path."""
    return "/".join(parts)


def is_within(path: str, prefix: str) -> bool:
    """Return True if `path` is `prefix` or lies below it."""
    return not prefix or path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A compiled glob over paths: `*` and `?` stay within one key, `**` spans any number."""

    text: str
    regex: re.Pattern[str]
    literal: str | None = None  # the one path a pattern without wildcards matches

    def matches(self, path: str) -> bool:
        """Return True if `path` matches the whole pattern."""
        if self.literal is not None:
            # A string comparison, not a regex: a node with 500 devices has thousands of
            # plain-path metadata rules, and every new path is matched against them all.
            return path == self.literal
        return self.regex.fullmatch(path) is not None

    def could_match_below(self, prefix: str) -> bool:
        """Return True if some path at or below `prefix` might match (cheap, may say yes wrongly)."""
        # The keys before the first wildcard; a key holding one (`a?c`) is not literal.
        fixed: list[str] = []
        for key in self.text.strip("/").split("/"):
            if "*" in key or "?" in key:
                break
            fixed.append(key)
        literal = "/".join(fixed)
        return is_within(literal, prefix) or is_within(prefix, literal)


@lru_cache(maxsize=1024)
def compile_pattern(text: str) -> PathPattern:
    """Compile a path pattern; a plain path matches itself only."""
    parts = text.strip("/").split("/") if text.strip("/") else []
    if any(not p for p in parts):
        raise InvalidPath(text, "empty key between slashes")
    pieces: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            # Zero or more whole keys, with the slash that separates them from the next.
            pieces.append(".*" if last else "(?:[^/]+/)*")
            continue
        segment = "".join("[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch) for ch in part)
        pieces.append(segment if last else segment + "/")
    pattern = "".join(pieces)
    # `a/**` should match `a` itself, so the slash before a trailing `**` is optional.
    if parts and parts[-1] == "**" and len(parts) > 1:
        pattern = pattern[: -len(".*") - 1] + "(?:/.*)?"
    plain = not any("*" in p or "?" in p for p in parts)
    return PathPattern(text, re.compile(pattern, re.DOTALL), "/".join(parts) if plain else None)


def matches_any(path: str, patterns: tuple[PathPattern, ...]) -> bool:
    """Return True if `path` matches one of `patterns` (no patterns: nothing matches)."""
    return any(p.matches(path) for p in patterns)
