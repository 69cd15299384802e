"""How the server hands out the built page: precompressed, hashed assets cached for good, index revalidated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from roost import App
from roost.web import server


@pytest.fixture(autouse=True)
def page_is_built() -> None:
    if not (server.PAGE_DIR / "index.html").is_file():
        pytest.fail("the page is not built: run `make page` (make test does it first)")


def asset_names() -> list[str]:
    html = (server.PAGE_DIR / "index.html").read_text()
    return re.findall(r"/static/dist/([\w.-]+)", html)


async def test_the_page_is_served_at_the_root_and_always_revalidated(http: aiohttp.ClientSession) -> None:
    async with http.get("/") as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "no-cache"
        text = await r.text()
    assert re.search(r'<script type="module" src="/static/dist/app-\w+\.js">', text)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing from elsewhere


@pytest.mark.parametrize(("accept", "encoding"), [("gzip, deflate", "gzip"), ("br, gzip", "br"), ("", None)])
async def test_assets_are_sent_precompressed_and_cached_for_good(
    served: App, accept: str, encoding: str | None
) -> None:
    names = asset_names()
    assert any(n.endswith(".js") for n in names) and any(n.endswith(".css") for n in names)
    async with aiohttp.ClientSession(base_url=served.url, auto_decompress=False) as session:
        for name in names:
            async with session.get(f"/static/dist/{name}", headers={"Accept-Encoding": accept}) as r:
                assert r.status == 200, name
                assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
                assert r.headers.get("Content-Encoding") == encoding
                body = await r.read()
            suffix = {"gzip": ".gz", "br": ".br", None: ""}[encoding]
            assert body == (server.PAGE_DIR / f"{name}{suffix}").read_bytes()


@pytest.mark.parametrize("name", ["nope.js", ".hidden", "index.html.missing"])
async def test_unknown_assets_are_a_json_404(http: aiohttp.ClientSession, name: str) -> None:
    async with http.get(f"/static/dist/{name}") as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "not_found"


async def test_the_live_client_is_still_served_on_its_own(http: aiohttp.ClientSession) -> None:
    async with http.get("/static/roost-live.js") as r:
        assert r.status == 200
        assert "export function connect" in await r.text()


async def test_an_unbuilt_page_says_how_to_build_it(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(server, "PAGE_DIR", tmp_path / "not-built")
    async with http.get("/") as r:
        assert r.status == 200
        assert "make page" in await r.text()


@pytest.fixture
def page_subdir() -> Iterator[str]:
    """A folder inside the built page, as a bundler's chunk or font folder would be."""
    folder = server.PAGE_DIR / "test-subdir"
    folder.mkdir()
    try:
        yield folder.name
    finally:
        folder.rmdir()


async def test_an_encoded_slash_cannot_climb_out_of_the_page(served: App, page_subdir: str) -> None:
    # `{name}` takes %2F decoded: with a folder to pass through, ".." would reach any file.
    path = f"/static/dist/{page_subdir}%2F..%2F..%2F..%2Fserver.py"
    async with aiohttp.ClientSession() as s, s.get(URL(served.url + path, encoded=True)) as r:
        assert r.status == 404
        assert r.content_type == "application/json"
