"""Commands over WebSocket: results and errors with the caller's id, the same codes as HTTP."""

from __future__ import annotations

import asyncio

import pytest

from roost import App, CommandError


@pytest.fixture
def app_with_commands(app: App) -> App:
    gate = asyncio.Event()

    @app.command
    def switch(plug: str, on: bool = True) -> dict[str, object]:
        """Switch a plug."""
        app.state[f"plugs/{plug}/on"] = on
        return {"plug": plug, "on": on}

    @app.command
    def refuse() -> None:
        raise CommandError("not now", retry_after_s=5)

    @app.command
    async def wait() -> str:
        await gate.wait()
        return "done"

    app.gate = gate  # type: ignore[attr-defined]
    return app


async def call(probe, message) -> dict:
    await probe.send(message)
    while True:
        reply = await probe.next()
        if reply["type"] in ("result", "error", "pong"):
            return reply


async def test_a_call_gets_its_result_and_the_change_follows(app_with_commands, start_live, probes) -> None:
    app = await start_live()
    probe = await probes.ws(app)
    await probe.next()
    reply = await call(probe, {"type": "call", "id": 7, "command": "switch", "args": {"plug": "tv"}})
    assert reply == {"type": "result", "id": 7, "result": {"plug": "tv", "on": True}}
    await probe.until_seq(app.state.seq)
    assert probe.view.tree == {"plugs": {"tv": {"on": True}}}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "call", "id": "a", "command": "nope"}, "unknown_command"),
        ({"type": "call", "id": "a", "command": "switch", "args": {}}, "invalid_arguments"),
        (
            {"type": "call", "id": "a", "command": "switch", "args": {"plug": 1, "on": "x"}},
            "invalid_arguments",
        ),
        ({"type": "call", "id": "a", "command": "switch", "args": [1]}, "invalid_arguments"),
        ({"type": "call", "id": "a"}, "bad_request"),
        ({"type": "call", "id": "a", "command": "refuse"}, "command_error"),
        ({"type": "dance", "id": "a"}, "bad_request"),
        ({"type": "subscribe", "id": "a", "paths": ["a//b"]}, "invalid_path"),
    ],
)
async def test_errors_carry_the_id_and_the_http_code(app_with_commands, start_live, probes, message, code):
    app = await start_live()
    probe = await probes.ws(app)
    await probe.next()
    reply = await call(probe, message)
    assert reply["type"] == "error"
    assert reply["id"] == "a"
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]


async def test_http_and_websocket_report_the_same_error(app_with_commands, start_live, probes) -> None:
    app = await start_live()
    probe = await probes.ws(app)
    await probe.next()
    reply = await call(probe, {"type": "call", "id": 1, "command": "refuse"})
    async with probes.session.post(f"{app.url}/api/commands/refuse", json={}) as response:
        assert {"type": "error", "id": 1, **await response.json()} == reply
    assert reply["error"] == {"code": "command_error", "message": "not now", "retry_after_s": 5}


@pytest.mark.parametrize(("raw", "code"), [("{not json", "malformed_json"), ("[1, 2]", "bad_request")])
async def test_bad_messages_get_an_error_and_the_connection_stays(start_live, probes, raw, code) -> None:
    app = await start_live()
    probe = await probes.ws(app)
    await probe.next()
    reply = await call(probe, raw)
    assert (reply["type"], reply["id"], reply["error"]["code"]) == ("error", None, code)
    assert await call(probe, {"type": "ping", "id": 2}) == {"type": "pong", "id": 2}


async def test_calls_in_flight_are_limited_per_connection(app_with_commands, start_live, probes) -> None:
    app = await start_live(max_calls_per_client=2)
    probe = await probes.ws(app)
    await probe.next()
    for i in range(3):
        await probe.send({"type": "call", "id": i, "command": "wait"})
    reply = await probe.next()
    assert (reply["id"], reply["error"]["code"]) == (2, "too_many_requests")
    app.gate.set()
    replies = [await probe.next(), await probe.next()]
    assert sorted(r["id"] for r in replies) == [0, 1]
    assert all(r["result"] == "done" for r in replies)
