"""CORS headers reach every response, streamed ones included (they are added on prepare)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from roost import App


@pytest.fixture
async def cors_app(tmp_path: Path) -> AsyncIterator[App]:
    app = App("test", data_dir=tmp_path / "data", port=0, cors_origins=["http://page.example"])
    await app.start(host="127.0.0.1", port=0)
    yield app
    await app.stop()


@pytest.mark.parametrize("route", ["/api/state", "/api/events", "/no-such-route"])
async def test_allowed_origin_gets_cors_headers(cors_app: App, route: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(cors_app.url + route, headers={"Origin": "http://page.example"}) as response,
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "http://page.example"
        assert "Last-Event-ID" in response.headers["Access-Control-Allow-Headers"]


async def test_preflight_and_other_origins(cors_app: App) -> None:
    async with aiohttp.ClientSession() as session:
        preflight = {"Origin": "http://page.example", "Access-Control-Request-Method": "POST"}
        async with session.options(cors_app.url + "/api/commands/x", headers=preflight) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == "http://page.example"
        async with session.get(cors_app.url + "/api/state", headers={"Origin": "http://evil"}) as response:
            assert "Access-Control-Allow-Origin" not in response.headers
