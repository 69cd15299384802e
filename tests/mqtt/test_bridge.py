"""The bridge on a real Mosquitto: state out, status as the last will, commands in, results back."""

from __future__ import annotations

import json

from mqtt_support import Broker, probe, start_connected
from roost import App
from roost.testing import eventually

WAIT_S = 10.0


async def test_state_is_published_retained_and_status_is_online(bridged: App, broker: Broker) -> None:
    bridged.state["basement/party_room"] = 17.8
    await start_connected(bridged)
    try:
        bridged.state["outside/temperature"] = 4.5
        async with probe(broker) as p:
            await p.watch("roost/home/#")
            await eventually(lambda: p.last["roost/home/state/outside/temperature"] == b"4.5", WAIT_S)
            assert p.last["roost/home/state/basement/party_room"] == b"17.8"
            assert p.last["roost/home/status"] == b"online"
        async with probe(broker) as late:  # joins after: gets the retained messages
            await late.watch("roost/home/#")
            await eventually(lambda: late.last["roost/home/status"] == b"online", WAIT_S)
            await eventually(lambda: late.retained["roost/home/state/outside/temperature"], WAIT_S)
    finally:
        await bridged.stop()
    async with probe(broker) as p:
        await p.watch("roost/home/status", "roost/home/state/#")
        await eventually(lambda: p.last.get("roost/home/status") == b"offline", WAIT_S)
        await eventually(lambda: p.last.get("roost/home/state/basement/party_room") == b"17.8", WAIT_S)


async def test_a_command_runs_and_its_result_comes_back_both_ways(bridged: App, broker: Broker) -> None:
    @bridged.command
    def add(a: int, b: int = 1) -> int:
        return a + b

    await start_connected(bridged)
    try:
        async with probe(broker) as p:
            await p.watch("roost/home/result/#", "replies/me")
            await p.request("roost/home/cmd/add", '{"a": 2, "b": 3}', "replies/me", b"c-1")
            await eventually(lambda: "replies/me" in p.last, WAIT_S)
            assert json.loads(p.last["replies/me"]) == {"result": 5}
            _, _, props = next(r for r in p.received if r[0] == "replies/me")
            assert props.CorrelationData == b"c-1"
            await eventually(lambda: "roost/home/result/add" in p.last, WAIT_S)
            assert json.loads(p.last["roost/home/result/add"]) == {"result": 5}
    finally:
        await bridged.stop()
