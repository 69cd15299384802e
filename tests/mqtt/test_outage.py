"""The bridge survives its broker: kills, restarts, a node restart, and a full outbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mqtt_support import Broker, probe, start_connected
from roost import App
from roost.mqtt.outbox import Message, Outbox
from roost.testing import eventually

WAIT_S = 10.0  # a bound for a broken test; bench/mqtt.py measures how fast it really is


def _node(tmp_path: Path, broker: Broker, **fields: object) -> App:
    app = App("home", data_dir=tmp_path / "data", port=None, history=False)
    app.enable_mqtt(broker.url, **fields)
    return app


def test_the_outbox_keeps_the_newest_per_topic_and_counts_what_it_drops() -> None:
    box = Outbox(2)
    for topic, payload in [("a", b"1"), ("b", b"1"), ("a", b"2"), ("c", b"1")]:
        box.put(Message(topic, payload))
    assert [(m.topic, m.payload) for m in box.take(10)] == [("a", b"2"), ("c", b"1")]
    assert (box.coalesced, box.dropped, box.bytes) == (1, 1, 0)


def test_a_message_put_back_never_overwrites_a_newer_one() -> None:
    box = Outbox(10)
    box.put(Message("a", b"new"))
    box.put_back(Message("a", b"old"))
    box.put_back(Message("b", b"unsent"))
    assert [(m.topic, m.payload) for m in box.take(10)] == [("b", b"unsent"), ("a", b"new")]


@pytest.mark.parametrize("how", ["kill", "stop"])
async def test_after_the_broker_comes_back_every_path_is_current(
    tmp_path: Path, broker: Broker, how: str
) -> None:
    app = _node(tmp_path, broker)
    app.state.update("rooms", {f"r{i}": i for i in range(50)})
    app.state["gone"] = 1
    await start_connected(app)
    bridge = app.mqtt
    assert bridge is not None
    try:
        getattr(broker, how)()
        await eventually(lambda: not bridge.connected, WAIT_S)
        for i in range(50):
            app.state[f"rooms/r{i}"] = i + 1000  # written while the broker is away
        del app.state["gone"]
        broker.start()
        async with probe(broker) as p:
            await p.watch("roost/home/#")
            want = {f"roost/home/state/rooms/r{i}": str(i + 1000).encode() for i in range(50)}
            await eventually(lambda: all(p.last.get(t) == v for t, v in want.items()), WAIT_S)
            assert p.last["roost/home/status"] == b"online"
            await eventually(lambda: p.last.get("roost/home/state/gone", b"") == b"", WAIT_S)
        assert bridge.reconnects >= 1
        assert bridge.health()["connected"] is True
    finally:
        await app.stop()


async def test_qos1_commands_sent_while_the_node_is_down_are_run_when_it_is_back(
    tmp_path: Path, broker: Broker
) -> None:
    got: list[int] = []

    def make() -> App:
        app = _node(tmp_path, broker)

        @app.command
        def note(n: int) -> int:
            got.append(n)
            return n

        return app

    first = make()
    await start_connected(first)  # makes the persistent session and its subscription
    await first.stop()
    async with probe(broker) as p:
        for n in range(5):
            await p.publish("roost/home/cmd/note", json.dumps({"n": n}), qos=1)
    second = make()
    await second.start()
    try:
        # QoS 1 is at least once: none lost, a redelivered one may run twice.
        await eventually(lambda: set(got) == {0, 1, 2, 3, 4}, WAIT_S)
    finally:
        await second.stop()


async def test_qos1_commands_sent_while_the_broker_restarts_are_not_lost(
    tmp_path: Path, broker: Broker
) -> None:
    got: list[int] = []
    app = _node(tmp_path, broker, reconnect_min_s=1.0)

    @app.command
    def note(n: int) -> int:
        got.append(n)
        return n

    await start_connected(app)
    try:
        broker.stop()  # SIGTERM: the broker saves the bridge's session, as on a restart
        await eventually(lambda: not app.mqtt.connected, WAIT_S)  # type: ignore[union-attr]
        broker.start()
        async with probe(broker) as p:  # before the bridge is back: the broker queues them for it
            for n in range(5):
                await p.publish("roost/home/cmd/note", json.dumps({"n": n}), qos=1)
        # QoS 1 is at least once: none lost, a redelivered one may run twice.
        await eventually(lambda: set(got) == {0, 1, 2, 3, 4}, WAIT_S)
    finally:
        await app.stop()


async def test_a_full_outbox_drops_the_oldest_and_the_state_still_converges(
    tmp_path: Path, broker: Broker
) -> None:
    app = _node(tmp_path, broker, outbox_max=10)
    await start_connected(app)
    bridge = app.mqtt
    assert bridge is not None
    try:
        broker.kill()
        await eventually(lambda: not bridge.connected, WAIT_S)
        app.state.update("many", {f"p{i}": i for i in range(100)})
        await eventually(lambda: bridge.health()["dropped"] >= 90, WAIT_S)
        assert bridge.health()["outbox"] == 10
        broker.start()
        async with probe(broker) as p:
            await p.watch("roost/home/state/many/#")
            await eventually(lambda: len(p.last) == 100, WAIT_S)
    finally:
        await app.stop()
