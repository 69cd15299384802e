"""Coalescing changes: one batch window's changes as one message, encoded once for many clients."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING

from roost.core.tree import Json
from roost.live.messages import REMOVED, change_message
from roost.runtime.state import Change

if TYPE_CHECKING:
    from roost.live.subscription import Subscription


def coalesce_into(updates: dict[str, Json], changes: Iterable[Change], after_seq: int = -1) -> int:
    """Fold `changes` after `after_seq` into `updates`, the latest update per path winning.

    Removals become REMOVED. Returns how many earlier updates were overwritten.
    """
    overwritten = 0
    for change in changes:
        if change.seq <= after_seq:
            continue
        for path in change.removed:
            overwritten += path in updates
            updates[path] = REMOVED
        for path, value in change.values.items():
            overwritten += path in updates
            updates[path] = value
    return overwritten


def select(updates: Mapping[str, Json], subscription: Subscription | None) -> Mapping[str, Json]:
    """Return the updates a subscription wants."""
    if subscription is None:
        return updates
    return {p: v for p, v in updates.items() if subscription.matches(p)}


class Batch:
    """The changes of one batch window, coalesced; encodings are cached for clients alike. Loop only."""

    __slots__ = ("_cache", "_selected", "changes", "coalesced", "first", "last", "updates")

    def __init__(self, changes: list[Change]) -> None:
        self.changes = changes
        self.first = changes[0].seq
        self.last = changes[-1].seq
        self.updates: dict[str, Json] = {}
        self.coalesced = coalesce_into(self.updates, changes)
        self._selected: dict[tuple[str, ...] | None, Mapping[str, Json]] = {}
        self._cache: dict[Hashable, bytes | None] = {}

    def selected(self, subscription: Subscription | None) -> Mapping[str, Json]:
        """Return the updates a subscription wants (computed once per subscription)."""
        key = None if subscription is None else subscription.key
        found = self._selected.get(key)
        if found is None:
            found = self._selected[key] = select(self.updates, subscription)
        return found

    def frame(
        self,
        kind: str,
        subscription: Subscription | None,
        since: int,
        wrap: Callable[[bytes, int], bytes],
    ) -> bytes | None:
        """Return the framed change message for clients of `kind` that hold `since`, or None if empty.

        Clients with the same transport, subscription and `since` get the same bytes;
        with no subscriptions that is every client that keeps up, so the batch is
        encoded and framed once however many clients there are.
        """
        key = (kind, None if subscription is None else subscription.key, since)
        try:
            return self._cache[key]
        except KeyError:
            pass
        payload = change_message(self.last, since, self.selected(subscription))
        framed = None if payload is None else wrap(payload, self.last)
        self._cache[key] = framed
        return framed
