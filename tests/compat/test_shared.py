"""The shared dict: a real dict for raspend code, written through to the state tree at every level."""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
import sys
import threading
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from roost.compat.raspend.shared import SharedDict, SharedList, SharedStore, UnsupportedValue
from roost.core.errors import InvalidPath
from roost.runtime.clock import SystemClock
from roost.runtime.hub import Hub
from roost.runtime.state import StateTree


@pytest.fixture
def state() -> StateTree:
    return StateTree()


@pytest.fixture
def shared(state: StateTree) -> SharedDict:
    return SharedStore(state).root


def test_nested_writes_land_at_tree_paths(state: StateTree, shared: SharedDict) -> None:
    shared["basement"] = {"party_room": 17.8}
    shared["basement"]["heating_room"] = 18
    this = shared["basement"]  # held across runs, as handlers do
    this["party_room"] = 19.5
    assert state.to_dict() == {"basement": {"party_room": 19.5, "heating_room": 18}}
    assert shared == {"basement": {"party_room": 19.5, "heating_room": 18}}


def test_reads_iteration_and_membership_are_a_dicts(shared: SharedDict) -> None:
    shared.update({"a": {"x": 1}, "b": 2})
    assert isinstance(shared["a"], dict)
    assert "a" in shared and "zz" not in shared and len(shared) == 2
    assert list(shared) == ["a", "b"]
    assert dict(shared.items())["b"] == 2
    assert shared.get("zz", 5) == 5
    with pytest.raises(KeyError):
        shared["zz"]


def test_json_dumps_sees_the_live_contents(shared: SharedDict) -> None:
    # raspend's publisher example posts json.dumps(self.sharedDict).
    shared["ground_floor"] = {}
    shared["ground_floor"]["kitchen"] = 23.5
    assert json.loads(json.dumps(shared)) == {"ground_floor": {"kitchen": 23.5}}
    assert json.loads(json.dumps(shared, indent=2, sort_keys=True)) == {"ground_floor": {"kitchen": 23.5}}


def test_empty_dict_exists_for_the_program_but_not_in_the_tree(state: StateTree, shared: SharedDict) -> None:
    shared["smartmeter"] = {}
    assert shared["smartmeter"] == {} and "smartmeter" in shared
    assert state.to_dict() == {}
    shared["smartmeter"]["count"] = 0.001
    assert state["smartmeter/count"] == 0.001


def test_update_is_one_change(state: StateTree, shared: SharedDict) -> None:
    before = state.seq
    shared.update({"a": 1, "b": {"c": 2}}, d=3)
    assert state.seq == before + 1
    assert state.to_dict() == {"a": 1, "b": {"c": 2}, "d": 3}


def test_deletion_pop_and_clear_write_through(state: StateTree, shared: SharedDict) -> None:
    shared.update({"a": {"x": 1, "y": 2}, "b": 3})
    del shared["a"]["x"]
    assert shared.pop("b") == 3
    assert state.to_dict() == {"a": {"y": 2}}
    shared["a"].clear()
    assert shared == {"a": {}} and state.to_dict() == {}
    with pytest.raises(KeyError):
        del shared["nope"]
    assert shared.pop("nope", None) is None


def test_setdefault_returns_the_live_dict(state: StateTree, shared: SharedDict) -> None:
    shared.setdefault("section", {})["value"] = 4
    assert state["section/value"] == 4


def test_lists_write_through_when_changed_in_place(state: StateTree, shared: SharedDict) -> None:
    shared["history"] = [1, 2]
    readings = shared["history"]
    assert isinstance(readings, SharedList)
    readings.append(3)
    readings += [4]
    del readings[:-3]
    readings.insert(0, {"note": "start"})
    readings[0]["note"] = "begin"
    assert state["history"] == [{"note": "begin"}, 2, 3, 4]
    assert readings.pop() == 4 and state["history"] == [{"note": "begin"}, 2, 3]


def test_a_rejected_value_changes_nothing(state: StateTree, shared: SharedDict) -> None:
    shared["list"] = [1]
    with pytest.raises(UnsupportedValue):
        shared["list"].append(object())
    with pytest.raises(TypeError):  # UnsupportedValue is a TypeError too
        shared["when"] = threading.Lock()
    with pytest.raises(InvalidPath):
        shared["kWh/day"] = 5
    assert shared == {"list": [1]} and state.to_dict() == {"list": [1]}


def test_non_finite_floats_become_null(state: StateTree, shared: SharedDict) -> None:
    shared["sensor"] = {"t": float("nan"), "u": float("inf"), "v": (1, 2)}
    assert state.to_dict() == {"sensor": {"t": None, "u": None, "v": [1, 2]}}


def test_copies_are_plain_and_detached(state: StateTree, shared: SharedDict) -> None:
    shared["a"] = {"b": [1, {"c": 2}]}
    for clone in (copy.deepcopy(shared), pickle.loads(pickle.dumps(shared))):
        assert type(clone) is dict and type(clone["a"]["b"]) is list
        clone["a"]["b"].append(3)
    assert state.to_dict() == {"a": {"b": [1, {"c": 2}]}}


def test_assigning_a_section_keeps_held_references_live(state: StateTree, shared: SharedDict) -> None:
    shared["room"] = {"t": 1, "old": True}
    held = shared["room"]
    shared["room"] = {"t": 2}
    assert held == {"t": 2}
    held["h"] = 40
    assert state.to_dict() == {"room": {"t": 2, "h": 40}}


def test_assigning_one_shared_value_to_another_copies_it(state: StateTree, shared: SharedDict) -> None:
    shared["a"] = {"x": [1]}
    shared["b"] = shared["a"]
    shared["b"]["x"].append(2)
    assert state.to_dict() == {"a": {"x": [1]}, "b": {"x": [1, 2]}}


def test_iterating_while_another_thread_adds_keys(shared: SharedDict) -> None:
    shared.update({f"k{i}": i for i in range(100)})
    seen = []
    for key in shared:
        shared[f"new_{key}"] = 1  # would raise "dictionary changed size" on a plain dict
        seen.append(key)
    assert len(seen) == 100


def test_initial_tree_contents_are_visible(state: StateTree) -> None:
    state["plugs/fridge/power"] = 85.0
    assert SharedStore(state).root == {"plugs": {"fridge": {"power": 85.0}}}


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    """A started hub: the mirror follows its change stream as a consumer."""
    node = Hub("raspend", SystemClock(), UTC, tmp_path)
    await node.start()
    yield node
    await node.stop()


async def test_writes_by_others_reach_the_mirror(hub: Hub) -> None:
    state = hub.state
    store = SharedStore(state)
    consumer = store.attach(hub)
    shared: dict[str, Any] = store.root
    shared["section"] = {}
    shared["room"] = {"t": 1}
    state["room/t"] = 2
    state["plug"] = {"on": True}
    await asyncio.sleep(0)  # the change stream delivers on the loop
    assert shared == {"section": {}, "room": {"t": 2}, "plug": {"on": True}}
    del state["room"]
    await asyncio.sleep(0)
    assert shared == {"section": {}, "room": {}, "plug": {"on": True}}
    assert hub.consumers["raspend"] is consumer and consumer.lag == 0
    consumer.close()


async def test_a_late_change_never_rolls_back_a_newer_write(hub: Hub) -> None:
    state = hub.state
    store = SharedStore(state)
    store.attach(hub)
    state["t"] = 1  # someone else's write, delivered only at the next await
    store.root["t"] = 2
    await asyncio.sleep(0)
    assert store.root["t"] == 2 and state["t"] == 2


async def test_a_list_the_program_holds_stays_the_one_in_the_dict(hub: Hub) -> None:
    store = SharedStore(hub.state)
    store.attach(hub)
    readings = store.root.setdefault("readings", [])
    for i in range(3):
        readings.append(i)  # our own writes come back on the change stream
        await asyncio.sleep(0)
    hub.state["other"] = 1
    await asyncio.sleep(0)
    assert store.root["readings"] is readings
    readings.append(3)
    assert hub.state["readings"] == [0, 1, 2, 3]


async def test_after_the_consumer_closes_the_mirror_stops_following(hub: Hub) -> None:
    store = SharedStore(hub.state)
    store.attach(hub).close()
    hub.state["t"] = 1
    await asyncio.sleep(0.01)
    assert store.root == {} and "raspend" not in hub.consumers


def test_deep_copies_while_another_thread_writes(shared: SharedDict) -> None:
    # copy.deepcopy and pickle walk the dicts in Python; a write from another
    # thread must not break them with "dictionary changed size during iteration".
    shared["a"] = {f"k{i}": i for i in range(200)}
    shared["b"] = [{"x": i} for i in range(50)]
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            shared["a"][f"n{i % 50}"] = i
            if i % 2:
                del shared["a"][f"n{(i - 1) % 50}"]
            i += 1

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(100):
            assert type(copy.deepcopy(shared)["a"]) is dict
            assert type(pickle.loads(pickle.dumps(shared))["b"][0]) is dict
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(previous)


async def test_writes_made_before_the_stream_is_followed_reach_the_mirror(tmp_path: Path) -> None:
    # A program that grows into roost may add a device (which writes the tree)
    # between RaspendApplication() and run(); those writes are never delivered.
    hub = Hub("raspend", SystemClock(), UTC, tmp_path)
    state = hub.state
    state["gone"] = 1
    store = SharedStore(state)
    state["plugs/tv/always_on"] = False
    del state["gone"]
    await hub.start()
    try:
        store.attach(hub)
        await asyncio.sleep(0)
        assert store.root == {"plugs": {"tv": {"always_on": False}}} == state.to_dict()
    finally:
        await hub.stop()
