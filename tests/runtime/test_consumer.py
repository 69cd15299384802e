"""The one bounded consumer of the change stream: order, bounds, isolation, drain, detach, health."""

from __future__ import annotations

import ast
import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roost import App
from roost.core.metrics import render
from roost.core.tree import Tree, apply_diff
from roost.runtime.clock import FakeClock, SystemClock
from roost.runtime.consumer import coalesce
from roost.runtime.hub import Hub
from roost.runtime.state import Change, StateTree
from roost.testing import eventually


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    """A started hub on the real clock; stopped after the test."""
    node = Hub("test", SystemClock(), UTC, tmp_path)
    await node.start()
    yield node
    await node.stop()


def write(state: StateTree, key: str, count: int) -> None:
    for i in range(count):
        state[f"{key}/n"] = i


def seqs(batches: Sequence[Sequence[Change]]) -> list[int]:
    return [c.seq for batch in batches for c in batch]


def replay(batches: Sequence[Sequence[Change]]) -> Tree:
    root: Tree = {}
    for batch in batches:
        for change in batch:
            root = apply_diff(root, change.values, change.removed)
    return root


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_every_change_from_many_threads_arrives_once_in_order(hub: Hub, kind: str) -> None:
    batches: list[Sequence[Change]] = []

    def take(changes: Sequence[Change]) -> None:
        batches.append(list(changes))

    async def atake(changes: Sequence[Change]) -> None:
        batches.append(list(changes))
        await asyncio.sleep(0.001)

    consumer = hub.consume("c", take if kind == "sync" else atake)
    threads = [threading.Thread(target=write, args=(hub.state, f"w{n}", 300)) for n in range(4)]
    for t in threads:
        t.start()
    await asyncio.to_thread(lambda: [t.join() for t in threads])
    await eventually(lambda: consumer.last_seq == hub.state.seq)
    assert seqs(batches) == list(range(1, hub.state.seq + 1))
    assert replay(batches) == hub.state.to_dict()
    assert consumer.lag == consumer.dropped == consumer.coalesced == 0


async def test_a_slow_consumer_coalesces_within_its_bound_and_ends_on_the_tree(hub: Hub) -> None:
    release = asyncio.Event()
    batches: list[Sequence[Change]] = []

    async def slow(changes: Sequence[Change]) -> None:
        batches.append(list(changes))
        await release.wait()

    consumer = hub.consume("slow", slow, max_pending=10)
    hub.state["a/n"] = -1
    await eventually(lambda: len(batches) == 1)  # the first batch is in flight, held
    bounded: list[int] = []
    for i in range(200):
        hub.state.update({"a": {"n": i}, "b": {"n": i % 7}, f"c{i % 30}": i})
        await asyncio.sleep(0)
        bounded.append(consumer.pending)
    assert max(bounded) <= 10
    release.set()
    await eventually(lambda: consumer.last_seq == hub.state.seq)
    assert consumer.coalesced > 0 and consumer.dropped == 0
    assert replay(batches) == hub.state.to_dict()
    assert [c.seq for c in batches[-1]][-1] == hub.state.seq


async def test_without_coalescing_the_oldest_changes_are_dropped_and_counted(hub: Hub) -> None:
    release = asyncio.Event()
    batches: list[Sequence[Change]] = []

    async def slow(changes: Sequence[Change]) -> None:
        batches.append(list(changes))
        await release.wait()

    consumer = hub.consume("slow", slow, max_pending=10, coalesce=False)
    hub.state["n"] = 0
    await eventually(lambda: len(batches) == 1)
    await asyncio.to_thread(lambda: [hub.state.set("n", i) for i in range(1, 51)])
    await eventually(lambda: consumer.pending == 10)
    release.set()
    await eventually(lambda: consumer.last_seq == hub.state.seq)
    assert consumer.dropped == 40 and consumer.coalesced == 0
    assert seqs(batches) == [1, *range(42, 52)]
    assert consumer.health()["dropped"] == 40


async def test_a_failing_consumer_is_logged_once_counted_and_costs_no_one_else(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    broken = True
    good: list[int] = []

    def bad(changes: Sequence[Change]) -> None:
        if broken:
            raise RuntimeError("disk on fire")

    failing = hub.consume("bad", bad)
    hub.consume("good", lambda changes: good.extend(c.seq for c in changes))
    for i in range(20):
        hub.state["n"] = i
        await asyncio.sleep(0)
    await eventually(lambda: failing.last_seq == 20)
    assert good == list(range(1, 21))
    assert failing.errors == failing.batches == 20
    tracebacks = [r for r in caplog.records if r.name == "roost.runtime.consumer" and r.exc_info]
    assert len(tracebacks) == 1
    health = hub.health()
    assert health["status"] == "degraded"
    assert health["consumers"]["bad"]["ok"] is False
    assert health["consumers"]["bad"]["last_error"] == "RuntimeError: disk on fire"
    broken = False
    hub.state["n"] = 99
    await eventually(lambda: not failing.failing)
    assert hub.health()["status"] == "ok" and failing.errors == 20


async def test_an_async_consumer_that_raises_keeps_getting_batches(hub: Hub) -> None:
    got: list[int] = []

    async def flaky(changes: Sequence[Change]) -> None:
        got.extend(c.seq for c in changes)
        await asyncio.sleep(0)
        raise ValueError("nope")

    consumer = hub.consume("flaky", flaky)
    for i in range(5):
        hub.state["n"] = i
        await eventually(lambda: consumer.last_seq == hub.state.seq)
    assert got == [1, 2, 3, 4, 5] and consumer.errors == 5 and consumer.failing


async def test_a_slow_consumer_never_holds_back_a_quick_one(hub: Hub) -> None:
    release = asyncio.Event()
    quick: list[int] = []

    async def stuck(changes: Sequence[Change]) -> None:
        await release.wait()

    slow = hub.consume("stuck", stuck, max_pending=5)
    hub.consume("quick", lambda changes: quick.extend(c.seq for c in changes))
    await asyncio.to_thread(write, hub.state, "x", 500)
    await eventually(lambda: len(quick) == 500)
    assert slow.last_seq == 0 and slow.lag == 500 and slow.pending <= 5
    release.set()
    await eventually(lambda: slow.lag == 0)


async def test_stop_drains_every_change_a_thread_wrote_up_to_the_end(tmp_path: Path) -> None:
    hub = Hub("test", SystemClock(), UTC, tmp_path)
    got: list[int] = []

    async def slowish(changes: Sequence[Change]) -> None:
        await asyncio.sleep(0.02)
        got.extend(c.seq for c in changes)

    hub.consume("slowish", slowish, coalesce=False, max_pending=1_000_000)
    await hub.start()
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            hub.state["n"] = i

    thread = threading.Thread(target=writer)
    thread.start()
    await asyncio.sleep(0.1)
    hub.state.detach()  # as stop() does: later writes go only to the ring buffer
    await asyncio.sleep(0.001)
    stop.set()
    await asyncio.to_thread(thread.join)
    await hub.stop()
    assert got == list(range(1, hub.state.seq + 1))
    assert hub.consumers == {}


async def test_nothing_is_delivered_after_close(hub: Hub) -> None:
    release = asyncio.Event()
    got: list[int] = []
    finished: list[int] = []

    async def held(changes: Sequence[Change]) -> None:
        got.extend(c.seq for c in changes)
        await release.wait()
        finished.extend(c.seq for c in changes)

    consumer = hub.consume("held", held)
    hub.state["n"] = 1
    await eventually(lambda: got == [1])
    hub.state["n"] = 2  # pending behind the batch in flight
    await asyncio.sleep(0.01)
    await consumer.aclose()
    hub.state["n"] = 3
    release.set()
    await asyncio.sleep(0.02)
    assert got == [1] and finished == [] and "held" not in hub.consumers
    await consumer.drain()  # a no-op once closed
    assert got == [1]


async def test_a_sync_consumer_detached_in_its_own_batch_gets_no_more(hub: Hub) -> None:
    got: list[int] = []

    def once(changes: Sequence[Change]) -> None:
        got.extend(c.seq for c in changes)
        consumer.close()

    consumer = hub.consume("once", once)
    hub.state["n"] = 1
    await eventually(lambda: got == [1])
    hub.state["n"] = 2
    await asyncio.sleep(0.02)
    assert got == [1]


async def test_a_window_throttles_batches(hub: Hub) -> None:
    batches: list[list[int]] = []
    hub.consume("win", lambda changes: batches.append([c.seq for c in changes]), window_s=0.2)
    hub.state["n"] = 1
    await eventually(lambda: len(batches) == 1)  # the first change after a quiet window: at once
    for i in range(2, 6):
        hub.state["n"] = i
        await asyncio.sleep(0.005)
    assert len(batches) == 1
    await eventually(lambda: len(batches) == 2)
    assert batches == [[1], [2, 3, 4, 5]]


async def test_since_catches_up_from_the_ring_buffer(hub: Hub) -> None:
    for i in range(10):
        hub.state["n"] = i
    await asyncio.sleep(0)
    got: list[int] = []
    consumer = hub.consume("late", lambda changes: got.extend(c.seq for c in changes), since=4)
    assert consumer.last_seq == 4
    await eventually(lambda: got == list(range(5, 11)))


async def test_a_consumer_made_before_start_gets_the_writes_made_before_start(tmp_path: Path) -> None:
    hub = Hub("test", SystemClock(), UTC, tmp_path)
    got: list[int] = []
    hub.consume("early", lambda changes: got.extend(c.seq for c in changes))
    hub.state["a"] = 1  # no loop yet: never delivered by the tree
    await hub.start()
    try:
        await eventually(lambda: got == [1])
        hub.state["a"] = 2
        await eventually(lambda: got == [1, 2])
    finally:
        await hub.stop()


async def test_a_name_is_taken_until_its_consumer_closes(hub: Hub) -> None:
    first = hub.consume("x", lambda changes: None)
    with pytest.raises(ValueError, match="already"):
        hub.consume("x", lambda changes: None)
    first.close()
    assert hub.consume("x", lambda changes: None) is not first


async def test_bad_bounds_are_refused(hub: Hub) -> None:
    with pytest.raises(ValueError, match="max_pending"):
        hub.consume("x", lambda changes: None, max_pending=0)
    with pytest.raises(ValueError, match="window_s"):
        hub.consume("y", lambda changes: None, window_s=-1)


async def test_a_sync_function_returning_a_coroutine_is_an_error_not_a_hang(hub: Hub) -> None:
    async def work(changes: Sequence[Change]) -> None:
        return None

    consumer = hub.consume("wrong", lambda changes: work(changes))
    hub.state["n"] = 1
    await eventually(lambda: consumer.errors == 1)
    assert "async def" in str(consumer.last_error)


async def test_health_and_metrics_name_every_consumer(hub: Hub) -> None:
    hub.consume("alpha", lambda changes: None)
    hub.state["n"] = 1
    await eventually(lambda: hub.consumers["alpha"].last_seq == 1)
    entry = hub.health()["consumers"]["alpha"]
    assert entry["ok"] is True
    assert {"last_seq", "lag", "pending", "dropped", "coalesced", "errors", "delay_s"} <= entry.keys()
    text = render(hub.metrics())
    assert 'roost_consumer_lag{consumer="alpha"} 0' in text
    assert 'roost_consumer_last_seq{consumer="alpha"} 1' in text
    assert 'roost_consumer_dropped_total{consumer="alpha"} 0' in text


_ops = st.lists(
    st.tuples(
        st.sampled_from(["a", "a/b", "a/b/c", "d", "d/e"]),
        st.one_of(st.integers(0, 3), st.just({}), st.fixed_dictionaries({"x": st.integers(0, 2)})),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(ops=_ops, cut=st.integers(0, 25))
def test_a_coalesced_change_applied_anywhere_in_its_range_gives_the_newest_state(
    ops: list[tuple[str, object]], cut: int
) -> None:
    state = StateTree()
    for path, value in ops:
        state.set(path, value)
    changes = state.changes_since(0) or []
    cut = min(cut, len(changes))
    folded, _ = coalesce(changes[cut:])
    if folded is None:
        return
    start: Tree = {}
    for change in changes[:cut]:
        start = apply_diff(start, change.values, change.removed)
    for middle in range(cut, len(changes)):  # any state inside the folded range
        root = start
        for change in changes[cut:middle]:
            root = apply_diff(root, change.values, change.removed)
        assert apply_diff(root, folded.values, folded.removed) == state.to_dict()
    assert folded.seq == changes[-1].seq


# -- over a real HTTP server --------------------------------------------------------


async def test_healthz_and_metrics_list_history_and_live(http: aiohttp.ClientSession, served: App) -> None:
    served.state["rooms/kitchen"] = 21.5
    await eventually(lambda: served.hub.consumers["history"].lag == 0)
    async with http.get("/healthz") as resp:
        body = await resp.json()
    assert {"history", "live"} <= body["consumers"].keys()
    for entry in body["consumers"].values():
        assert entry["lag"] == 0 and entry["dropped"] == 0 and entry["errors"] == 0
    async with http.get("/metrics") as resp:
        text = await resp.text()
    for name in ("history", "live"):
        assert f'roost_consumer_lag{{consumer="{name}"}} 0' in text
        assert f'roost_consumer_dropped_total{{consumer="{name}"}} 0' in text
        assert f'roost_consumer_errors_total{{consumer="{name}"}} 0' in text


async def test_a_failing_consumer_makes_the_node_degraded_over_http(
    http: aiohttp.ClientSession, served: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="roost.runtime.consumer")

    def broken(changes: Sequence[Change]) -> None:
        raise KeyError("x")

    served.hub.consume("broken", broken)
    served.state["a"] = 1
    await eventually(lambda: served.hub.consumers["broken"].errors == 1)
    async with http.get("/healthz") as resp:
        body = await resp.json()
    assert resp.status == 200 and body["status"] == "degraded"
    assert body["consumers"]["broken"] | {"errors": 1, "ok": False} == body["consumers"]["broken"]
    async with http.get("/metrics") as resp:
        assert 'roost_consumer_errors_total{consumer="broken"} 1' in await resp.text()


async def test_a_consumer_stuck_on_a_batch_shows_as_stalled_on_the_hubs_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    hub = Hub("test", clock, UTC, tmp_path)
    await hub.start()
    release = asyncio.Event()

    async def hung(changes: Sequence[Change]) -> None:
        await release.wait()

    consumer = hub.consume("hung", hung)
    try:
        hub.state["n"] = 1
        await eventually(lambda: consumer.lag == 1 and consumer.pending == 0)  # in flight
        await clock.advance(59)
        assert hub.health()["status"] == "ok"
        await clock.advance(2)
        assert (
            hub.health()["consumers"]["hung"] | {"ok": False, "stalled": True, "delay_s": 61.0}
            == (hub.health()["consumers"]["hung"])
        )
        assert hub.health()["status"] == "degraded"
        release.set()
        await eventually(lambda: consumer.lag == 0)
        assert hub.health()["status"] == "ok"
    finally:
        release.set()
        await hub.stop()


async def test_past_the_bound_the_oldest_fold_into_a_head_and_the_newest_stay(hub: Hub) -> None:
    release = asyncio.Event()
    batches: list[list[Change]] = []

    async def held(changes: Sequence[Change]) -> None:
        batches.append(list(changes))
        await release.wait()

    consumer = hub.consume("held", held, max_pending=3)
    hub.state["n"] = 0
    await eventually(lambda: len(batches) == 1)
    for i in range(1, 11):  # seqs 2..11
        hub.state["n"] = i
    await eventually(lambda: consumer.pending == 3 and consumer.lag == 11)  # seq 1 still in flight
    release.set()
    await eventually(lambda: consumer.last_seq == 11)
    assert [(c.seq, dict(c.values)) for c in batches[1]] == [(9, {"n": 8}), (10, {"n": 9}), (11, {"n": 10})]
    assert consumer.coalesced == 7  # seqs 2..8 each replaced by a later value in the head


async def test_consume_from_another_thread_once_started_is_refused(hub: Hub) -> None:
    with pytest.raises(RuntimeError, match="event loop"):
        await asyncio.to_thread(hub.consume, "thread", lambda changes: None)
    assert "thread" not in hub.consumers


def test_features_follow_the_stream_only_through_hub_consume() -> None:
    # The tree's own hooks are for the consumer (and tests): a feature that used them
    # would be an unbounded follower that /healthz never shows.
    src = Path(__file__).resolve().parents[2] / "src" / "roost"
    allowed = {src / "runtime" / "state.py", src / "runtime" / "consumer.py"}
    offenders = []
    for path in sorted(src.rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if _is_tree_hook(node):
                offenders.append(f"{path.relative_to(src)}:{node.lineno}")
    assert not offenders, f"change-stream hooks used outside runtime: {offenders}"


def _is_tree_hook(node: ast.AST) -> bool:
    """`state.subscribe(...)`, `self.hub.state.follow(...)` and the like (not an MQTT subscribe)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    receiver = node.func.value
    name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
    return node.func.attr in ("subscribe", "follow") and name in ("state", "_state", "tree")


async def test_a_hung_consumer_holds_stop_up_only_for_the_drain_timeout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = Hub("test", SystemClock(), UTC, tmp_path)
    hub.drain_timeout_s = 0.2
    await hub.start()
    forever = asyncio.Event()
    quick: list[int] = []

    async def hung(changes: Sequence[Change]) -> None:
        await forever.wait()

    hub.consume("hung", hung)
    hub.consume("quick", lambda changes: quick.extend(c.seq for c in changes))
    hub.state["n"] = 1
    await eventually(lambda: quick == [1])
    hub.state["n"] = 2  # waits behind the hung batch
    async with asyncio.timeout(5):
        await hub.stop(grace_s=0.1)
    assert quick == [1, 2] and hub.consumers == {}
    assert any("hung did not take its last" in r.getMessage() for r in caplog.records)
