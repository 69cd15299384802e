"""Auth test helpers: real nodes on real sockets, bound to 0.0.0.0 (LAN) or 127.0.0.1, reached only on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from roost import App
from roost.auth import AuthSettings
from roost.auth.crypto import ScryptParams
from roost.core.caller import PROGRAM, Scope

# Small scrypt parameters keep the suite fast; bench/auth.py measures the real ones.
FAST = ScryptParams(n=2**10, r=8, p=1)
PASSWORD = "correct horse battery"


def make_app(tmp_path: Path, tls: tuple[str, str] | None = None, **auth: Any) -> App:
    cert, key = tls or (None, None)
    app = App(
        "test",
        data_dir=tmp_path / "data",
        port=0,
        history=False,
        auth=AuthSettings(scrypt=FAST, **auth),
        tls_cert=cert,
        tls_key=key,
    )
    app.state["lamp"] = True

    @app.command
    def switch_lamp(on: bool) -> bool:
        """Switch the lamp."""
        app.state["lamp"] = on
        return on

    @app.command(scope="admin")
    def reset() -> str:
        """An admin-only command."""
        return "reset"

    return app


class Node:
    """A started App and how to reach it: always through 127.0.0.1."""

    def __init__(self, app: App) -> None:
        self.app = app
        assert app.auth is not None
        self.auth = app.auth
        self.url = f"http://127.0.0.1:{app.port}"
        self.ws_url = f"ws://127.0.0.1:{app.port}/api/live"

    async def add_user(self, name: str, scope: Scope = Scope.ADMIN, password: str = PASSWORD) -> None:
        await self.auth.add_user(name, password, scope, PROGRAM)

    async def token(self, scope: Scope, name: str | None = None) -> tuple[str, str]:
        secret, token = await self.auth.create_token(name or f"t-{scope.label}", scope, None, PROGRAM)
        return secret, token.id

    def session(self, **kwargs: Any) -> aiohttp.ClientSession:
        # unsafe=True: keep cookies for an IP address host (aiohttp drops them otherwise).
        return aiohttp.ClientSession(base_url=self.url, cookie_jar=aiohttp.CookieJar(unsafe=True), **kwargs)

    async def login(self, http: aiohttp.ClientSession, name: str = "admin", password: str = PASSWORD) -> str:
        async with http.post("/api/login", json={"name": name, "password": password}) as r:
            assert r.status == 200, await r.text()
            return str((await r.json())["csrf"])


StartNode = Callable[..., Awaitable[Node]]
