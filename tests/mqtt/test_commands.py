"""Commands over MQTT: the registry's checks and scopes, and bad input answered on the result topic."""

from __future__ import annotations

import json

import pytest

from mqtt_support import Broker, probe, start_connected
from roost import App
from roost.testing import eventually

WAIT_S = 10.0


def add_commands(app: App) -> None:
    @app.command
    def add(a: int, b: int = 1) -> int:
        return a + b

    @app.command(scope="admin")
    def reset() -> str:
        return "reset"


async def reply_to(broker: Broker, command: str, payload: bytes | str) -> dict[str, object]:
    async with probe(broker) as p:
        await p.watch(f"roost/home/result/{command}")
        await p.publish(f"roost/home/cmd/{command}", payload)
        await eventually(lambda: f"roost/home/result/{command}" in p.last, WAIT_S)
        return json.loads(p.last[f"roost/home/result/{command}"])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("command", "payload", "code"),
    [
        ("add", b"{not json", "malformed_json"),
        ("add", b"\xff\xfe", "malformed_json"),
        ("add", b"[1, 2]", "invalid_arguments"),
        ("add", b'"a"', "invalid_arguments"),
        ("add", b'{"a": "many"}', "invalid_arguments"),
        ("add", b'{"b": 2}', "invalid_arguments"),
        ("add", b'{"a": 1, "c": 2}', "invalid_arguments"),
        ("nope", b"{}", "unknown_command"),
        ("add", b'{"a": "' + b"x" * (1 << 20) + b'"}', "payload_too_large"),
        ("reset", b"{}", "forbidden"),  # admin; the bridge calls with control
    ],
)
async def test_bad_input_gets_a_clear_error_and_the_bridge_goes_on(
    bridged: App, broker: Broker, command: str, payload: bytes, code: str
) -> None:
    add_commands(bridged)
    await start_connected(bridged)
    try:
        reply = await reply_to(broker, command, payload)
        assert reply["error"]["code"] == code, reply  # type: ignore[index]
        assert await reply_to(broker, "add", '{"a": 41}') == {"result": 42}
    finally:
        await bridged.stop()


async def test_an_empty_payload_means_no_arguments(bridged: App, broker: Broker) -> None:
    @bridged.command
    def ping() -> str:
        return "pong"

    await start_connected(bridged)
    try:
        assert await reply_to(broker, "ping", b"") == {"result": "pong"}
    finally:
        await bridged.stop()


async def test_a_retained_command_is_not_run(bridged: App, broker: Broker) -> None:
    calls: list[int] = []

    @bridged.command
    def bump() -> int:
        calls.append(1)
        return len(calls)

    async with probe(broker) as p:
        await p.publish("roost/home/cmd/bump", b"{}", retain=True)
    await start_connected(bridged)
    try:
        reply = await reply_to(broker, "bump", b"{}")
        assert reply == {"result": 1}
        assert len(calls) == 1
    finally:
        await bridged.stop()
        async with probe(broker) as p:
            await p.publish("roost/home/cmd/bump", b"", retain=True)


async def test_the_caller_is_the_bridge_with_control_scope(bridged: App, broker: Broker) -> None:
    seen = []
    bridged.hub.commands.listen(seen.append)
    add_commands(bridged)
    await start_connected(bridged)
    try:
        assert await reply_to(broker, "add", '{"a": 1}') == {"result": 2}
    finally:
        await bridged.stop()
    caller = seen[0].caller
    assert (caller.transport, caller.principal, caller.scope.label) == ("mqtt", "mqtt-bridge", "control")


async def test_a_response_topic_inside_the_nodes_own_topics_is_refused(bridged: App, broker: Broker) -> None:
    add_commands(bridged)
    await start_connected(bridged)
    try:
        async with probe(broker) as p:
            await p.watch("roost/home/state/#", "roost/home/result/add", "homeassistant/#")
            for target in ("roost/home/state/x", "homeassistant/switch/x/config", "$SYS/x"):
                await p.request("roost/home/cmd/add", '{"a": 1}', target, b"1")
            await eventually(lambda: bridged.mqtt.refused_response_topics == 3, WAIT_S)  # type: ignore[union-attr]
            assert "roost/home/state/x" not in p.last
            assert "homeassistant/switch/x/config" not in p.last
    finally:
        await bridged.stop()
