"""The state tree: consistent snapshots, gap-free seqs, and an ordered change stream."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roost.core.errors import InvalidValue, UnknownPath
from roost.core.tree import apply_diff
from roost.runtime.state import Change, StateTree
from roost.testing import eventually, settle_loop


def test_write_read_and_unchanged_write_emits_nothing() -> None:
    state = StateTree()
    assert state.set("basement/party_room", 17.8) == 1
    assert state.set("basement/party_room", 17.8) is None
    assert state["basement"] == {"party_room": 17.8}
    assert state.seq == 1
    assert state.last_seen("basement/party_room") is not None


def test_reads_are_copies() -> None:
    state = StateTree()
    state["a"] = {"list": [1, 2]}
    copy = state["a"]
    copy["list"].append(3)
    assert state["a"] == {"list": [1, 2]}


def test_unknown_path_is_a_key_error_and_get_has_default() -> None:
    state = StateTree()
    with pytest.raises(KeyError):
        _ = state["nope"]
    with pytest.raises(UnknownPath):
        del state["nope"]
    assert state.get("nope", 5) == 5
    assert "nope" not in state


def test_invalid_values_are_refused_and_change_nothing() -> None:
    state = StateTree()
    with pytest.raises(InvalidValue):
        state["x"] = float("nan")
    with pytest.raises(InvalidValue):
        state["x"] = {"counter": 2**64}  # no JSON encoder or SQLite column takes it
    assert state.seq == 0
    state["x"] = {"small": -(2**63), "large": 2**63 - 1}
    assert state.encoded()[1] == b'{"x":{"small":-9223372036854775808,"large":9223372036854775807}}'


def test_changes_since_and_buffer_overflow() -> None:
    state = StateTree(buffer_size=3)
    for i in range(5):
        state["n"] = i
    since_3 = state.changes_since(3)
    assert since_3 is not None
    assert [c.seq for c in since_3] == [4, 5]
    assert state.changes_since(1) is None  # seq 2 has left the buffer
    assert state.changes_since(5) == []


def _writer(state: StateTree, name: str, count: int) -> None:
    for i in range(count):
        state[f"{name}/value"] = i
        state.update(name, {"i": i, "half": i // 2})
        if i % 7 == 0:
            state[name] = {"value": -i}


def test_concurrent_writers_give_gap_free_seqs_and_consistent_snapshots() -> None:
    state = StateTree(buffer_size=100_000)
    snapshots: list[Any] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            snapshots.append(state.snapshot())

    threads = [threading.Thread(target=_writer, args=(state, f"w{n}", 300)) for n in range(4)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    changes = state.changes_since(0)
    assert changes is not None
    assert [c.seq for c in changes] == list(range(1, state.seq + 1))
    # Replaying the stream up to any snapshot's seq rebuilds exactly that snapshot.
    replayed: dict[str, Any] = {}
    by_seq = {s.seq: s.root for s in snapshots}
    for change in changes:
        replayed = apply_diff(replayed, change.values, change.removed)
        if change.seq in by_seq:
            assert replayed == by_seq[change.seq]
    assert replayed == state.snapshot().root


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "a/b", "a/c", "d"]), st.integers(0, 3)), max_size=20))
def test_stream_replay_equals_tree(writes: list[tuple[str, int]]) -> None:
    state = StateTree()
    for path, value in writes:
        state[path] = value if value else {}
    replayed: dict[str, Any] = {}
    for change in state.changes_since(0) or []:
        replayed = apply_diff(replayed, change.values, change.removed)
    assert replayed == state.to_dict()


async def test_listeners_get_changes_in_order_on_the_loop() -> None:
    state = StateTree(buffer_size=100_000)
    state.attach(asyncio.get_running_loop())
    seen: list[Change] = []
    loop_thread = threading.get_ident()
    on_loop: list[bool] = []

    def listener(change: Change) -> None:
        seen.append(change)
        on_loop.append(threading.get_ident() == loop_thread)

    unsubscribe = state.subscribe(listener)
    threads = [threading.Thread(target=_writer, args=(state, f"w{n}", 100)) for n in range(4)]
    for t in threads:
        t.start()
    await asyncio.to_thread(lambda: [t.join() for t in threads])
    await settle_loop()  # every write has handed its change to the loop: let it deliver
    unsubscribe()
    assert [c.seq for c in seen] == list(range(1, state.seq + 1))
    assert all(on_loop)


async def test_a_failing_listener_does_not_starve_the_others() -> None:
    state = StateTree()
    state.attach(asyncio.get_running_loop())
    got: list[int] = []

    def bad(change: Change) -> None:
        raise RuntimeError("boom")

    state.subscribe(bad)
    state.subscribe(lambda c: got.append(c.seq))
    state["x"] = 1
    state["x"] = 2
    await settle_loop()
    assert got == [1, 2]


def test_encoded_is_cached_until_the_next_change() -> None:
    state = StateTree()
    state["a"] = 1
    seq, first = state.encoded()
    assert state.encoded()[1] is first
    state["a"] = 1  # no change
    assert state.encoded()[1] is first
    state["a"] = 2
    assert state.encoded() == (seq + 1, b'{"a":2}')


async def test_detach_delivers_what_is_pending_and_then_nothing() -> None:
    state = StateTree()
    state.attach(asyncio.get_running_loop())
    got: list[int] = []
    state.subscribe(lambda c: got.append(c.seq))
    state["a"] = 1
    state["b"] = 2  # the loop has not run since: both are still pending
    state.detach()
    assert got == [1, 2]
    state["c"] = 3
    await settle_loop()
    assert got == [1, 2]


async def test_detach_delivers_every_write_made_before_it_and_none_after() -> None:
    state = StateTree()
    state.attach(asyncio.get_running_loop())
    seen: list[int] = []
    state.subscribe(lambda c: seen.append(c.seq))
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            state["n"] = i

    thread = threading.Thread(target=writer)
    thread.start()
    await eventually(lambda: len(seen) > 100)
    state.detach()
    last_delivered = seen[-1]
    stop.set()
    thread.join()
    await settle_loop()
    assert seen == list(range(1, last_delivered + 1))  # in order, no gap, nothing after detach
