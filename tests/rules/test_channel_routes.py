"""The channel routes over HTTP: masked URLs, kept secrets, channels.json, bad input, scopes, tests."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from notify_support import SMTP_PASSWORD, HttpSink, SmtpSink, http_server, make_app, smtp_server
from roost.core.caller import Caller, Scope
from roost.runtime.routes import Route
from roost.testing import Harness
from roost.web.server import WebServer, WebSettings
from support import RoostProcess, free_port, http_call


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness(make_app(tmp_path / "data")) as harness:
        yield harness


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


@pytest.fixture
async def web_sink() -> AsyncIterator[HttpSink]:
    async with http_server() as sink:
        yield sink


async def call(node: Harness, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    async with node.http.request(method, path, json=body, **kw) as r:
        return r.status, (await r.json()) if r.status != 204 else None


def channels_file(node: Harness) -> Path:
    return node.app.data_dir / "channels.json"


async def test_the_built_in_channels_are_listed_with_their_counters(node: Harness) -> None:
    status, reply = await call(node, "GET", "/api/channels")
    assert status == 200
    assert reply["channels"] == [
        {
            "name": name,
            "url": "",
            "quiet_hours": None,
            "enabled": True,
            "builtin": True,
            "failures": 0,
            "last_error": None,
            "last_sent": None,
        }
        for name in ("page", "log")
    ]


async def test_a_put_channel_is_saved_0600_and_shown_masked(node: Harness, smtp: SmtpSink) -> None:
    body = {"url": smtp.url(), "quiet_hours": {"from": "22:00", "to": "07:00"}}
    status, reply = await call(node, "PUT", "/api/channels/email", body)
    assert status == 200
    assert reply["url"] == smtp.url("****") and SMTP_PASSWORD not in json.dumps(reply)
    assert reply["quiet_hours"] == {"from": "22:00", "to": "07:00"} and reply["builtin"] is False
    assert (await call(node, "GET", "/api/channels/email"))[1] == reply
    path = channels_file(node)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["schema"] == 1 and doc["channels"]["email"]["url"] == smtp.url()


async def test_a_put_with_the_mask_keeps_the_secret_and_the_test_button_proves_it(
    node: Harness, smtp: SmtpSink
) -> None:
    await call(node, "PUT", "/api/channels/email", {"url": smtp.url()})
    _, shown = await call(node, "GET", "/api/channels/email")
    shown["enabled"] = True  # the page sends back what it got, with its edits
    status, _ = await call(node, "PUT", "/api/channels/email", shown)
    assert status == 200
    assert json.loads(channels_file(node).read_text())["channels"]["email"]["url"] == smtp.url()
    status, reply = await call(node, "POST", "/api/channels/email/test")
    assert (status, reply) == (200, {"ok": True})
    assert smtp.logins == [("alice", SMTP_PASSWORD)]
    assert smtp.mails[0]["Subject"] == "[TEST] Test message for channel email"
    assert node.url + "/" in smtp.bodies()[0]
    _, after = await call(node, "GET", "/api/channels/email")
    assert after["last_sent"] == node.clock.time() and after["failures"] == 0


async def test_a_failing_test_answers_502_with_the_reason_and_no_secret(
    node: Harness, smtp: SmtpSink
) -> None:
    await call(node, "PUT", "/api/channels/email", {"url": smtp.url("wrong-Pa55word")})
    status, reply = await call(node, "POST", "/api/channels/email/test", {})
    assert status == 502 and reply["error"]["code"] == "channel_failed"
    assert "email" in reply["error"]["message"] and "wrong-Pa55word" not in json.dumps(reply)
    _, channel = await call(node, "GET", "/api/channels/email")
    assert (
        channel["failures"] == 1 and channel["last_error"] and "wrong-Pa55word" not in channel["last_error"]
    )
    health = await node.get("/healthz")
    assert health["status"] == "degraded"
    assert health["components"]["notifications"]["channels"]["email"]["failures"] == 1
    assert "wrong-Pa55word" not in json.dumps(health)
    async with node.http.get("/metrics") as r:
        text = await r.text()
    assert 'roost_notify_failures_total{channel="email"} 1' in text and "wrong-Pa55word" not in text


async def test_a_refused_connection_is_a_502_too(node: Harness) -> None:
    await call(node, "PUT", "/api/channels/hook", {"url": f"json://user:pw123@127.0.0.1:{free_port()}/x"})
    status, reply = await call(node, "POST", "/api/channels/hook/test")
    assert status == 502 and "pw123" not in reply["error"]["message"]


async def test_a_deleted_channel_is_gone_after_a_restart_and_others_stay(
    tmp_path: Path, web_sink: HttpSink
) -> None:
    url = f"json://127.0.0.1:{web_sink.port}/hook"
    async with Harness(make_app(tmp_path / "data")) as node:
        for name in ("keep", "drop"):
            assert (await call(node, "PUT", f"/api/channels/{name}", {"url": url}))[0] == 200
        assert (await call(node, "PUT", "/api/channels/log", {"enabled": False}))[0] == 200
        assert (await call(node, "DELETE", "/api/channels/drop"))[0] == 204
    async with Harness(make_app(tmp_path / "data")) as node:
        _, reply = await call(node, "GET", "/api/channels")
        assert [(c["name"], c["enabled"]) for c in reply["channels"]] == [
            ("page", True),
            ("log", False),
            ("keep", True),
        ]
        assert (await call(node, "POST", "/api/channels/keep/test"))[0] == 200
        assert web_sink.json_posts("/hook")[0]["title"] == "[TEST] Test message for channel keep"


BAD_INPUT = [
    ("PUT", "/api/channels/email", b'{"url": "mailto://', 400, "malformed_json"),
    ("PUT", "/api/channels/email", b"[1, 2]", 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", b"", 400, "bad_request"),
    ("PUT", "/api/channels/email", {"url": "https://hooks.example.org/x"}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": "mail.example.org"}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": 5}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": "json://h/x", "enabled": "yes"}, 422, "invalid_arguments"),
    (
        "PUT",
        "/api/channels/email",
        {"url": "json://h/x", "quiet_hours": {"from": "25:00", "to": "07:00"}},
        422,
        "invalid_arguments",
    ),
    ("PUT", "/api/channels/email", {"url": "json://h/x", "quiet_hours": "22-07"}, 422, "invalid_arguments"),
    (
        "PUT",
        "/api/channels/email",
        {"url": "json://h/x", "quiet_hours": {"from": "22:00", "to": "22:00"}},
        422,
        "invalid_arguments",
    ),
    ("PUT", "/api/channels/email", {"url": "json://h/x", "colour": "red"}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": "json://h/x", "name": "other"}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": "json://u:****@h/x"}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": "json://h/" + "x" * 3000}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/email", {"url": "json://h/x", "pad": "x" * 20_000}, 413, "payload_too_large"),
    ("PUT", "/api/channels/bad%20name", {"url": "json://h/x"}, 422, "invalid_arguments"),
    ("PUT", "/api/channels/page", {"url": "json://h/x"}, 422, "invalid_arguments"),
    (
        "PUT",
        "/api/channels/page",
        {"quiet_hours": {"from": "22:00", "to": "07:00"}},
        422,
        "invalid_arguments",
    ),
    ("GET", "/api/channels/nope", None, 404, "not_found"),
    ("DELETE", "/api/channels/nope", None, 404, "not_found"),
    ("DELETE", "/api/channels/page", None, 409, "conflict"),
    ("DELETE", "/api/channels/log", None, 409, "conflict"),
    ("POST", "/api/channels/nope/test", None, 404, "not_found"),
    ("POST", "/api/channels/hook/test", {"now": True}, 422, "invalid_arguments"),
    ("POST", "/api/channels/off/test", None, 422, "invalid_arguments"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD_INPUT)
async def test_bad_input_is_refused_and_changes_nothing(
    node: Harness, method: str, path: str, body: Any, status: int, code: str
) -> None:
    await call(node, "PUT", "/api/channels/hook", {"url": "json://u:pw@127.0.0.1:9/x"})
    await call(node, "PUT", "/api/channels/off", {"url": "json://127.0.0.1:9/x", "enabled": False})
    before = channels_file(node).read_bytes()
    _, listed = await call(node, "GET", "/api/channels")
    kw: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
    async with node.http.request(method, path, headers={"Content-Type": "application/json"}, **kw) as r:
        reply = await r.json()
    assert r.status == status and reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    assert channels_file(node).read_bytes() == before
    assert (await call(node, "GET", "/api/channels"))[1] == listed


async def test_an_unreadable_channels_file_is_kept_and_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "channels.json").write_text('{"schema": 99, "channels": {}}')
    async with Harness(make_app(data)) as node:
        status, reply = await call(node, "GET", "/api/channels")
        assert status == 200 and [c["name"] for c in reply["channels"]] == ["page", "log"]
        status, reply = await call(node, "PUT", "/api/channels/x", {"url": "json://h/x"})
        assert status == 503 and "newer roost" in reply["error"]["message"]
        health = (await node.get("/healthz"))["components"]["notifications"]
        assert not health["ok"] and "schema 99" in health["error"]
    assert (data / "channels.json").read_text() == '{"schema": 99, "channels": {}}'


async def test_every_channel_route_is_in_openapi(node: Harness) -> None:
    doc = await node.get("/api/openapi.json")
    for path, methods in {
        "/api/channels": {"get"},
        "/api/channels/{name}": {"get", "put", "delete"},
        "/api/channels/{name}/test": {"post"},
    }.items():
        assert methods <= set(doc["paths"][path]), path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/channels/x", {"url": "json://h/x"}),
        ("DELETE", "/api/channels/hook", None),
        ("POST", "/api/channels/hook/test", None),
    ],
)
async def test_another_site_is_refused(tmp_path: Path, method: str, path: str, body: Any) -> None:
    async with Harness(make_app(tmp_path / "data", auth=True)) as node:
        await node.app.notifications.put("hook", {"url": "json://127.0.0.1:9/x"})
        before = channels_file(node).read_bytes()
        headers = {"Origin": "http://evil.example"}
        async with node.http.request(method, path, json=body, headers=headers) as r:
            reply = await r.json()
        assert r.status == 403 and reply["error"]["code"] == "cross_site"
        assert channels_file(node).read_bytes() == before
        assert node.app.notifications.delivery.outboxes["hook"].failures == 0


def caller_by_header(request: web.Request, route: Route | None) -> Caller:
    return Caller(
        "http", request.remote or "", "tester", Scope.parse(request.headers.get("X-Test-Scope", "read"))
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/channels", None),
        ("GET", "/api/channels/hook", None),
        ("PUT", "/api/channels/x", {"url": "json://h/x"}),
        ("DELETE", "/api/channels/hook", None),
        ("POST", "/api/channels/hook/test", None),
    ],
)
async def test_each_channel_route_needs_admin(tmp_path: Path, method: str, path: str, body: Any) -> None:
    async with Harness(make_app(tmp_path / "data"), serve=False) as node:
        await node.app.notifications.put("hook", {"url": f"json://127.0.0.1:{free_port()}/x"})
        before = channels_file(node).read_bytes()
        server = WebServer(node.app.hub, WebSettings(port=0), identify=caller_by_header)
        await server.start()
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:
                for scope in ("read", "control"):
                    headers = {"X-Test-Scope": scope}
                    async with http.request(method, path, json=body, headers=headers) as r:
                        reply = await r.json()
                    assert r.status == 403 and reply["error"]["code"] == "forbidden", scope
        finally:
            await server.stop()
        assert channels_file(node).read_bytes() == before
        assert node.app.notifications.delivery.outboxes["hook"].failures == 0


def test_roost_demo_keeps_its_channels_in_its_data_dir(tmp_path: Path) -> None:
    node = RoostProcess(["demo"], tmp_path)
    try:
        node.wait_ready()
        body = json.dumps({"url": "json://user:pw@127.0.0.1:9/x"}).encode()
        status, reply, _ = http_call("PUT", node.url + "/api/channels/hook", body)
        assert status == 200 and reply["url"] == "json://user:****@127.0.0.1:9/x"
    finally:
        node.stop()
    assert json.loads((tmp_path / "data" / "channels.json").read_text())["channels"]["hook"]["url"].endswith(
        ":pw@127.0.0.1:9/x"
    )
