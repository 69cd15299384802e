"""raspend's HTTP interface in-process: its JSON shapes, and a JSON error wherever raspend failed."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from roost.compat.raspend import RaspendApplication

# What raspend 2.0.4 answered to GET /cmds for the two untyped methods below
# (recorded from a real raspend 2.0.4 server).
RASPEND_CMDS = {
    "Commands": [
        {
            "Command": {
                "Name": "theDoorBell.switchDoorBell",
                "Args": {"onoff": ""},
                "URL": "/cmd?name=theDoorBell.switchDoorBell&onoff=",
            }
        },
        {
            "Command": {
                "Name": "theDoorBell.getCurrentState",
                "Args": {},
                "URL": "/cmd?name=theDoorBell.getCurrentState",
            }
        },
    ]
}


class DoorBell:
    def __init__(self) -> None:
        self.state = "on"

    def switchDoorBell(self, onoff):  # type: ignore[no-untyped-def]
        self.state = onoff
        return self.state

    def getCurrentState(self):  # type: ignore[no-untyped-def]
        return self.state

    def ring(self, times: int, loud: bool = False) -> dict[str, Any]:
        return {"times": times, "loud": loud}

    def explode(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("wiring fault")


@pytest.fixture
async def node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[aiohttp.ClientSession]:
    """A RaspendApplication with the doorbell's commands and some data, served on a free port."""
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path))
    application = RaspendApplication(0)
    theDoorBell = DoorBell()
    application.addCommand(theDoorBell.switchDoorBell)
    application.addCommand(theDoorBell.getCurrentState)
    application.addCommand(theDoorBell.ring)
    application.addCommand(theDoorBell.explode)
    application.updateSharedDict({"ground_floor": {"kitchen": 23.5, "living_room": 23.6}, "ü": "ä"})

    @application.app.command(name="aaa.native")
    def native() -> str:
        """A roost command beside the program's."""
        return "native"

    await application.app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession(base_url=application.app.url) as session:
            yield session
    finally:
        await application.app.stop()


async def get_json(http: aiohttp.ClientSession, path: str) -> tuple[int, Any, Any]:
    async with http.get(path) as r:
        return r.status, r.headers, await r.json()


async def test_cmds_lists_raspends_shape_then_typed_commands(node: aiohttp.ClientSession) -> None:
    status, headers, body = await get_json(node, "/cmds")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Access-Control-Allow-Origin" not in headers  # raspend's "*" let any page read and call
    assert body["Commands"][:2] == RASPEND_CMDS["Commands"]
    assert body["Commands"][2]["Command"]["Args"] == {"times": "int", "loud": "bool"}
    names = [c["Command"]["Name"] for c in body["Commands"]]
    assert names[2:5] == [
        "theDoorBell.ring",
        "theDoorBell.explode",
        "aaa.native",
    ]  # the program's first (built-ins follow)
    assert (await get_json(node, "/cmd?name=aaa.native"))[2] == "native"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/data", {"ground_floor": {"kitchen": 23.5, "living_room": 23.6}, "ü": "ä"}),
        ("/data/", {"ground_floor": {"kitchen": 23.5, "living_room": 23.6}, "ü": "ä"}),
        ("/data/ground_floor", {"kitchen": 23.5, "living_room": 23.6}),
        ("/data/ground_floor/kitchen", 23.5),
        ("/data/%C3%BC", "ä"),
    ],
)
async def test_data_routes(node: aiohttp.ClientSession, path: str, expected: Any) -> None:
    status, headers, body = await get_json(node, path)
    assert (status, body) == (200, expected)
    assert "Access-Control-Allow-Origin" not in headers  # raspend's "*" let any page read and call


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=theDoorBell.switchDoorBell&onoff=off", "off"),
        ("name=theDoorBell.ring&times=3", {"times": 3, "loud": False}),
        ("name=theDoorBell.ring&times=2&loud=true&times=9", {"times": 2, "loud": True}),
        # raspend read the query with parse_qs, which drops blank values: the URL
        # template of /cmds ("&loud=") left blank means the parameter's default.
        ("name=theDoorBell.ring&times=3&loud=", {"times": 3, "loud": False}),
        ("name=theDoorBell.ring&times=&times=4", {"times": 4, "loud": False}),
    ],
)
async def test_cmd_get_answers_the_result(node: aiohttp.ClientSession, query: str, expected: Any) -> None:
    status, _, body = await get_json(node, f"/cmd?{query}")
    assert (status, body) == (200, expected)


async def test_post_answers_the_payload_plus_result(node: aiohttp.ClientSession) -> None:
    # The shape raspend 2.0.4 answered: the posted JSON, every key kept, plus Command.Result.
    payload = {"Command": {"Name": "theDoorBell.ring", "Args": {"times": 2}}, "ElementId": "btn-7"}
    async with node.post("/", json=payload) as r:
        assert r.status == 200
        assert "Access-Control-Allow-Origin" not in r.headers
        assert await r.json() == {
            "Command": {
                "Name": "theDoorBell.ring",
                "Args": {"times": 2},
                "Result": {"times": 2, "loud": False},
            },
            "ElementId": "btn-7",
        }
    async with node.post("/", json={"Command": {"Name": "theDoorBell.getCurrentState"}}) as r:
        assert await r.json() == {"Command": {"Name": "theDoorBell.getCurrentState", "Result": "on"}}


JSON = "application/json"


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"),
    [
        # raspend answered the whole dict, or the part it found, for these:
        ("GET", "/data/nope", None, None, 404, "unknown_path"),
        ("GET", "/data/ground_floor/nope", None, None, 404, "unknown_path"),
        ("GET", "/data/ground_floor/kitchen/deeper", None, None, 404, "unknown_path"),
        ("GET", "/data/a//b", None, None, 400, "invalid_path"),
        # raspend dropped the connection:
        ("GET", "/cmd", None, None, 400, "bad_request"),
        ("POST", "/", '{"Command": "x"}', JSON, 400, "bad_request"),
        # raspend answered with HTML pages (some 500s):
        ("GET", "/cmd?name=nope", None, None, 404, "unknown_command"),
        ("GET", "/cmd?name=theDoorBell.switchDoorBell", None, None, 422, "invalid_arguments"),
        ("GET", "/cmd?name=theDoorBell.getCurrentState&zz=1", None, None, 422, "invalid_arguments"),
        ("GET", "/cmd?name=theDoorBell.ring&times=abc", None, None, 422, "invalid_arguments"),
        ("GET", "/cmd?name=theDoorBell.explode", None, None, 500, "internal"),
        ("POST", "/", '{"Command": {"Name": "theDoorBell.getCurrentState"}}', "text/plain", 415, None),
        ("POST", "/", "{bad", JSON, 400, "malformed_json"),
        ("POST", "/", "", JSON, 400, "malformed_json"),
        ("POST", "/", "[1, 2]", JSON, 400, "bad_request"),
        ("POST", "/", '{"Command": {}}', JSON, 400, "bad_request"),
        ("POST", "/", '{"Command": {"Name": 5}}', JSON, 400, "bad_request"),
        ("POST", "/", '{"Command": {"Name": "nope"}}', JSON, 404, "unknown_command"),
        ("POST", "/", '{"Command": {"Name": "theDoorBell.ring", "Args": [1]}}', JSON, 422, None),
        ("POST", "/", '{"Command": {"Name": "theDoorBell.ring", "Args": {}}}', JSON, 422, None),
        ("POST", "/", '{"Command": {"Name": "theDoorBell.ring", "Args": {"times": "x"}}}', JSON, 422, None),
        ("POST", "/", '{"Command": {"Name": "theDoorBell.explode"}}', JSON, 500, "internal"),
    ],
)
async def test_every_failure_is_a_json_error(
    node: aiohttp.ClientSession,
    method: str,
    path: str,
    body: str | None,
    content_type: str | None,
    status: int,
    code: str | None,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    async with node.request(method, path, data=body, headers=headers) as r:
        assert r.status == status
        assert "Access-Control-Allow-Origin" not in r.headers
        error = json.loads(await r.read())["error"]
    assert error["message"]
    assert error["code"] == (code or {415: "unsupported_media_type", 422: "invalid_arguments"}[status])


async def test_an_oversized_body_is_refused(node: aiohttp.ClientSession) -> None:
    big = json.dumps({"Command": {"Name": "theDoorBell.getCurrentState"}, "pad": "x" * (2 << 20)})
    async with node.post("/", data=io.BytesIO(big.encode()), headers={"Content-Type": JSON}) as r:
        assert r.status == 413
        assert (await r.json())["error"]["code"] == "payload_too_large"


async def test_a_failed_command_names_its_exception_and_keeps_its_internals_out(
    node: aiohttp.ClientSession,
) -> None:
    async with node.get("/cmd?name=theDoorBell.explode") as r:
        text = await r.text()
    assert r.status == 500 and "RuntimeError: wiring fault" in text
    assert "Traceback" not in text and ".py" not in text


async def test_no_preflight_or_cross_site_command_for_an_origin_nobody_allowed(
    node: aiohttp.ClientSession,
) -> None:
    preflight = {"Origin": "http://pi.local", "Access-Control-Request-Method": "POST"}
    async with node.options("/", headers=preflight) as r:
        assert r.status == 405 and "Access-Control-Allow-Origin" not in r.headers
    payload = {"Command": {"Name": "theDoorBell.ring", "Args": {"times": 1}}}
    async with node.post("/", json=payload, headers={"Origin": "http://pi.local"}) as r:
        assert r.status == 403 and (await r.json())["error"]["code"] == "cross_site"
    async with node.get("/cmd?name=theDoorBell.ring&times=1", headers={"Sec-Fetch-Site": "cross-site"}) as r:
        assert r.status == 403


async def test_the_page_still_answers_get_slash(node: aiohttp.ClientSession) -> None:
    async with node.get("/") as r:
        assert r.status == 200 and r.content_type == "text/html"


async def test_openapi_describes_the_raspend_routes(node: aiohttp.ClientSession) -> None:
    _, _, doc = await get_json(node, "/api/openapi.json")
    assert {"/data", "/data/{path}", "/cmds", "/cmd"} <= doc["paths"].keys()
    assert "post" in doc["paths"]["/"]


async def test_without_commands_cmds_is_an_empty_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # raspend answered 501 "No commands available" here; an empty list has the same shape.
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path))
    application = RaspendApplication(0)
    await application.app.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession(base_url=application.app.url) as http:
            status, _, body = await get_json(http, "/cmds")
            assert (status, body) == (200, {"Commands": []})
    finally:
        await application.app.stop()
