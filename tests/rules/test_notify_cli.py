"""`roost notify test URL` against local servers, and a node without apprise installed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notify_support import SMTP_PASSWORD, HttpSink, SmtpSink, http_server, make_app, notice, smtp_server
from roost.testing import Harness, eventually
from support import free_port

# Runs `roost` with apprise made unimportable, as on a node installed without the alerts extra.
WITHOUT_APPRISE = (
    "import sys; sys.modules['apprise'] = None; from roost.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


@pytest.fixture
async def web_sink() -> AsyncIterator[HttpSink]:
    async with http_server() as sink:
        yield sink


async def roost(*args: str, without_apprise: bool = False) -> tuple[int, str, str]:
    argv = ["-c", WITHOUT_APPRISE] if without_apprise else ["-m", "roost"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_test_message_reaches_the_smtp_server(smtp: SmtpSink) -> None:
    status, out, err = await roost("notify", "test", smtp.url())
    assert status == 0, err
    assert out.strip() == f"sent a test message to {smtp.url('****')}"
    assert SMTP_PASSWORD not in out + err
    assert smtp.mails[0]["Subject"] == "[TEST] Test message for channel from the command line"


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("json://user:pw-secret1@127.0.0.1:{refused}/x", 1, "Connection error"),
        (
            "mailto://alice:pw-secret1@127.0.0.1:{refused}?smtp=127.0.0.1&mode=insecure&to=a@b.c",
            1,
            "127.0.0.1",
        ),
        ("https://user:pw-secret1@hooks.example.org/x", 2, "json://"),
        ("no-scheme-pw-secret1", 2, "scheme://"),
        ("nosuchservice://user:pw-secret1@host/x", 1, "apprise cannot use this URL"),
    ],
)
async def test_a_failure_exits_non_zero_with_the_reason_and_no_secret(
    url: str, status: int, reason: str
) -> None:
    code, out, err = await roost("notify", "test", url.format(refused=free_port()))
    assert code == status and out == ""
    assert err.startswith("roost notify: ") and reason in err
    assert "pw-secret1" not in err


async def test_a_server_that_never_answers_is_given_up_on(web_sink: HttpSink) -> None:
    url = f"json://127.0.0.1:{web_sink.port}/hang/x?rto=60"
    code, _, err = await roost("notify", "test", url, "--timeout", "1")
    assert code == 1 and "no answer within 1 s" in err and web_sink.hanging == 1


async def test_without_apprise_the_command_says_what_to_install() -> None:
    code, _, err = await roost("notify", "test", "json://127.0.0.1:9/x", without_apprise=True)
    assert code == 2 and "pip install 'roost[alerts]'" in err


async def test_without_apprise_a_node_has_the_page_and_log_and_says_what_a_url_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    async with Harness(make_app(tmp_path / "data")) as node:
        await node.app.notifications.put("hook", {"url": "json://127.0.0.1:9/x"})
        node.app.notifications.send(notice(), ["page", "log"])
        await eventually(lambda: node.state.get("alerts/notices"))
        async with node.http.post("/api/channels/hook/test") as r:
            reply = await r.json()
        assert r.status == 502 and "pip install 'roost[alerts]'" in reply["error"]["message"]
        health = (await node.get("/healthz"))["components"]["notifications"]
        assert health["apprise"] == "missing" and "roost[alerts]" in health["hint"]
