"""Slow and stuck clients: a bounded, coalescing backlog; never a delay for anyone else."""

from __future__ import annotations

import asyncio

from roost import App
from roost.live import LiveSettings
from roost.runtime.clock import FakeClock
from roost.testing import eventually

# Values this big fill a small socket buffer in a few writes.
BIG = "x" * 32_768

# A small kernel send buffer so that a client that stops reading blocks the
# server's writes after a few hundred KiB instead of several MiB.
TIGHT = {"send_buffer_bytes": 16_384}


async def fill_until_lagging(app) -> None:
    """Write big values until the server has to hold updates back for some client."""
    n = 0
    while not app.live.health()["lagging"]:
        app.state[f"big/{n % 64}"] = f"{n}{BIG}"
        n += 1
        await asyncio.sleep(0.002)


async def test_a_reader_that_stops_does_not_delay_another(start_live, probes) -> None:
    app = await start_live(**TIGHT)
    stopped = await probes.raw_ws(app)
    reader = await probes.ws(app)

    async def follow() -> None:
        while reader.view.tree.get("counter") != 199:
            await reader.next()

    following = asyncio.create_task(follow())
    await fill_until_lagging(app)
    for n in range(200):
        app.state["counter"] = n
        await asyncio.sleep(0)
    # The reader gets every change up to the last (a stalled fan-out would time out here)...
    await following
    assert reader.view.tree == app.state.to_dict()
    # ...while the stopped client is still connected and still behind.
    assert app.live.health()["lagging"] == 1
    assert app.live.client_counts()["ws"] == 2
    assert stopped.view.seq == -1


async def test_backlog_coalesces_per_path_then_catches_up(start_live, probes) -> None:
    app = await start_live(**TIGHT)
    slow = await probes.raw_ws(app, rcvbuf=65_536)
    await fill_until_lagging(app)
    for n in range(10):
        app.state["counter"] = n
        # Each write in its own batch, so only the client's backlog can merge them: wait
        # until the live hub has taken this one (not a fixed sleep, which a loaded machine outruns).
        await eventually(lambda: app.live._consumer.last_seq >= app.state.seq)
    await eventually(lambda: app.live.counters.coalesced_client >= 9)
    # Reading again, the client gets what was waiting and ends up with the current state.
    await slow.until_seq(app.state.seq)
    assert slow.view.tree == app.state.to_dict()
    assert slow.view.snapshots == 1


async def test_a_backlog_past_its_limit_becomes_a_snapshot(start_live, probes) -> None:
    app = await start_live(max_pending_paths=10, **TIGHT)
    slow = await probes.raw_ws(app, rcvbuf=65_536)
    await fill_until_lagging(app)
    for n in range(50):  # 50 distinct paths > 10
        app.state[f"many/p{n}"] = n
    await eventually(lambda: app.live.counters.dropped > 0)
    await slow.until_seq(app.state.seq)
    assert slow.view.snapshots == 2
    assert slow.messages[-1]["type"] == "snapshot"
    assert slow.view.tree == app.state.to_dict()


async def test_a_stuck_client_is_closed_with_a_reason(start_live, probes) -> None:
    app = await start_live(stuck_timeout_s=0.3, **TIGHT)
    stuck = await probes.raw_ws(app)
    await fill_until_lagging(app)
    await eventually(lambda: app.live.counters.closes["stuck"] == 1)
    assert app.live.client_counts()["ws"] == 0
    await stuck.wait_closed()
    async with probes.session.get(f"{app.url}/metrics") as response:
        assert 'roost_live_closes_total{reason="stuck"} 1' in await response.text()


async def test_a_stuck_sse_client_is_closed_too(start_live, probes) -> None:
    app = await start_live(stuck_timeout_s=0.3, **TIGHT)
    await probes.stalled_sse(app)
    await fill_until_lagging(app)
    await eventually(lambda: app.live.counters.closes["stuck"] == 1)
    assert app.live.client_counts()["sse"] == 0


async def test_shutdown_drops_a_stalled_client(app, probes) -> None:
    app.live.settings = LiveSettings(**TIGHT)
    await app.start(host="127.0.0.1", port=0)
    try:
        stalled = await probes.raw_ws(app)
        await fill_until_lagging(app)
    finally:
        await app.stop()
    assert app.live.counters.closes["shutdown"] == 1
    await stalled.wait_closed()


async def test_the_stuck_timeout_runs_on_the_hubs_clock(tmp_path, probes) -> None:
    # Default settings (30 s), no real waiting: a fake clock moves the time the hub reads.
    clock = FakeClock()
    app = App("fake", data_dir=tmp_path, port=0, clock=clock, history=False)
    app.live.settings = LiveSettings(**TIGHT)
    await app.start(host="127.0.0.1", port=0)
    try:
        await probes.raw_ws(app)
        await fill_until_lagging(app)
        await asyncio.sleep(0.2)  # the drain poll looks several times: no progress, but no time either
        assert app.live.counters.closes["stuck"] == 0
        await clock.advance(31)
        await eventually(lambda: app.live.counters.closes["stuck"] == 1)
    finally:
        await app.stop()
