"""Subscriptions by path pattern, in the URL or by message."""

from __future__ import annotations

import pytest

HOME = {
    "basement": {"party_room": 17.8, "cellar": 12.0, "deep": {"well": 9.0}},
    "plugs": {"tv": {"on": True, "power_w": 80}, "lamp": {"on": False}},
    "solar": {"power_w": 1200},
}


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_url_patterns_filter_snapshot_and_changes(start_live, probes, transport) -> None:
    app = await start_live()
    app.state.update(HOME)
    probe = await getattr(probes, transport)(app, "?paths=basement/*&paths=plugs/**")
    snap = await probe.next()
    assert snap["state"] == {
        "basement": {"party_room": 17.8, "cellar": 12.0},
        "plugs": {"tv": {"on": True, "power_w": 80}, "lamp": {"on": False}},
    }
    app.state["solar/power_w"] = 900  # not wanted: no message
    app.state["basement/deep/well"] = 8.5  # `*` stays within one key: not wanted
    app.state["plugs/tv/power_w"] = 0
    msg = await probe.next()
    assert (msg["since"], msg["seq"]) == (snap["seq"], app.state.seq)
    assert msg["changes"] == {"plugs/tv/power_w": 0}


async def test_a_seq_skipped_by_the_filter_still_chains(start_live, probes) -> None:
    app = await start_live()
    app.state.update(HOME)
    probe = await probes.ws(app, "?paths=solar/*")
    snap = await probe.next()
    app.state["basement/cellar"] = 11.0
    await probe.send({"type": "ping", "id": 0})
    assert (await probe.next())["type"] == "pong"  # the unwanted change was never sent
    app.state["solar/power_w"] = 0
    msg = await probe.next()
    assert (msg["since"], msg["seq"]) == (snap["seq"], snap["seq"] + 2)


async def test_subscribe_message_replaces_patterns_with_a_new_snapshot(start_live, probes) -> None:
    app = await start_live()
    app.state.update(HOME)
    probe = await probes.ws(app)
    await probe.next()
    await probe.send({"type": "subscribe", "id": 1, "paths": ["solar/*", "*/tv/on"]})
    snap = await probe.next()
    assert snap["state"] == {"solar": {"power_w": 1200}, "plugs": {"tv": {"on": True}}}
    app.state["plugs/lamp/on"] = True
    app.state["plugs/tv/on"] = False
    msg = await probe.next()
    assert msg["changes"] == {"plugs/tv/on": False}
    await probe.send({"type": "subscribe", "id": 2, "paths": ["**"]})
    assert (await probe.next())["state"] == app.state.to_dict()


async def test_removals_are_filtered_too(start_live, probes) -> None:
    app = await start_live()
    app.state.update(HOME)
    probe = await probes.ws(app, "?paths=plugs/**")
    await probe.next()
    del app.state["basement"]
    del app.state["plugs/lamp"]
    msg = await probe.next()
    assert msg["removed"] == ["plugs/lamp/on"]
    assert probe.view.tree == {"plugs": {"tv": {"on": True, "power_w": 80}}}


TOO_MANY = "?" + "&".join(f"paths=p{i}" for i in range(65))


@pytest.mark.parametrize("query", ["?paths=a//b", "?paths=", TOO_MANY])
@pytest.mark.parametrize("route", ["/api/live", "/api/events"])
async def test_bad_url_patterns_are_a_json_400(start_live, probes, query, route) -> None:
    app = await start_live()
    async with probes.session.get(f"{app.url}{route}{query}") as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] in ("invalid_path", "bad_request")
