"""Snapshot then change batches, in order and without gaps, over WebSocket and SSE."""

from __future__ import annotations

import asyncio
import threading

import pytest


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_snapshot_then_changes(start_live, probes, transport) -> None:
    app = await start_live()
    app.state["basement/party_room"] = 17.8
    probe = await getattr(probes, transport)(app)
    first = await probe.next()
    assert first == {
        "type": "snapshot",
        "seq": app.state.seq,
        "boot": app.live.boot,
        "state": {"basement": {"party_room": 17.8}},
    }
    app.state["basement/party_room"] = 18.1
    app.state["plugs/tv/on"] = True
    await probe.until_seq(app.state.seq)
    assert probe.view.tree == {"basement": {"party_room": 18.1}, "plugs": {"tv": {"on": True}}}


async def test_removed_leaves_are_listed(start_live, probes) -> None:
    app = await start_live()
    app.state["plugs"] = {"tv": {"on": True, "power_w": 80}, "lamp": {"on": False}}
    probe = await probes.ws(app)
    await probe.next()
    app.state["plugs/tv"] = 5  # the subtree's two leaves go; a leaf takes its place
    msg = await probe.next()
    assert msg["changes"] == {"plugs/tv": 5}
    assert sorted(msg["removed"]) == ["plugs/tv/on", "plugs/tv/power_w"]
    assert probe.view.tree == app.state.to_dict()


async def test_a_batch_sends_the_latest_value_once(start_live, probes) -> None:
    app = await start_live(batch_window_s=0.2)
    probe = await probes.ws(app)
    await probe.next()
    # Written in one loop iteration, so all in one batch window.
    app.state["a"] = 1
    app.state["b"] = 1
    app.state["a"] = 2
    del app.state["b"]
    msg = await probe.next()
    assert msg == {"type": "change", "seq": 4, "since": 0, "changes": {"a": 2}, "removed": ["b"]}
    assert app.live.counters.coalesced_batch == 2


@pytest.mark.parametrize("window_s", [0.0, 0.02])
async def test_four_writer_threads_arrive_in_order_without_gaps(start_live, probes, window_s) -> None:
    app = await start_live(batch_window_s=window_s)
    ws, sse = await probes.ws(app), await probes.sse(app)
    await ws.next()
    await sse.next()
    seen: dict[str, list[int]] = {}

    def writer(i: int) -> None:
        for n in range(300):
            app.state[f"t{i}/n"] = n
            if n % 50 == 0:
                app.state[f"t{i}/extra"] = {"k": n}
            elif n % 50 == 25:
                del app.state[f"t{i}/extra"]

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) or ws.view.seq < app.state.seq:
        msg = await ws.next()
        for path, value in msg.get("changes", {}).items():
            if path.endswith("/n"):
                seen.setdefault(path, []).append(value)
    for t in threads:
        t.join()
    await ws.until_seq(app.state.seq)
    await sse.until_seq(app.state.seq)
    assert ws.view.tree == sse.view.tree == app.state.to_dict()
    assert {f"t{i}" for i in range(4)} <= ws.view.tree.keys()
    for values in seen.values():
        assert values == sorted(values), "a path's values went backwards"


async def test_changes_before_the_snapshot_are_not_repeated(start_live, probes) -> None:
    app = await start_live(batch_window_s=0.05)
    first = await probes.ws(app)
    await first.next()
    app.state["x"] = 1  # batched, not yet flushed, when the second client connects
    second = await probes.ws(app)
    snap = await second.next()
    assert snap["state"] == {"x": 1}
    app.state["x"] = 2
    await asyncio.gather(first.until_seq(2), second.until_seq(2))
    # View.apply asserts each batch starts at the client's seq: no change is sent twice.
    assert second.view.changes == 1
    assert first.view.tree == second.view.tree == {"x": 2}
