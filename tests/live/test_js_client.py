"""The JavaScript client (static/roost-live.js) in a real headless Chromium against a real server."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from roost import App
from support import free_port

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 10_000

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed")

START = """async (options) => {
  const { connect } = await import("/static/roost-live.js");
  window.snapshots = 0;
  window.statuses = [];
  window.live = connect({
    ...options,
    initialBackoffMs: 100,
    maxBackoffMs: 400,
    onState: (state, info) => { if (info.snapshot) window.snapshots++; },
    onStatus: (status) => window.statuses.push(status),
  });
}"""


def add_commands(app: App) -> None:
    @app.command
    def switch(plug: str, on: bool = True) -> dict[str, Any]:
        """Switch a plug."""
        app.state[f"plugs/{plug}/on"] = on
        return {"plug": plug, "on": on}


@pytest.fixture
async def page(served: App, tmp_path: Path) -> AsyncIterator[Any]:
    """A Chromium page on the served app's origin."""
    async with playwright_api.async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        try:
            page = await context.new_page()
            await page.goto(served.url + "/")
            yield page
        finally:
            await context.close()


async def state_of(page: Any) -> Any:
    return await page.evaluate("() => window.live.state")


async def wait_for_state(page: Any, app: App) -> None:
    """Wait until the page's tree is the server's tree at its current seq."""
    await page.wait_for_function(
        "seq => window.live.seq >= seq", arg=app.state.seq, timeout=WAIT_MS, polling=20
    )
    assert await state_of(page) == app.state.to_dict()


@pytest.fixture
def app(tmp_path: Path) -> App:
    """The root fixture's App, with a command to call."""
    app = App("test", data_dir=tmp_path / "data", port=0, timezone="Europe/Berlin")
    add_commands(app)
    return app


async def test_websocket_client_tracks_state_calls_and_subscribes(served: App, page: Any) -> None:
    served.state.update({"basement": {"party_room": 17.8}, "plugs": {"tv": {"on": False, "power_w": 0}}})
    await page.evaluate(START, {})
    await wait_for_state(page, served)
    assert await page.evaluate("() => window.live.transport") == "websocket"
    served.state["basement/party_room"] = 18.2
    del served.state["plugs/tv/power_w"]
    await wait_for_state(page, served)

    result = await page.evaluate("() => window.live.call('switch', {plug: 'tv'})")
    assert result == {"plug": "tv", "on": True}
    await wait_for_state(page, served)
    error = await page.evaluate("() => window.live.call('switch', {}).catch(e => [e.name, e.code])")
    assert error == ["LiveError", "invalid_arguments"]

    await page.evaluate("() => window.live.subscribe(['plugs/**'])")
    await page.wait_for_function("() => !('basement' in window.live.state)", timeout=WAIT_MS)
    assert await state_of(page) == {"plugs": {"tv": {"on": True}}}


async def test_websocket_client_resumes_with_only_the_missed_changes(served: App, page: Any) -> None:
    served.state["a"] = 1
    await page.evaluate(START, {})
    await wait_for_state(page, served)
    await page.evaluate("() => window.live.close()")
    served.state["a"] = 2
    served.state["b/c"] = 3
    await page.evaluate("() => window.live.start()")
    await wait_for_state(page, served)
    assert await page.evaluate("() => window.snapshots") == 1  # resumed, not started over


async def test_client_gets_a_fresh_snapshot_after_the_server_restarts(
    served: App, page: Any, tmp_path: Path
) -> None:
    served.state.update({"old": {"value": 1}, "kept": 1})
    for n in range(10):  # the old run's seq is ahead of the new run's
        served.state["old/value"] = n
    await page.evaluate(START, {})
    await wait_for_state(page, served)
    port = served.port
    await served.stop()
    await page.wait_for_function("() => window.live.status === 'waiting'", timeout=WAIT_MS)

    restarted = App("test", data_dir=tmp_path / "data2", port=port, timezone="Europe/Berlin")
    restarted.state.update({"kept": 2, "new": True})
    await restarted.start(host="127.0.0.1", port=port)
    try:
        await page.wait_for_function(
            "boot => window.live.boot === boot", arg=restarted.live.boot, timeout=WAIT_MS
        )
        await wait_for_state(page, restarted)
        restarted.state["new"] = False
        await wait_for_state(page, restarted)
        assert await page.evaluate("() => window.snapshots") == 2
    finally:
        await restarted.stop()
        await served.start(host="127.0.0.1", port=0)  # the fixture stops it again


async def test_sse_transport_tracks_state_and_calls_over_http(served: App, page: Any) -> None:
    served.state["plugs/tv/on"] = False
    await page.evaluate(START, {"transport": "sse", "paths": ["plugs/**"]})
    await wait_for_state(page, served)
    assert await page.evaluate("() => window.live.transport") == "sse"
    result = await page.evaluate("() => window.live.call('switch', {plug: 'tv'})")
    assert result == {"plug": "tv", "on": True}
    await wait_for_state(page, served)
    error = await page.evaluate("() => window.live.call('nope').catch(e => e.code)")
    assert error == "unknown_command"


async def test_reconnect_delay_grows_while_the_server_stays_away(served: App, page: Any) -> None:
    # Nothing listens on `base`: every attempt fails without ever opening, and the
    # documented backoff (doubling up to maxBackoffMs) must apply, not the first step forever.
    dead = f"http://127.0.0.1:{free_port()}"
    await page.evaluate(
        """async (base) => {
          const { connect } = await import("/static/roost-live.js");
          window.delays = [];
          window.live = connect({
            base, transport: "websocket", initialBackoffMs: 40, maxBackoffMs: 100000,
            onStatus: (status, detail) => { if (status === "waiting") window.delays.push(detail.retryInMs); },
          });
        }""",
        dead,
    )
    await page.wait_for_function("() => window.delays.length >= 5", timeout=WAIT_MS)
    delays = await page.evaluate("() => { window.live.close(); return window.delays; }")
    # Attempt n waits between half and all of 40 * 2**n ms.
    assert [d >= 20 * 2**n for n, d in enumerate(delays[:5])] == [True] * 5, delays


async def test_a_connection_lost_before_the_new_subscriptions_snapshot_is_not_resumed(
    served: App, page: Any
) -> None:
    # The state held is of the old patterns: resuming it under the new ones
    # would keep the old leaves and never bring the new ones.
    served.state.update({"a": 1, "b": 1})
    await page.evaluate(START, {"paths": ["a"]})
    await page.wait_for_function("() => window.live.state.a === 1", timeout=WAIT_MS)
    # The subscribe goes out, and the connection drops before its snapshot arrives.
    await page.evaluate("() => { window.live.subscribe(['b']); window.live.close(); window.live.start(); }")
    await page.wait_for_function("() => window.live.state.b === 1", timeout=WAIT_MS)
    assert await state_of(page) == {"b": 1}


async def test_a_key_named_like_an_object_internal_is_an_ordinary_key(served: App, page: Any) -> None:
    # "__proto__" is a valid key (a device or a bridge may write anything): in a
    # change message it must land in the tree, not in Object.prototype.
    await page.evaluate(START, {})
    await wait_for_state(page, served)
    served.state.update({"__proto__": {"polluted": 1}, "constructor": {"x": 2}})
    await page.wait_for_function("seq => window.live.seq >= seq", arg=served.state.seq, timeout=WAIT_MS)
    held = await page.evaluate("() => JSON.stringify(window.live.state)")
    assert json.loads(held) == served.state.to_dict()
    assert await page.evaluate("() => ({}).polluted") is None
    del served.state["__proto__/polluted"]
    await page.wait_for_function("seq => window.live.seq >= seq", arg=served.state.seq, timeout=WAIT_MS)
    assert json.loads(await page.evaluate("() => JSON.stringify(window.live.state)")) == {
        "constructor": {"x": 2}
    }
