"""Every core route's happy path and its JSON errors, over a real server on a free port."""

from __future__ import annotations

import asyncio
import enum
import gzip
import io
from typing import Any, Literal

import aiohttp
import pytest

from roost import App, CommandError


class Speed(enum.Enum):
    SLOW = "slow"
    FAST = "fast"


@pytest.fixture
def app(app: App) -> App:
    app.meta("basement/*", unit="°C", kind="temperature")
    app.state["basement/party_room"] = 17.8
    app.state["plugs/tv"] = {"on": False, "power_w": 0.5}

    @app.command
    def add(a: int, b: int = 1) -> int:
        """Add two numbers."""
        return a + b

    @app.command
    async def fan(speed: Speed, seconds: float = 5.0, mode: Literal["auto", "manual"] = "auto") -> str:
        """Run the fan."""
        return f"{speed.value} {seconds} {mode}"

    @app.command
    def refuse() -> None:
        raise CommandError("the door is locked")

    @app.command
    def crash() -> None:
        raise ZeroDivisionError("secret internals")

    return app


async def error_of(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return dict(body["error"])


async def test_state_tree_and_subtree(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/state") as r:
        assert r.status == 200
        assert await r.json() == {
            "basement": {"party_room": 17.8},
            "plugs": {"tv": {"on": False, "power_w": 0.5}},
        }
        etag = r.headers["ETag"]
    async with http.get("/api/state", headers={"If-None-Match": etag}) as r:
        assert r.status == 304
    async with http.get("/api/state/plugs/tv/power_w") as r:
        assert await r.json() == 0.5


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("nope", 404, "unknown_path"),
        ("plugs/tv/on/deeper", 404, "unknown_path"),
        ("a*b", 400, "invalid_path"),
    ],
)
async def test_state_path_errors(http: aiohttp.ClientSession, path: str, status: int, code: str) -> None:
    async with http.get(f"/api/state/{path}") as r:
        assert r.status == status
        assert (await error_of(r))["code"] == code


async def test_meta_lists_units_and_last_seen(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/meta") as r:
        paths = (await r.json())["paths"]
    assert paths["basement/party_room"]["unit"] == "°C"
    assert paths["basement/party_room"]["last_seen"] > 0
    assert "unit" not in paths["plugs/tv/on"]


async def test_command_listing(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/commands") as r:
        commands = {c["name"]: c for c in (await r.json())["commands"]}
    assert commands["add"]["doc"] == "Add two numbers."
    assert commands["add"]["args"] == [
        {"name": "a", "type": "int", "required": True},
        {"name": "b", "type": "int", "required": False, "default": 1},
    ]
    assert commands["fan"]["args"][0]["choices"] == ["slow", "fast"]


@pytest.mark.parametrize(
    ("url", "body", "result"),
    [
        ("/api/commands/add", {"a": 2, "b": 3}, 5),
        ("/api/commands/add?a=4", None, 5),
        ("/api/commands/add?a=4", {"b": 10}, 14),
        ("/api/commands/fan", {"speed": "fast", "mode": "manual"}, "fast 5.0 manual"),
        ("/api/commands/add?a=100000000000000000000", None, 100000000000000000001),  # beyond 64 bits
    ],
)
async def test_command_calls(http: aiohttp.ClientSession, url: str, body: Any, result: Any) -> None:
    async with http.post(url, json=body) as r:
        assert r.status == 200
        assert await r.json() == {"result": result}


@pytest.mark.parametrize(
    ("url", "data", "status", "code", "argument"),
    [
        ("/api/commands/add", b'{"a": "x"}', 422, "invalid_arguments", "a"),
        ("/api/commands/add", b"{}", 422, "invalid_arguments", "a"),
        ("/api/commands/add", b'{"a": 1, "c": 2}', 422, "invalid_arguments", "c"),
        ("/api/commands/fan", b'{"speed": "warp"}', 422, "invalid_arguments", "speed"),
        ("/api/commands/add", b"[1, 2]", 422, "invalid_arguments", None),
        ("/api/commands/add", b'{"a": 1', 400, "malformed_json", None),
        ("/api/commands/nope", b"{}", 404, "unknown_command", None),
        ("/api/commands/refuse", b"", 400, "command_error", None),
        ("/api/commands/crash", b"", 500, "internal", None),
    ],
)
async def test_command_errors(
    http: aiohttp.ClientSession, url: str, data: bytes, status: int, code: str, argument: str | None
) -> None:
    async with http.post(url, data=data) as r:
        assert r.status == status
        error = await error_of(r)
    assert error["code"] == code
    assert error.get("argument") == argument
    if code == "internal":
        # The caller sees what the command raised, never the traceback or where the code lives.
        assert error["message"] == "command 'crash' raised ZeroDivisionError: secret internals"
        assert error["exception"] == "ZeroDivisionError"


async def test_commands_only_by_post(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/commands/add?a=1") as r:
        assert r.status == 405
        assert r.headers["Allow"] == "POST"
        assert (await error_of(r))["code"] == "method_not_allowed"


async def test_unknown_route_is_json_404(http: aiohttp.ClientSession) -> None:
    async with http.get("/no/such/thing") as r:
        assert r.status == 404
        assert (await error_of(r))["code"] == "not_found"


async def test_oversized_body_is_413_and_server_keeps_serving(http: aiohttp.ClientSession) -> None:
    async with http.post("/api/commands/add", data=io.BytesIO(b"x" * (2 << 20))) as r:
        assert r.status == 413
        assert (await error_of(r))["code"] == "payload_too_large"
    async with http.get("/api/state/basement/party_room") as r:
        assert await r.json() == 17.8


async def test_healthz_shows_workers_and_failures(app: App) -> None:
    async def broken() -> None:
        raise OSError("1-Wire bus gone")

    app.every(0.05)(broken)
    await app.start(host="127.0.0.1", port=0)
    try:
        await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as s, s.get(app.url + "/healthz") as r:
            health = await r.json()
    finally:
        await app.stop()
    assert health["status"] == "degraded"
    assert health["workers"]["broken"]["errors"] >= 2
    assert health["workers"]["broken"]["last_error"] == "OSError: 1-Wire bus gone"


async def test_metrics_are_prometheus_text(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/state"):
        pass
    async with http.get("/metrics") as r:
        assert r.content_type == "text/plain"
        text = await r.text()
    assert 'roost_state{path="basement/party_room"} 17.8' in text
    assert 'roost_state{path="plugs/tv/on"} 0' in text
    assert "# TYPE roost_http_requests_total counter" in text
    assert 'roost_http_requests_total{route="/api/state",method="GET",status="200"}' in text


async def test_openapi_describes_routes_and_commands(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.")
    schema = doc["paths"]["/api/commands/fan"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["speed"] == {"enum": ["slow", "fast"]}
    assert schema["required"] == ["speed"]
    assert "/api/state/{path}" in doc["paths"]


async def test_no_cors_unless_configured(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/state", headers={"Origin": "http://evil.example"}) as r:
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_cors_when_configured(tmp_path: Any) -> None:
    app = App("cors", data_dir=tmp_path, cors_origins=["http://panel.local"])
    await app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession(base_url=app.url) as s:
            async with s.options(
                "/api/state", headers={"Origin": "http://panel.local", "Access-Control-Request-Method": "GET"}
            ) as r:
                assert r.status == 204
                assert r.headers["Access-Control-Allow-Origin"] == "http://panel.local"
            async with s.get("/api/state", headers={"Origin": "http://other.local"}) as r:
                assert "Access-Control-Allow-Origin" not in r.headers
    finally:
        await app.stop()


async def test_large_json_replies_are_gzipped_for_clients_that_accept_it(app: App) -> None:
    app.state["big"] = {f"k{i}": i * 1.5 for i in range(5000)}
    await app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession(base_url=app.url, auto_decompress=False) as s:
            async with s.get("/api/state", headers={"Accept-Encoding": "gzip"}) as r:
                assert r.headers["Content-Encoding"] == "gzip"
                zipped = await r.read()
            async with s.get("/api/state", headers={"Accept-Encoding": "identity"}) as r:
                assert "Content-Encoding" not in r.headers
                plain = await r.read()
            async with s.get("/api/state/big/k1", headers={"Accept-Encoding": "gzip"}) as r:
                assert "Content-Encoding" not in r.headers  # small replies go as they are
    finally:
        await app.stop()
    assert gzip.decompress(zipped) == plain
    assert len(zipped) < len(plain) / 2
