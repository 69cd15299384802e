"""Limits, pings, shutdown and the counters in /metrics and /healthz."""

from __future__ import annotations

import aiohttp
import pytest

from roost import App
from roost.testing import eventually


async def test_connections_per_address_are_limited(start_live, probes) -> None:
    app = await start_live(max_connections_per_address=2)
    await probes.ws(app)
    await probes.sse(app)
    async with probes.session.get(f"{app.url}/api/events") as response:
        assert response.status == 429
        error = (await response.json())["error"]
    assert error["code"] == "too_many_requests"
    assert "limit is 2" in error["message"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await probes.ws(app)
    assert info.value.status == 429
    assert app.live.health()["refused"] == {"per_address": 2}


async def test_a_slot_is_given_back_when_a_client_leaves(start_live, probes) -> None:
    app = await start_live(max_connections_per_address=1)
    first = await probes.ws(app)
    await first.close()
    await eventually(lambda: app.live.client_counts()["ws"] == 0)
    second = await probes.ws(app)
    assert (await second.next())["type"] == "snapshot"


async def test_total_clients_are_limited(start_live, probes) -> None:
    app = await start_live(max_clients=1)
    await probes.sse(app)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await probes.ws(app)
    assert info.value.status == 503


async def test_a_message_over_the_limit_closes_with_1009(start_live, probes) -> None:
    app = await start_live(max_message_bytes=1024)
    probe = await probes.ws(app)
    await probe.next()
    await probe.send({"type": "ping", "id": "x" * 2000})
    msg = await probe.ws.receive()
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    await eventually(lambda: app.live.counters.closes["message_too_big"] == 1)


async def test_plain_http_on_the_websocket_route_is_a_json_400(start_live, probes) -> None:
    app = await start_live()
    async with probes.session.get(f"{app.url}/api/live") as response:
        assert response.status == 400
        assert "/api/events" in (await response.json())["error"]["message"]


async def test_sse_sends_comment_pings_when_idle(start_live, probes) -> None:
    app = await start_live(ping_interval_s=0.1)
    probe = await probes.sse(app)
    await probe.next()
    assert 1000 <= probe.retry_ms <= 3000
    assert await probe.response.content.readline() == b": ping\n"


async def test_a_websocket_peer_that_never_answers_pings_is_closed(start_live, probes) -> None:
    app = await start_live(ping_interval_s=0.1)
    silent = await probes.raw_ws(app)  # reads nothing, so never answers a ping
    await eventually(lambda: app.live.counters.closes["no_pong"] == 1)
    await silent.wait_closed()


async def test_shutdown_closes_websockets_with_1001_and_ends_event_streams(app: App, probes) -> None:
    await app.start(host="127.0.0.1", port=0)
    try:
        ws, sse = await probes.ws(app), await probes.sse(app)
        await ws.next()
        await sse.next()
    finally:
        await app.stop()
    msg = await ws.ws.receive()
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
    assert await sse.response.content.read() == b""
    assert app.live.counters.closes["shutdown"] == 2


async def test_counters_are_in_metrics_and_healthz(start_live, probes) -> None:
    app = await start_live()
    await (await probes.ws(app)).next()
    await (await probes.sse(app)).next()
    async with probes.session.get(f"{app.url}/metrics") as response:
        text = await response.text()
    for line in [
        'roost_live_clients{transport="ws"} 1',
        'roost_live_clients{transport="sse"} 1',
        'roost_live_messages_total{transport="ws",type="snapshot"} 1',
        "roost_live_updates_dropped_total 0",
        'roost_live_updates_coalesced_total{stage="client"} 0',
        'roost_live_closes_total{reason="stuck"} 0',
    ]:
        assert line in text.splitlines()
    async with probes.session.get(f"{app.url}/healthz") as response:
        live = (await response.json())["components"]["live"]
    assert live["clients"] == {"ws": 1, "sse": 1}
    assert live["messages_sent"] == 2


async def test_openapi_describes_the_live_routes(start_live, probes) -> None:
    app = await start_live()
    async with probes.session.get(f"{app.url}/api/openapi.json") as response:
        paths = (await response.json())["paths"]
    assert {"/api/live", "/api/events"} <= paths.keys()
