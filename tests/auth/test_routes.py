"""The authentication routes with good and bad input, against a real server."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from auth_support import PASSWORD, Node, StartNode
from roost.core.caller import PROGRAM, Scope


async def test_me_tells_open_from_required(local: Node, lan: Node) -> None:
    async with local.session() as http, http.get("/api/me") as r:
        assert await r.json() == {
            "user": None,
            "scope": "admin",
            "auth": "open",
            "required": False,
            "setup_needed": True,
            "csrf": None,
        }
    async with lan.session() as http:
        async with http.get("/api/me") as r:
            me = await r.json()
            assert (me["auth"], me["required"], me["user"], me["scope"]) == ("none", True, None, None)
        csrf = await lan.login(http)
        async with http.get("/api/me") as r:
            me = await r.json()
            assert (me["auth"], me["user"], me["scope"], me["csrf"]) == ("session", "admin", "admin", csrf)
            assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "malformed_json"),
        ("[1, 2]", 400, "bad_request"),
        ('{"name": "admin"}', 422, "invalid_arguments"),
        ('{"name": 5, "password": "x"}', 422, "invalid_arguments"),
        ('{"name": "admin", "password": "wrong"}', 401, "unauthenticated"),
        ('{"name": "nobody", "password": "wrong"}', 401, "unauthenticated"),
    ],
)
async def test_bad_logins_are_json_errors(lan: Node, body: str, status: int, code: str) -> None:
    async with lan.session() as http, http.post("/api/login", data=body) as r:
        assert r.status == status and (await r.json())["error"]["code"] == code
        assert "Set-Cookie" not in r.headers


async def test_logout_ends_the_session_and_its_cookie(lan: Node) -> None:
    async with lan.session() as http:
        csrf = await lan.login(http)
        async with http.post("/api/logout", headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 200 and 'roost_session=""' in r.headers["Set-Cookie"]
        async with http.get("/api/state") as r:
            assert r.status == 401
        async with http.post("/api/logout") as r:  # again, without a session: fine
            assert r.status == 200
    kinds = [e["kind"] for e in await lan.auth.query_audit(limit=10)]
    assert kinds[:2] == ["logout", "login"]


async def test_tokens_over_the_api(lan: Node) -> None:
    admin, _ = await lan.token(Scope.ADMIN, "root")
    async with lan.session(headers={"Authorization": f"Bearer {admin}"}) as http:
        async with http.post("/api/tokens", json={"name": "grafana", "scope": "read", "expires": "90d"}) as r:
            assert r.status == 201
            made = await r.json()
        assert (
            made["token"].startswith("roost_")
            and made["scope"] == "read"
            and made["expires"] > made["created"]
        )
        async with http.get("/api/tokens") as r:
            listed = (await r.json())["tokens"]
        assert [t["name"] for t in listed] == ["root", "grafana"]
        assert all("token" not in t and "digest" not in t for t in listed)
        async with http.get("/api/state", headers={"Authorization": f"Bearer {made['token']}"}) as r:
            assert r.status == 200
        async with http.delete(f"/api/tokens/{made['id']}") as r:
            assert r.status == 200 and (await r.json())["revoked"]["name"] == "grafana"
        async with http.delete(f"/api/tokens/{made['id']}") as r:
            assert r.status == 404
        async with http.get("/api/audit?kind=token_created") as r:
            entries = (await r.json())["entries"]
        assert [e["detail"]["name"] for e in entries] == ["grafana", "root"]
        assert entries[0]["principal"] == "token:root" and made["token"] not in str(entries)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"scope": "read"}, 422),
        ({"name": "x", "scope": "root"}, 422),
        ({"name": "x", "scope": "read", "expires": "soon"}, 400),
        ({"name": "x", "scope": "read", "expires": 90}, 422),
        ({"name": "", "scope": "read"}, 422),
        ({"name": "root", "scope": "read"}, 422),  # the name is taken
    ],
)
async def test_bad_token_requests(lan: Node, body: dict[str, object], status: int) -> None:
    admin, _ = await lan.token(Scope.ADMIN, "root")
    async with (
        lan.session(headers={"Authorization": f"Bearer {admin}"}) as http,
        http.post("/api/tokens", json=body) as r,
    ):
        assert r.status == status and "error" in await r.json()
    assert [t.name for t in lan.auth.tokens()] == ["root"]


@pytest.mark.parametrize("query", ["limit=0", "limit=5000", "limit=x", "before=x", "since=yesterday"])
async def test_bad_audit_queries(lan: Node, query: str) -> None:
    admin, _ = await lan.token(Scope.ADMIN)
    async with (
        lan.session(headers={"Authorization": f"Bearer {admin}"}) as http,
        http.get(f"/api/audit?{query}") as r,
    ):
        assert r.status == 400 and (await r.json())["error"]["code"] == "bad_request"


async def test_a_ticket_opens_one_stream_once(lan: Node) -> None:
    secret, token_id = await lan.token(Scope.READ)
    async with lan.session() as http:
        async with http.post("/api/tickets", headers={"Authorization": f"Bearer {secret}"}) as r:
            ticket = (await r.json())["ticket"]
        async with http.get(f"/api/events?ticket={ticket}") as r:
            assert r.status == 200
            await r.content.readline()
            await lan.auth.revoke_token(token_id, PROGRAM)
            while await r.content.readline():
                pass  # the stream ends with the token that asked for the ticket
        async with http.get(f"/api/events?ticket={ticket}") as r:
            assert r.status == 401
        async with http.post("/api/tickets") as r:
            assert r.status == 401


async def test_tls_sends_hsts_and_secure_cookies(start_node: StartNode, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    node = await start_node("0.0.0.0", tls=(str(cert), str(key)))
    await node.add_user("admin")
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    connector = aiohttp.TCPConnector(ssl=context)
    url = f"https://127.0.0.1:{node.app.port}"
    async with (
        aiohttp.ClientSession(
            base_url=url, connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http,
        http.post("/api/login", json={"name": "admin", "password": PASSWORD}, headers={"Origin": url}) as r,
    ):
        assert r.status == 200
        assert "Secure" in r.headers["Set-Cookie"]
        assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(aiohttp.ClientError):
            await plain.get(node.url + "/healthz")


async def test_no_hsts_over_plain_http(lan: Node) -> None:
    async with lan.session() as http, http.get("/healthz") as r:
        assert "Strict-Transport-Security" not in r.headers


async def test_an_unusable_auth_db_locks_the_node_with_503(start_node: StartNode, tmp_path: Path) -> None:
    node = await start_node("127.0.0.1")
    await node.app.stop()
    db = node.app.data_dir / "auth.db"
    db.unlink()
    db.mkdir()  # not a database: opening fails as on a broken disk
    await node.app.start(host="127.0.0.1", port=0)
    node = Node(node.app)
    async with node.session() as http:
        async with http.get("/api/state") as r:
            assert r.status == 503 and "auth.db" in (await r.json())["error"]["message"]
        async with http.post("/api/login", json={"name": "admin", "password": PASSWORD}) as r:
            assert r.status in (401, 503)
        async with http.get("/healthz") as r:
            assert (await r.json())["components"]["auth"]["ok"] is False
