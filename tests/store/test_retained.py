"""Retained values: `app.meta(path, retain=True)` survives a restart of a node on the same data directory."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from roost import App, HistorySettings
from roost.testing import Kit

PROGRAM = '''
from roost import App, Component

app = App("heat")
app.meta("heating", retain=True)              # the whole subtree
app.meta("heating/debug", retain=False)       # but not this part of it
app.meta("boot", record=False)


class Reader(Component):
    """A component added by the program: it reads the tree when it starts."""

    name = "reader"

    async def start(self) -> None:
        app.state["boot/component_saw"] = app.state.get("heating/target")


app.add_component(Reader())


@app.every(3600)
def first_run() -> None:
    app.state["boot/worker_saw"] = app.state.get("heating/target")


@app.command
def set_target(celsius: float) -> float:
    """Set the heating target."""
    app.state["heating/target"] = celsius
    return celsius


@app.command
def configure(mode: str, schedule: dict[str, list[int]]) -> None:
    """Set the mode (a string) and the week's schedule (an object)."""
    app.state["heating/mode"] = mode
    app.state["heating/schedule"] = schedule
    app.state["heating/debug/last"] = mode
    app.state["room/note"] = "not retained"


@app.command
def forget_mode() -> None:
    """Remove the mode."""
    del app.state["heating/mode"]
'''


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "heat.py"
    path.write_text(PROGRAM)
    return path


def post(url: str, command: str, args: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/api/commands/{command}", json.dumps(args).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())["result"]


def get(url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as reply:
        return json.loads(reply.read())


def test_a_real_node_keeps_retained_values_across_sigterm_and_restart(
    roost_process: Any, program: Path, tmp_path: Path
) -> None:
    first = roost_process(["run", str(program)], tmp_path)
    first.wait_ready()
    post(first.url, "configure", {"mode": "eco", "schedule": {"mon": [6, 22], "sat": []}})
    post(first.url, "set_target", {"celsius": 20.5})
    post(first.url, "forget_mode", {})
    post(first.url, "set_target", {"celsius": 21.5})  # just before SIGTERM: no commit since
    assert first.terminate() < 10
    assert first.proc.returncode == 0

    second = roost_process(["run", str(program)], tmp_path)
    second.wait_ready()
    state = get(second.url, "/api/state")
    assert state["heating"] == {"target": 21.5, "schedule": {"mon": [6, 22], "sat": []}}
    assert "room" not in state  # not retained
    assert state["boot"] == {"component_saw": 21.5, "worker_saw": 21.5}  # restored before both
    second.terminate()


async def test_restored_before_components_and_workers_with_every_json_type(
    roost_kit: Kit, program: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with roost_kit.load(program, data_dir=data) as node:
        await node.call("set_target", celsius=19)
        await node.call("configure", mode="comfort", schedule={"sun": [8, 23]})
        node.state["heating/flags"] = [True, None, "x", 1.25, {"deep": -(2**63)}]
        node.state["heating/count"] = 3
    async with roost_kit.load(program, data_dir=data) as node:
        assert node.state["heating"] == {
            "target": 19.0,
            "mode": "comfort",
            "schedule": {"sun": [8, 23]},
            "flags": [True, None, "x", 1.25, {"deep": -(2**63)}],
            "count": 3,
        }
        assert type(node.state["heating/count"]) is int  # the JSON type itself, not a float sample
        assert node.state["boot"] == {"component_saw": 19, "worker_saw": 19}
        assert "room" not in node.state and "debug" not in node.state["heating"]


async def test_a_removed_retained_value_stays_removed(roost_kit: Kit, program: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with roost_kit.load(program, data_dir=data) as node:
        await node.call("configure", mode="eco", schedule={})
        assert node.app.history is not None
        await node.app.history.aflush()
        assert await asyncio.to_thread(node.app.history.store.retained_rows) == {"heating/mode": '"eco"'}
        await node.call("forget_mode")
    async with roost_kit.load(program, data_dir=data) as node:
        assert "heating" not in node.state
    assert rows(data) == {}


def rows(data: Path) -> dict[str, str]:
    with sqlite3.connect(data / "history.db") as conn:
        return dict(conn.execute("SELECT path, value FROM retained"))


async def test_a_path_no_longer_retained_is_not_restored_and_its_row_goes(tmp_path: Path) -> None:
    first = App("t", data_dir=tmp_path, port=None)
    first.meta("heating/target", retain=True)
    await first.start()
    first.state["heating/target"] = 22
    await first.stop()
    assert rows(tmp_path) == {"heating/target": "22"}
    second = App("t", data_dir=tmp_path, port=None)  # the program dropped retain=True
    await second.start()
    assert "heating" not in second.state
    await second.stop()
    assert rows(tmp_path) == {}


async def test_a_value_set_before_start_is_replaced_by_the_retained_one(tmp_path: Path) -> None:
    first = App("t", data_dir=tmp_path, port=None)
    first.meta("heating/target", retain=True)
    await first.start()
    first.state["heating/target"] = 22.5
    await first.stop()
    second = App("t", data_dir=tmp_path, port=None)
    second.meta("heating/target", retain=True)
    second.state["heating/target"] = 20  # the program's default, written at import
    second.state["heating/mode"] = "auto"  # a neighbour that is not retained stays
    await second.start()
    assert second.state["heating"] == {"target": 22.5, "mode": "auto"}
    await second.stop()


def test_retain_needs_history() -> None:
    app = App("t", history=False, port=None)
    with pytest.raises(ValueError, match="history"):
        app.meta("heating/target", retain=True)


async def test_retained_changes_lost_in_a_burst_are_written_from_the_tree(tmp_path: Path) -> None:
    app = App("t", data_dir=tmp_path, port=None, history=HistorySettings(max_buffered=10))
    app.meta("keep", retain=True)
    await app.start()
    try:
        app.state["keep/gone"] = 1
        assert app.history is not None
        await app.history.aflush()
        for i in range(100):  # within one loop iteration: far past what the recorder may hold
            app.state[f"keep/n{i % 20}"] = i
        del app.state["keep/gone"]
        await app.history.aflush()
        assert app.hub.consumers["history"].dropped > 0  # the burst did not fit
        stored = await asyncio.to_thread(app.history.store.retained_rows)
    finally:
        await app.stop()
    assert stored == {f"keep/n{k}": str(80 + k) for k in range(20)}
