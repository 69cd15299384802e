"""The issue's attack list, each against a real server on real sockets (only 127.0.0.1 is contacted)."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time

import aiohttp
import pytest
from yarl import URL

from auth_support import PASSWORD, Node, StartNode
from roost.auth import crypto
from roost.core.caller import PROGRAM, Scope

EVIL = "http://evil.example"


async def error_of(r: aiohttp.ClientResponse) -> str:
    body = await r.json()
    return str(body["error"]["code"])


async def test_unauthenticated_write_on_a_lan_bind_is_401_and_changes_nothing(lan: Node) -> None:
    async with lan.session() as http:
        for method, path in [("POST", "/api/commands/switch_lamp?on=false"), ("GET", "/api/state")]:
            async with http.request(method, path, json={"on": False} if method == "POST" else None) as r:
                assert r.status == 401 and await error_of(r) == "unauthenticated"
        async with http.get("/api/live", headers={"Upgrade": "websocket", "Connection": "Upgrade"}) as r:
            assert r.status == 401
        async with http.get("/healthz") as r:
            assert r.status == 200
    assert lan.app.state["lamp"] is True


async def test_a_read_token_cannot_call_over_a_websocket(lan: Node) -> None:
    secret, _ = await lan.token(Scope.READ)
    async with (
        lan.session(headers={"Authorization": f"Bearer {secret}"}) as http,
        http.ws_connect("/api/live") as ws,
    ):
        assert (await ws.receive_json())["type"] == "snapshot"
        await ws.send_json({"type": "call", "id": 1, "command": "switch_lamp", "args": {"on": False}})
        reply = await ws.receive_json()
        assert reply["type"] == "error" and reply["id"] == 1 and reply["error"]["code"] == "forbidden"
    assert lan.app.state["lamp"] is True


async def test_a_control_token_calls_but_not_admin_commands(lan: Node) -> None:
    secret, _ = await lan.token(Scope.CONTROL)
    async with lan.session(headers={"Authorization": f"Bearer {secret}"}) as http:
        async with http.post("/api/commands/switch_lamp", json={"on": False}) as r:
            assert r.status == 200
        async with http.post("/api/commands/reset") as r:
            assert r.status == 403 and (await r.json())["error"]["needed"] == "admin"
        async with http.get("/api/tokens") as r:
            assert r.status == 403
    assert lan.app.state["lamp"] is False
    entries = await lan.auth.query_audit(kind="command")
    assert [(e["detail"]["command"], e["detail"]["outcome"], e["principal"]) for e in entries] == [
        ("reset", "forbidden", "token:t-control"),
        ("switch_lamp", "ok", "token:t-control"),
    ]
    assert entries[1]["detail"]["args"] == {"on": False} and entries[1]["address"] == "127.0.0.1"


async def test_a_read_token_reads_but_cannot_call_over_http(lan: Node) -> None:
    secret, _ = await lan.token(Scope.READ)
    async with lan.session(headers={"Authorization": f"Bearer {secret}"}) as http:
        async with http.get("/api/state") as r:
            assert r.status == 200 and (await r.json())["lamp"] is True
        async with http.post("/api/commands/switch_lamp", json={"on": False}) as r:
            assert r.status == 403 and await error_of(r) == "forbidden"
        async with http.get("/api/tokens") as r:
            assert r.status == 403
    assert lan.app.state["lamp"] is True


@pytest.mark.parametrize("header", ["Bearer roost_wrong", "Bearer ", "Basic YWRtaW46eA==", "roost_x"])
async def test_bad_credentials_are_401_even_on_an_open_node(local: Node, header: str) -> None:
    async with local.session() as http, http.get("/api/state", headers={"Authorization": header}) as r:
        assert r.status == 401 and await error_of(r) == "unauthenticated"


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({"Origin": EVIL, "Content-Type": "text/plain"}, '{"on": false}'),  # a cross-site form, text/plain
        (
            {"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"},
            "",
        ),  # body-less, args in the URL
        ({"Origin": "null", "Content-Type": "text/plain"}, '{"on": false}'),  # a sandboxed frame
        ({"Sec-Fetch-Site": "cross-site"}, '{"on": false}'),  # no Origin at all
    ],
)
async def test_cross_site_posts_are_refused_on_an_open_loopback_node(
    local: Node, headers: dict[str, str], data: str
) -> None:
    async with (
        local.session() as http,
        http.post("/api/commands/switch_lamp?on=false", data=data, headers=headers) as r,
    ):
        assert r.status == 403 and await error_of(r) == "cross_site"
        assert "Access-Control-Allow-Origin" not in r.headers
    assert local.app.state["lamp"] is True


async def test_a_same_origin_post_goes_through(local: Node) -> None:
    async with (
        local.session() as http,
        http.post("/api/commands/switch_lamp", json={"on": False}, headers={"Origin": local.url}) as r,
    ):
        assert r.status == 200
    assert local.app.state["lamp"] is False


async def test_a_foreign_websocket_handshake_is_refused(local: Node) -> None:
    async with local.session() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect("/api/live", origin=EVIL)
        assert caught.value.status == 403
        async with http.ws_connect("/api/live", origin=local.url) as ws:  # its own page may
            assert (await ws.receive_json())["type"] == "snapshot"


async def test_a_rebound_dns_name_gets_nothing_from_an_open_node(local: Node) -> None:
    # evil.example resolving to 127.0.0.1: same origin as far as Origin and Host go.
    headers = {"Host": f"evil.example:{local.app.port}", "Origin": f"http://evil.example:{local.app.port}"}
    async with local.session() as http, http.post("/api/commands/switch_lamp?on=false", headers=headers) as r:
        assert r.status == 403
    assert local.app.state["lamp"] is True


async def test_twenty_wrong_passwords_are_slowed_never_a_500(lan: Node) -> None:
    statuses, waits = [], []
    async with lan.session() as http:
        for i in range(20):
            async with http.post("/api/login", json={"name": "admin", "password": f"wrong {i}"}) as r:
                statuses.append(r.status)
                if r.status == 429:
                    waits.append(int(r.headers["Retry-After"]))
                    assert await error_of(r) == "login_throttled"
        # Even the right password waits its turn while the name is throttled.
        async with http.post("/api/login", json={"name": "admin", "password": PASSWORD}) as r:
            assert r.status == 429
    assert set(statuses) <= {401, 429} and statuses[:3] == [401, 401, 401]
    assert statuses.count(429) >= 10 and waits == sorted(waits)
    kinds = [e["kind"] for e in await lan.auth.query_audit(limit=100)]
    assert kinds.count("login_failed") == 3 and "login_throttled" in kinds


async def test_a_revoked_token_closes_its_websocket_within_a_second(lan: Node) -> None:
    secret, token_id = await lan.token(Scope.READ)
    other, _ = await lan.token(Scope.READ, "other")
    async with lan.session() as http:
        ws = await http.ws_connect("/api/live", headers={"Authorization": f"Bearer {secret}"})
        keep = await http.ws_connect("/api/live", headers={"Authorization": f"Bearer {other}"})
        assert (await ws.receive_json())["type"] == "snapshot"
        assert (await keep.receive_json())["type"] == "snapshot"
        started = time.monotonic()
        await lan.auth.revoke_token(token_id, PROGRAM)
        msg = await asyncio.wait_for(ws.receive(), 1.0)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert time.monotonic() - started < 1.0
        assert ws.close_code == 1008
        assert not keep.closed
        await keep.close()
        async with http.get("/api/state", headers={"Authorization": f"Bearer {secret}"}) as r:
            assert r.status == 401


async def test_a_token_revoked_from_the_command_line_closes_sse_within_a_second(lan: Node) -> None:
    secret, token_id = await lan.token(Scope.READ)
    async with (
        lan.session() as http,
        http.get("/api/events", headers={"Authorization": f"Bearer {secret}"}) as r,
    ):
        assert r.status == 200
        await r.content.readline()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "roost",
            "token",
            "revoke",
            token_id,
            "--data-dir",
            str(lan.app.data_dir),
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert await proc.wait() == 0
        started = time.monotonic()
        while await asyncio.wait_for(r.content.readline(), 1.5):
            pass  # read until the server ends the stream
        assert time.monotonic() - started < 1.0


async def test_an_expired_session_is_refused_and_its_stream_closed(start_node: StartNode) -> None:
    node = await start_node("0.0.0.0", session_idle_s=1.0)
    await node.add_user("admin")
    async with node.session() as http:
        await node.login(http)
        ws = await http.ws_connect("/api/live")
        assert (await ws.receive_json())["type"] == "snapshot"
        msg = await asyncio.wait_for(ws.receive(), 3.0)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and ws.close_code == 1008
        async with http.get("/api/state") as r:
            assert r.status == 401
        async with http.get("/api/me") as r:
            assert (await r.json())["auth"] == "none"


async def test_the_setup_code_makes_one_admin_and_is_refused_when_reused(start_node: StartNode) -> None:
    node = await start_node("0.0.0.0")
    path = node.app.data_dir / "setup-code"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    code = path.read_text().strip()
    async with node.session() as http:
        async with http.get("/api/me") as r:
            assert (await r.json())["setup_needed"] is True
        body = {"code": "AAAA-BBBB-CCCC-DDDD", "name": "admin", "password": PASSWORD}
        async with http.post("/api/setup", json=body) as r:
            assert r.status == 403 and await error_of(r) == "setup_refused"
        async with http.post("/api/setup", json={**body, "code": code.lower()}) as r:
            assert r.status == 200 and (await r.json())["user"] == "admin"
        async with http.get("/api/state") as r:
            assert r.status == 200  # signed in by the set-up
    async with (
        node.session() as stranger,
        stranger.post("/api/setup", json={**body, "code": code, "name": "mallory"}) as r,
    ):
        assert r.status == 403 and await error_of(r) == "setup_refused"
    assert not path.exists()
    assert [u for u in node.auth._users] == ["admin"]


async def test_csrf_token_is_needed_on_unsafe_requests_with_a_session(lan: Node) -> None:
    async with lan.session() as http:
        csrf = await lan.login(http)
        async with http.post("/api/commands/switch_lamp", json={"on": False}) as r:
            assert r.status == 403 and await error_of(r) == "csrf_failed"
        async with http.post(
            "/api/commands/switch_lamp", json={"on": False}, headers={"X-CSRF-Token": "x" + csrf}
        ) as r:
            assert r.status == 403
        assert lan.app.state["lamp"] is True
        async with http.post(
            "/api/commands/switch_lamp", json={"on": False}, headers={"X-CSRF-Token": csrf}
        ) as r:
            assert r.status == 200
    assert lan.app.state["lamp"] is False


async def test_session_cookie_flags_and_rotation(lan: Node) -> None:
    async with lan.session() as http:
        async with http.post("/api/login", json={"name": "admin", "password": PASSWORD}) as r:
            cookie = r.headers["Set-Cookie"]
            first = r.cookies["roost_session"].value
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain HTTP here; over HTTPS it is set
        await lan.login(http)
        second = http.cookie_jar.filter_cookies(URL(lan.url))["roost_session"].value
        assert second != first
    async with lan.session() as old:
        old.cookie_jar.update_cookies({"roost_session": first})
        async with old.get("/api/state") as r:
            assert r.status == 401  # the session before the new login is gone


async def test_a_password_change_ends_every_session(lan: Node) -> None:
    async with lan.session() as http:
        await lan.login(http)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "roost",
            "user",
            "passwd",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(lan.app.data_dir),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        await proc.communicate(b"another password\n")
        assert proc.returncode == 0
        await asyncio.sleep(lan.auth.settings.tick_s * 3)
        async with http.get("/api/state") as r:
            assert r.status == 401


async def test_wrong_user_and_wrong_password_do_the_same_work(
    lan: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No early return for an unknown name: both run one scrypt of the same cost, so
    # the reply time tells nothing (bench/auth.py prints the two timings).
    runs: list[int] = []
    real = crypto._scrypt

    def counted(password: str, salt: bytes, params: crypto.ScryptParams) -> bytes:
        runs.append(params.n)
        return real(password, salt, params)

    monkeypatch.setattr(crypto, "_scrypt", counted)
    async with lan.session() as http:
        for name in ("admin", "nobody"):
            async with http.post("/api/login", json={"name": name, "password": "wrong password"}) as r:
                assert (
                    r.status == 401 and (await r.json())["error"]["message"] == "wrong user name or password"
                )
    assert len(runs) == 2 and runs[0] == runs[1] == crypto._parse(lan.auth._users["admin"].password_hash)[0].n  # type: ignore[index]


async def test_unknown_and_wrong_tokens_take_the_same_path(
    lan: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token is found by the SHA-256 of the whole secret: no prefix of it is compared
    # byte by byte against a stored one, so a near miss costs what a far miss costs.
    secret, _ = await lan.token(Scope.READ)
    digests: list[str] = []
    real = crypto.digest
    monkeypatch.setattr(crypto, "digest", lambda s: digests.append(s) or real(s))
    assert lan.auth.by_token(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert lan.auth.by_token("roost_" + "x" * 43) is None
    assert len(digests) == 2
