"""raspend's command routes pass their caller on: listeners see who called `/cmd` and `POST /`."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from roost.compat.raspend import RaspendApplication
from roost.core.caller import Caller, Scope
from roost.runtime.commands import CallRecord


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/cmd?name=light.switch&on=off", None),
        ("POST", "/", {"Command": {"Name": "light.switch", "Args": {"on": "off"}}}),
    ],
)
async def test_raspend_calls_reach_listeners_with_the_http_caller(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str, path: str, body: object
) -> None:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path))
    application = RaspendApplication(0)

    @application.app.command(name="light.switch")
    def switch(on: str) -> str:
        return on

    records: list[CallRecord] = []
    application.app.hub.commands.listen(records.append)
    await application.app.start(host="127.0.0.1", port=0)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, application.app.url + path, json=body) as reply,
        ):
            assert reply.status == 200
    finally:
        await application.app.stop()
    (record,) = records
    assert (record.command, record.args, record.outcome) == ("light.switch", {"on": "off"}, "ok")
    assert record.caller == Caller("http", "127.0.0.1", "", Scope.ADMIN)
