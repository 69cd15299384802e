"""Each device route's scope holds (read < control < admin), and the caller reaches the events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from devices_support import build_node
from roost import App
from roost.core.caller import Caller, Scope
from roost.runtime.routes import Route
from roost.web.server import WebServer, WebSettings

WEEK = {"week": [[0] * 96] * 7}


def caller_by_header(request: web.Request, route: Route | None) -> Caller:
    return Caller(
        "http", request.remote or "", "tester", Scope.parse(request.headers.get("X-Test-Scope", "read"))
    )


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[App, str]]:
    app = build_node(tmp_path / "data")
    app.http = False
    await app.start()
    await app.devices.settle()
    server = WebServer(app.hub, WebSettings(port=0), identify=caller_by_header)
    await server.start()
    try:
        yield app, f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()
        await app.stop()


async def call(
    url: str, method: str, path: str, scope: str, body: Any = None, **headers: str
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url + path, json=body, headers={"X-Test-Scope": scope, **headers}) as r,
    ):
        return r.status, (await r.json()) if r.status != 204 else None


@pytest.mark.parametrize(
    ("method", "path", "body", "refused", "allowed"),
    [
        ("GET", "/api/devices", None, None, "read"),
        ("GET", "/api/devices/tv/events", None, None, "read"),
        ("GET", "/api/devices/tv/preview", None, None, "read"),
        ("GET", "/api/schedules", None, None, "read"),
        ("POST", "/api/devices/lamp/switch", {"on": True}, "read", "control"),
        ("PATCH", "/api/devices/lamp", {"location": "Hall"}, "control", "admin"),
        ("PUT", "/api/schedules/new", WEEK, "control", "admin"),
        ("DELETE", "/api/schedules/mornings", None, "control", "admin"),
    ],
)
async def test_each_route_needs_its_scope(
    node: tuple[App, str], method: str, path: str, body: Any, refused: str | None, allowed: str
) -> None:
    app, url = node
    before = app.devices.document()
    if refused is not None:
        status, reply = await call(url, method, path, refused, body)
        assert status == 403 and reply["error"]["code"] == "forbidden"
        assert app.devices.document() == before and app.devices.events("lamp") == []
    status, _ = await call(url, method, path, allowed, body)
    assert status in (200, 204)


async def test_the_switch_event_names_the_principal(node: tuple[App, str]) -> None:
    app, url = node
    await call(url, "POST", "/api/devices/lamp/switch", "control", {"on": True})
    event = app.devices.events("lamp")[0]
    assert event["detail"] | {"principal": "tester", "scope": "control"} == event["detail"]
    assert event["text"].startswith("by tester via http")


async def test_adding_and_removing_need_admin(node: tuple[App, str]) -> None:
    app, url = node
    body = {"name": "Hall light", "driver": {"type": "simulated"}}
    for scope in ("read", "control"):
        status, reply = await call(url, "POST", "/api/devices", scope, body)
        assert status == 403 and reply["error"]["code"] == "forbidden"
    assert app.devices.ids() == ["fridge", "lamp", "tv"]
    assert (await call(url, "GET", "/api/devices/drivers", "read"))[0] == 200
    assert (await call(url, "POST", "/api/devices", "admin", body))[0] == 201
    status, _ = await call(url, "DELETE", "/api/devices/hall-light", "control")
    assert status == 403 and "hall-light" in app.devices.ids()
    assert (await call(url, "DELETE", "/api/devices/hall-light", "admin"))[0] == 204
