"""Coalescing: the latest update per path wins, removals included."""

from __future__ import annotations

from roost.live.batch import Batch, coalesce_into
from roost.live.messages import REMOVED
from roost.live.subscription import parse_subscription
from roost.runtime.state import Change


def change(seq: int, values: dict[str, object] | None = None, removed: tuple[str, ...] = ()) -> Change:
    return Change(seq, 0.0, values or {}, removed)


def test_latest_update_wins_and_overwrites_are_counted() -> None:
    updates: dict[str, object] = {}
    changes = [change(1, {"a": 1, "b": 1}), change(2, removed=("a",)), change(3, {"a": 3})]
    assert coalesce_into(updates, changes) == 2
    assert updates == {"a": 3, "b": 1}


def test_only_changes_after_a_seq_are_folded() -> None:
    updates: dict[str, object] = {}
    coalesce_into(updates, [change(1, {"a": 1}), change(2, removed=("b",))], after_seq=1)
    assert updates == {"b": REMOVED}


def test_batch_frames_are_shared_and_filtered() -> None:
    batch = Batch([change(4, {"plugs/tv/on": True, "solar/w": 5}), change(5, {"solar/w": 6})])
    wrap = lambda payload, seq: b"[" + payload + b"]"  # noqa: E731
    everything = batch.frame("ws", None, 3, wrap)
    assert everything is batch.frame("ws", None, 3, wrap)
    assert everything == b'[{"type":"change","seq":5,"since":3,"changes":{"plugs/tv/on":true,"solar/w":6}}]'
    plugs = parse_subscription(["plugs/**"], 8)
    only_plugs = b'[{"type":"change","seq":5,"since":3,"changes":{"plugs/tv/on":true}}]'
    assert batch.frame("ws", plugs, 3, wrap) == only_plugs
    assert batch.frame("ws", parse_subscription(["basement/*"], 8), 3, wrap) is None
