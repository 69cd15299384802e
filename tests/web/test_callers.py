"""Every request carries its Caller: listeners see who called over which transport; scopes hold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from roost import App
from roost.core.caller import Caller, Scope
from roost.runtime.commands import CallRecord
from roost.runtime.component import Component
from roost.runtime.routes import Route, caller_of
from roost.web.server import WebServer, WebSettings


class CallerEcho(Component):
    """A feature whose routes answer with the caller the middleware built."""

    name = "echo"

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/test/caller", self.echo),
            Route("POST", "/test/admin", self.echo, Scope.ADMIN),
        ]

    async def echo(self, request: web.Request) -> web.Response:
        return web.json_response(caller_of(request).to_json())


def add_commands(app: App) -> list[CallRecord]:
    """Give `app` a control and an admin command; return the list every finished call lands in."""

    @app.command
    def press(button: str = "a") -> str:
        app.state["pressed"] = button
        return button

    @app.command(scope="admin")
    def reset() -> None:
        app.state["reset"] = True

    records: list[CallRecord] = []
    app.hub.commands.listen(records.append)
    app.add_component(CallerEcho())
    return records


async def ws_call(ws: aiohttp.ClientWebSocketResponse, command: str) -> dict[str, Any]:
    await ws.send_json({"type": "call", "id": 1, "command": command, "args": {}})
    while True:
        reply = await ws.receive_json(timeout=5)
        if reply["type"] in ("result", "error"):
            return reply


@pytest.mark.parametrize(("headers", "transport"), [({}, "http"), ({"X-Roost-Client": "page"}, "page")])
async def test_an_http_call_reaches_listeners_with_its_transport_and_address(
    app: App, headers: dict[str, str], transport: str
) -> None:
    records = add_commands(app)
    await app.start(host="127.0.0.1", port=0)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{app.url}/api/commands/press", json={"button": "b"}, headers=headers) as reply,
        ):
            assert reply.status == 200
    finally:
        await app.stop()
    (record,) = records
    assert (record.command, record.args, record.outcome) == ("press", {"button": "b"}, "ok")
    assert record.caller == Caller(transport, "127.0.0.1", "", Scope.ADMIN)  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "transport"), [("", "ws"), ("?client=page", "page")])
async def test_a_websocket_call_reaches_listeners_with_its_transport_and_address(
    app: App, query: str, transport: str
) -> None:
    records = add_commands(app)
    await app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{app.url}/api/live{query}") as ws:
            assert (await ws_call(ws, "press"))["result"] == "a"
    finally:
        await app.stop()
    (record,) = records
    assert record.caller == Caller(transport, "127.0.0.1", "", Scope.ADMIN)  # type: ignore[arg-type]


async def test_a_call_from_a_worker_thread_is_the_program(served: App) -> None:
    records = add_commands(served)
    assert await asyncio.to_thread(served.hub.commands.call, "press", {"button": "c"}) == "c"
    (record,) = records
    assert record.caller.transport == "program"
    assert record.caller.address == ""


@pytest.mark.parametrize(
    ("headers", "transport"),
    [
        ({}, "http"),
        ({"Accept": "text/event-stream"}, "sse"),
        ({"X-Roost-Client": "page"}, "page"),
        ({"X-Roost-Client": "evil"}, "http"),
    ],
)
async def test_a_feature_route_reads_the_caller_the_middleware_built(
    app: App, headers: dict[str, str], transport: str
) -> None:
    app.add_component(CallerEcho())
    await app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{app.url}/test/caller", headers=headers) as r:
            caller = await r.json()
    finally:
        await app.stop()
    # The page's mark is a label only: it changes nothing about the scope.
    assert caller == {"transport": transport, "address": "127.0.0.1", "principal": "", "scope": "admin"}


# -- scopes, with a caller builder that believes a test header -----------------------


def caller_by_header(request: web.Request, route: Route | None) -> Caller:
    return Caller("http", request.remote or "", "tester", Scope.parse(request.headers["X-Test-Scope"]))


@pytest.fixture
async def scoped(tmp_path: Path) -> AsyncIterator[tuple[App, str, list[CallRecord]]]:
    app = App("test", data_dir=tmp_path / "data", port=None, history=False)
    records = add_commands(app)
    await app.start()
    server = WebServer(app.hub, WebSettings(port=0), identify=caller_by_header)
    await server.start()
    try:
        yield app, f"http://127.0.0.1:{server.port}", records
    finally:
        await server.stop()
        await app.stop()


async def post(url: str, scope: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, headers={"X-Test-Scope": scope}) as reply:
        return reply.status, await reply.json()


async def test_an_admin_command_called_by_a_control_caller_answers_403_and_runs_nothing(
    scoped: tuple[App, str, list[CallRecord]],
) -> None:
    app, url, records = scoped
    status, body = await post(f"{url}/api/commands/reset", "control")
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    assert body["error"]["needed"] == "admin"
    assert "reset" not in app.state
    (record,) = records
    assert (record.outcome, record.caller.principal, record.caller.scope) == (
        "forbidden",
        "tester",
        Scope.CONTROL,
    )
    assert (await post(f"{url}/api/commands/reset", "admin"))[0] == 200
    assert app.state["reset"] is True


async def test_an_admin_command_called_over_websocket_by_a_control_caller_runs_nothing(
    scoped: tuple[App, str, list[CallRecord]],
) -> None:
    app, url, records = scoped
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{url}/api/live", headers={"X-Test-Scope": "control"}) as ws,
    ):
        reply = await ws_call(ws, "reset")
    assert reply["error"]["code"] == "forbidden"
    assert "reset" not in app.state
    assert [r.outcome for r in records] == ["forbidden"]


@pytest.mark.parametrize(
    ("path", "scope", "status"),
    [
        ("/api/commands/press", "read", 403),
        ("/api/commands/press", "control", 200),
        ("/test/admin", "control", 403),
        ("/test/admin", "admin", 200),
    ],
)
async def test_the_middleware_refuses_a_caller_below_the_routes_scope(
    scoped: tuple[App, str, list[CallRecord]], path: str, scope: str, status: int
) -> None:
    app, url, records = scoped
    got, body = await post(url + path, scope)
    assert got == status
    if status == 403:
        assert body["error"]["code"] == "forbidden"
        assert "pressed" not in app.state
        assert records == []  # refused before any command was looked at


async def test_a_read_caller_reads(scoped: tuple[App, str, list[CallRecord]]) -> None:
    _, url, _ = scoped
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/state", headers={"X-Test-Scope": "read"}) as reply,
    ):
        assert reply.status == 200


async def test_the_api_shows_the_scope_of_every_command_and_route(app: App) -> None:
    add_commands(app)
    await app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession(base_url=app.url) as http:
            async with http.get("/api/commands") as r:
                listed = {c["name"]: c["scope"] for c in (await r.json())["commands"]}
            async with http.get("/api/openapi.json") as r:
                paths = (await r.json())["paths"]
    finally:
        await app.stop()
    assert (listed["press"], listed["reset"]) == ("control", "admin")
    assert paths["/api/commands/reset"]["post"]["x-roost-scope"] == "admin"
    assert paths["/api/state/{path}"]["get"]["x-roost-scope"] == "read"
    assert paths["/api/history"]["get"]["x-roost-scope"] == "read"
