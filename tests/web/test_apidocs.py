"""`/api/docs`: the API reference page, served by the node, small, and not part of the page's bundle."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from roost import App
from roost.web import server
from roost.web.apidocs import ApiDocs


@pytest.fixture(autouse=True)
def page_is_built() -> None:
    if not (server.PAGE_DIR / "apidocs.html").is_file():
        pytest.fail("the page is not built: run `make page` (make test does it first)")


async def test_the_reference_is_served_from_the_node_and_is_small(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/docs", headers={"Accept-Encoding": "gzip"}) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        assert r.headers["Cache-Control"] == "no-cache"
        html = await r.text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing from elsewhere
    assets = re.findall(r"/static/dist/(apidocs-[\w-]+\.(?:js|css))", html)
    assert sorted(a.rsplit(".", 1)[1] for a in assets) == ["css", "js"]
    total = 0
    for name in assets:
        async with http.get(f"/static/dist/{name}", headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status == 200
            total += int(r.headers["Content-Length"])
    assert total < 6 * 1024, f"{total} bytes over the wire"
    # The page's own bundle does not carry it.
    index = (server.PAGE_DIR / "index.html").read_text()
    assert "apidocs" not in index
    for js in server.PAGE_DIR.glob("app-*.js"):
        assert "openapi.json" not in js.read_text()


async def test_the_reference_is_described_and_refuses_other_methods(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/openapi.json") as r:
        doc = await r.json()
    assert "get" in doc["paths"]["/api/docs"]
    async with http.post("/api/docs", json={}) as r:
        assert r.status == 405
        assert (await r.json())["error"]["code"]


async def test_an_unbuilt_reference_says_how_to_build_it(app: App, tmp_path: Path) -> None:
    web_server = server.WebServer(app.hub, app.web_settings)
    web_server.docs = ApiDocs(tmp_path)  # an empty folder: nothing built
    runner = aiohttp.web.AppRunner(web_server.build())
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/docs") as r:
            assert r.status == 503
            assert "make page" in (await r.json())["error"]["message"]
    finally:
        await runner.cleanup()
