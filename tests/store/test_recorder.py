"""The recorder on a fake clock: what it records, when it commits, what stopping keeps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roost import App, HistorySettings
from roost.runtime.clock import FakeClock
from roost.runtime.component import Component
from roost.store import HistoryStore, Recorder, Series
from roost.store.writer import Call

from .conftest import BERLIN

T0 = 1_700_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def settings() -> HistorySettings:
    return HistorySettings(commit_interval_s=15, heartbeat_s=None)


def make_node(tmp_path: Path, clock: FakeClock, history: HistorySettings | None = None) -> App:
    """An App on a fake clock in Berlin time, not yet started."""
    settings = history if history is not None else HistorySettings()
    return App("rec", data_dir=tmp_path, port=0, timezone="Europe/Berlin", clock=clock, history=settings)


@pytest.fixture
async def app(tmp_path: Path, clock: FakeClock, settings: HistorySettings) -> AsyncIterator[App]:
    """A started App on a fake clock (its server on a free port)."""
    node = make_node(tmp_path, clock, settings)
    await node.start(port=0)
    try:
        yield node
    finally:
        await node.stop()


def recorder(app: App) -> Recorder:
    assert app.history is not None
    return app.history


async def raw(app: App, path: str) -> Series:
    await recorder(app).aflush()
    (series,) = await recorder(app).aquery(path, T0 - 3600, "+1d", resolution="raw")
    return series


async def test_numbers_and_booleans_are_recorded_other_values_not(app: App, clock: FakeClock) -> None:
    app.state.update({"t": 20.5, "n": 3, "on": True, "name": "kitchen", "list": [1, 2]})
    await clock.advance(1)
    app.state.update({"t": 21.0, "on": False})
    assert (await raw(app, "t")).mean == [20.5, 21.0]
    assert (await raw(app, "on")).mean == [1.0, 0.0]
    assert (await raw(app, "n")).mean == [3.0]
    assert len(await raw(app, "name")) == 0  # in the state, so an empty series, not an error
    assert recorder(app).paths() == ["n", "on", "t"]


async def test_switch_states_as_words_count_as_zero_and_one(app: App) -> None:
    app.meta("door", kind="switch")
    app.state["door"] = "on"
    app.state["door"] = "OFF"
    app.state["lamp"] = "on"  # not declared a switch: a word like any other
    assert (await raw(app, "door")).mean == [1.0, 0.0]
    assert len(await raw(app, "lamp")) == 0


@pytest.mark.parametrize("settings", [HistorySettings(include=("rooms/**",), exclude=("rooms/*/set*",))])
async def test_patterns_and_record_metadata_choose_paths(app: App) -> None:
    app.meta("rooms/bath/humidity", record=False)
    app.meta("outside/t", record=True)
    app.state.update(
        {"rooms": {"bath": {"t": 1, "humidity": 60, "setpoint": 21}}, "outside": {"t": 5, "wind": 3}}
    )
    await recorder(app).aflush()
    assert recorder(app).paths() == ["outside/t", "rooms/bath/t"]


async def test_min_interval_holds_the_newest_value_back(app: App, clock: FakeClock) -> None:
    app.meta("power", min_interval_s=10)
    for value in (100, 101, 102):
        app.state["power"] = value
        await clock.advance(2)
    assert (await raw(app, "power")).mean == [100.0]  # 101 and 102 came too soon
    await clock.advance(5)  # 11 s after the first: the newest held value is due, at its own time
    series = await raw(app, "power")
    assert series.mean == [100.0, 102.0]
    assert series.t == [T0, T0 + 4]


async def test_deadband_skips_small_changes(app: App) -> None:
    app.meta("t", deadband=0.5)
    for value in (20.0, 20.2, 20.4, 20.6, 20.7, 19.9):
        app.state["t"] = value
    assert (await raw(app, "t")).mean == [20.0, 20.6, 19.9]


@pytest.mark.parametrize("settings", [HistorySettings(commit_interval_s=15, heartbeat_s=300)])
async def test_a_steady_value_gets_a_heartbeat(app: App, clock: FakeClock) -> None:
    app.state["t"] = 20.0
    await clock.advance(299)
    assert len(await raw(app, "t")) == 1
    await clock.advance(16)
    series = await raw(app, "t")
    assert series.mean == [20.0, 20.0] and series.t[1] >= T0 + 300


async def test_samples_are_committed_every_commit_interval(app: App, clock: FakeClock) -> None:
    rec = recorder(app)
    stats = rec.store.engine.stats
    app.state["t"] = 1.0
    await clock.advance(14)
    assert (rec.buffered, stats.samples_written, stats.commits) == (1, 0, 0)
    await clock.advance(1)  # the timer's flush takes the buffer to the writer
    assert await rec.aflush() == 0  # waits for that flush; nothing is left for this one
    assert (rec.buffered, stats.samples_written, stats.commits) == (0, 1, 1)
    assert rec.committed_seq == app.state.seq


async def test_values_set_before_start_are_recorded_at_start(tmp_path: Path, clock: FakeClock) -> None:
    node = make_node(tmp_path, clock, HistorySettings(heartbeat_s=None))
    node.state["t"] = 7.5
    await node.start(port=0)
    try:
        assert (await raw(node, "t")).mean == [7.5]
    finally:
        await node.stop()


async def test_stop_commits_everything(tmp_path: Path, clock: FakeClock) -> None:
    node = make_node(tmp_path, clock, HistorySettings(commit_interval_s=3600))
    await node.start(port=0)
    for i in range(50):
        node.state["n"] = i
    await node.stop()
    store = HistoryStore(tmp_path / "history.db", BERLIN)
    store.open()
    try:
        (series,) = store.query("n", T0 - 1, T0 + 1, resolution="raw")
        assert series.mean == [float(i) for i in range(50)]
    finally:
        store.close()


async def test_blocking_calls_refuse_to_run_on_the_loop(app: App) -> None:
    with pytest.raises(RuntimeError, match="aquery"):
        recorder(app).query("t")
    with pytest.raises(RuntimeError, match="aingest"):
        recorder(app).ingest([("t", T0, 1.0)])
    with pytest.raises(RuntimeError, match="aflush"):
        recorder(app).flush()


async def test_a_thread_flushes_with_the_plain_name(app: App) -> None:
    app.state["t"] = 1.5
    assert await asyncio.to_thread(recorder(app).flush, 5) == 1
    with pytest.warns(DeprecationWarning, match="flush"):
        assert await asyncio.to_thread(recorder(app).flush_threadsafe, 5) == 0


async def test_programs_ingest_old_samples(app: App) -> None:
    assert await recorder(app).aingest([("old", T0 - 86_400 + i, True) for i in range(3)]) == 3
    (series,) = await recorder(app).aquery("old", "-2d", "now")
    assert series.mean == [1.0, 1.0, 1.0]


def test_history_can_be_turned_off(tmp_path: Path) -> None:
    node = App("off", data_dir=tmp_path, history=False)
    assert node.history is None
    assert not any(isinstance(c, Recorder) for c in node.hub.components)


async def test_stop_records_values_held_back(tmp_path: Path, clock: FakeClock) -> None:
    node = make_node(tmp_path, clock)
    node.meta("power", min_interval_s=60)
    await node.start(port=0)
    node.state["power"] = 100
    await clock.advance(1)
    node.state["power"] = 250  # held back: too soon after 100
    await node.stop()
    store = HistoryStore(tmp_path / "history.db", BERLIN)
    store.open()
    try:
        assert store.query("power", T0 - 1, T0 + 10, resolution="raw")[0].mean == [100.0, 250.0]
    finally:
        store.close()


async def test_stop_keeps_a_commit_that_waits_behind_other_writer_work(
    tmp_path: Path, clock: FakeClock
) -> None:
    node = make_node(tmp_path, clock, HistorySettings(heartbeat_s=None))
    await node.start(port=0)
    rec = recorder(node)
    gate = threading.Event()
    rec.store.submit(Call(lambda engine: gate.wait(10)))  # the writer is busy (a slow disk, a big ingest)
    node.state["n"] = 1
    await clock.advance(15)  # the timer's flush hands the sample to the writer and waits behind that work
    timer = next(t for t in rec._tasks if t.get_name() == "history-flush")
    stopping = asyncio.create_task(node.stop())  # SIGTERM: stop cancels the timer while its commit waits
    while not timer.done():
        await asyncio.sleep(0.01)
    gate.set()
    await stopping
    store = HistoryStore(tmp_path / "history.db", BERLIN)
    store.open()
    try:
        assert store.query("n", T0 - 1, T0 + 60, resolution="raw")[0].mean == [1.0]
    finally:
        store.close()


@pytest.mark.parametrize(
    "settings", [HistorySettings(commit_interval_s=15, heartbeat_s=None, max_buffered=100)]
)
async def test_max_buffered_bounds_memory_while_commits_fail(app: App, clock: FakeClock) -> None:
    rec = recorder(app)

    def disk_size(pages: int) -> Call[object]:
        return Call(lambda engine: engine.conn.execute(f"PRAGMA max_page_count = {pages}").fetchone())

    for step in range(40):  # ten minutes of 50 changes every 15 s, every commit failing
        # The disk is full: no page more. Again each time: after a failed commit the
        # writer opens a fresh connection, which knows nothing of the pragma.
        await asyncio.wrap_future(rec.store.submit(disk_size(1)))
        for i in range(50):
            app.state["n"] = step * 50 + i + 1 / 3  # full floats: a batch needs a page of its own
        await clock.advance(15)
    assert rec.store.engine.stats.commits <= 2 and rec.dropped > 0
    assert rec.buffered <= 2 * 100  # the writer's failed batch and the buffer, no more
    await asyncio.wrap_future(rec.store.submit(disk_size(1_000_000)))  # space again
    series = await raw(app, "n")
    assert series.mean[-1] == 40 * 50 - 1 + 1 / 3 and len(series) <= 3 * 100


async def test_health_reads_the_hubs_clock(app: App, clock: FakeClock) -> None:
    rec = recorder(app)
    app.state["t"] = 1.0
    await rec.aflush()
    assert rec.health()["last_commit_age_s"] == 0
    await clock.advance(10)  # shorter than the commit interval: no commit in between
    assert rec.health()["last_commit_age_s"] == 10


async def test_the_recorder_is_the_history_consumer(app: App) -> None:
    for i in range(5):
        app.state["t"] = float(i)
    await rec_flush_and_wait(app)
    consumer = app.hub.consumers["history"]
    assert consumer.last_seq == app.state.seq and consumer.lag == 0
    assert recorder(app).committed_seq == app.state.seq


async def rec_flush_and_wait(app: App) -> None:
    await asyncio.sleep(0)
    await recorder(app).aflush()


class WritesWhenStopping(Component):
    name = "goodbye"

    def __init__(self, app: App) -> None:
        self.app = app

    async def stop(self) -> None:
        self.app.state["plug/online"] = False  # as a device driver marks itself offline


async def test_stop_records_what_components_stopped_before_it_wrote(tmp_path: Path, clock: FakeClock) -> None:
    node = make_node(tmp_path, clock)
    node.add_component(WritesWhenStopping(node))  # added later, so stopped first
    await node.start(port=0)
    node.state["plug/online"] = True
    await node.stop()
    store = HistoryStore(tmp_path / "history.db", BERLIN)
    store.open()
    try:
        assert store.query("plug/online", T0 - 1, T0 + 1, resolution="raw")[0].mean == [1.0, 0.0]
    finally:
        store.close()
