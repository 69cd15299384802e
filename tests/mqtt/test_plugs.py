"""Tasmota, Shelly and zigbee2mqtt plugs as roost devices, against simulated plugs on a real Mosquitto."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from mqtt_support import WAIT_S, Broker, probe
from plug_sims import SimPlug, SimShelly, SimTasmota, SimZigbee2Mqtt
from roost import App
from roost.core.caller import Caller, Scope
from roost.devices.driver import Absent, build_driver
from roost.runtime.routes import Route
from roost.testing import eventually
from roost.web.server import WebServer, WebSettings

SPECS: dict[str, Callable[[Broker], tuple[SimPlug, dict[str, Any]]]] = {
    "tasmota": lambda b: (
        SimTasmota(b, "tasmota_A1B2C3", power_w=60.0),
        {"type": "tasmota", "topic": "tasmota_A1B2C3"},
    ),
    "shelly": lambda b: (
        SimShelly(b, "shellyplusplugs-a0b1c2d3e4f5", power_w=60.0),
        {"type": "shelly", "prefix": "shellyplusplugs-a0b1c2d3e4f5"},
    ),
    "zigbee2mqtt": lambda b: (
        SimZigbee2Mqtt(b, "kitchen/kettle", power_w=60.0),
        {"type": "zigbee2mqtt", "name": "kitchen/kettle"},
    ),
}


@pytest.fixture
async def sims() -> AsyncIterator[list[SimPlug]]:
    """Started simulated plugs, stopped after the test."""
    started: list[SimPlug] = []
    yield started
    for sim in started:
        await sim.stop()


async def plug_node(bridged: App, sims: list[SimPlug], broker: Broker, kind: str, **settings: Any) -> SimPlug:
    sim, spec = SPECS[kind](broker)
    await sim.start()
    sims.append(sim)
    assert bridged.mqtt_plugs is not None
    bridged.device("plug", bridged.mqtt_plugs.build(spec), name="Plug", **settings)
    await bridged.start()
    await eventually(lambda: bridged.state.get("devices/plug/online") is True, WAIT_S)
    return sim


@pytest.mark.parametrize("kind", sorted(SPECS))
async def test_a_switch_from_roost_reaches_the_plug_and_shows_what_it_confirms(
    bridged: App, broker: Broker, sims: list[SimPlug], kind: str
) -> None:
    sim = await plug_node(bridged, sims, broker, kind)
    try:
        await bridged.devices.switch("plug", True)
        assert sim.relay is True
        assert bridged.state["devices/plug/on"] is True
        assert all(not retained for _, _, retained in sim.commands)  # never a retained command
        await sim.switch_here(False)  # its own button
        await eventually(lambda: bridged.state["devices/plug/on"] is False, WAIT_S)
    finally:
        await bridged.stop()


@pytest.mark.parametrize("kind", sorted(SPECS))
async def test_power_and_energy_land_under_the_device(
    bridged: App, broker: Broker, sims: list[SimPlug], kind: str
) -> None:
    sim = await plug_node(bridged, sims, broker, kind)
    try:
        await sim.report(power_w=42.5, energy=1.25)
        await eventually(lambda: bridged.state.get("devices/plug/power_w") == 42.5, WAIT_S)
        assert bridged.state["devices/plug/energy_kwh"] == 1.25  # Shelly's Wh counted as kWh
    finally:
        await bridged.stop()


@pytest.mark.parametrize("kind", sorted(SPECS))
async def test_a_plug_that_goes_away_is_offline(
    bridged: App, broker: Broker, sims: list[SimPlug], kind: str
) -> None:
    sim = await plug_node(bridged, sims, broker, kind)
    try:
        if isinstance(sim, SimZigbee2Mqtt):
            await sim.available(False)  # zigbee2mqtt says so for a plug that stops answering
        else:
            await sim.crash()  # the broker publishes its will
        await eventually(lambda: bridged.state["devices/plug/online"] is False, WAIT_S)
    finally:
        await bridged.stop()


async def test_a_plug_that_does_not_confirm_fails_the_switch(
    bridged: App, broker: Broker, sims: list[SimPlug]
) -> None:
    from roost.devices.base import NoConfirmation

    sim = await plug_node(bridged, sims, broker, "tasmota", confirm_timeout_s=0.5)
    sim.mute = True
    try:
        with pytest.raises(NoConfirmation):
            await bridged.devices.switch("plug", True)
        assert bridged.state.get("devices/plug/on") is not True
        assert "no confirmation" in bridged.state["devices/plug/error"]
        assert [c for c in sim.commands if c[0].startswith("cmnd/")][-1][:2] == (
            "cmnd/tasmota_A1B2C3/POWER",
            b"ON",
        )
    finally:
        await bridged.stop()


BAD = [b"", b"not json", b"{", b"[1,2]", b'"ON"', b"null", b"\xff\xfe", b'{"POWER": 7}', b"x" * 1_000_000]


async def test_bad_payloads_on_plug_topics_change_nothing_and_crash_nothing(
    bridged: App, broker: Broker, sims: list[SimPlug]
) -> None:
    sim = await plug_node(bridged, sims, broker, "tasmota")
    t = "tasmota_A1B2C3"
    try:
        await bridged.devices.switch("plug", False)  # its relay known before the snapshot
        await sim.report(power_w=5.0, energy=2.0)
        await eventually(lambda: bridged.state.get("devices/plug/power_w") == 5.0, WAIT_S)
        before = bridged.state["devices/plug"]
        wrong_types = [
            (f"tele/{t}/SENSOR", b'{"ENERGY": {"Power": "lots", "Total": true}}'),
            (f"tele/{t}/SENSOR", b'{"ENERGY": [1]}'),
            (f"tele/{t}/SENSOR", b'{"ENERGY": {"Power": NaN}}'),
            (f"tele/{t}/STATE", b'{"POWER": ["ON"]}'),
            (f"stat/{t}/POWER", b"MAYBE"),
            (f"tele/{t}/LWT", b"Gone fishing"),
            ("shellyplusplugs-x/status/switch:0", b'{"output": "yes", "apower": {}}'),
            ("zigbee2mqtt/bridge/devices", b'{"not": "a list"}'),
            ("zigbee2mqtt/kettle", b'{"state": 1, "power": "x"}'),
        ]
        async with probe(broker) as stranger:
            for topic in (f"tele/{t}/SENSOR", f"tele/{t}/STATE", f"stat/{t}/POWER", f"tele/{t}/LWT"):
                for payload in BAD:
                    await stranger.publish(topic, payload)
            for topic, payload in wrong_types:
                await stranger.publish(topic, payload)
            await stranger.publish(f"tele/{t}/SENSOR", b'{"ENERGY": {"Power": 6.5}}')  # a good one last
        await eventually(lambda: bridged.state["devices/plug/power_w"] == 6.5, WAIT_S)
        after = bridged.state["devices/plug"]
        assert {k: v for k, v in after.items() if k != "power_w"} == {
            k: v for k, v in before.items() if k != "power_w"
        }
        assert bridged.mqtt is not None and bridged.mqtt.connected
        assert bridged.mqtt_plugs is not None and bridged.mqtt_plugs.ignored >= len(BAD)
        await bridged.devices.switch("plug", True)  # still drives the plug
        assert sim.relay is True
    finally:
        await bridged.stop()


async def test_without_a_broker_a_plug_device_is_offline_and_says_why(tmp_path: Path) -> None:
    app = App("nobroker", data_dir=tmp_path, port=None)
    await app.start()
    try:
        driver = build_driver({"type": "shelly", "prefix": "shellyplusplugs-a0b1c2d3e4f5"})
        assert isinstance(driver, Absent)
        assert "--mqtt" in driver.why and "shelly" in driver.why
        assert driver.spec() == {"type": "shelly", "prefix": "shellyplusplugs-a0b1c2d3e4f5"}
    finally:
        await app.stop()


async def test_the_found_list_names_each_kind_with_a_ready_spec(
    bridged: App, broker: Broker, sims: list[SimPlug]
) -> None:
    for kind in sorted(SPECS):
        sim, _ = SPECS[kind](broker)
        await sim.start()
        sims.append(sim)
    assert bridged.mqtt_plugs is not None
    plugs = bridged.mqtt_plugs
    bridged.device("kettle", plugs.build({"type": "zigbee2mqtt", "name": "kitchen/kettle"}))
    await bridged.start()
    try:
        found = await eventually(lambda: len(plugs.found()) == 3 and plugs.found(), WAIT_S)
        by_type = {f["type"]: f for f in found}
        assert by_type["tasmota"]["driver"] == {"type": "tasmota", "topic": "tasmota_A1B2C3"}
        assert by_type["shelly"]["driver"] == {
            "type": "shelly",
            "prefix": "shellyplusplugs-a0b1c2d3e4f5",
            "switch": 0,
        }
        assert by_type["zigbee2mqtt"]["driver"] == {
            "type": "zigbee2mqtt",
            "name": "kitchen/kettle",
            "base": "zigbee2mqtt",
        }
        assert (
            by_type["zigbee2mqtt"]["model"] == "IKEA E1603"
        )  # the thermometer and coordinator are not plugs
        assert (by_type["zigbee2mqtt"]["added"], by_type["zigbee2mqtt"]["device"]) == (True, "kettle")
        assert not by_type["tasmota"]["added"] and by_type["tasmota"]["online"] is True
        assert not by_type["shelly"]["added"]
        # A found spec builds a driver for exactly that plug.
        assert build_driver(by_type["tasmota"]["driver"]).spec() == by_type["tasmota"]["driver"]  # type: ignore[union-attr]
    finally:
        await bridged.stop()


def caller_by_header(request: web.Request, route: Route | None) -> Caller:
    return Caller(
        "http", request.remote or "", "tester", Scope.parse(request.headers.get("X-Test-Scope", "read"))
    )


@pytest.mark.parametrize(("scope", "status"), [("read", 403), ("control", 403), ("admin", 200)])
async def test_the_found_list_is_for_admins(
    bridged: App, broker: Broker, sims: list[SimPlug], scope: str, status: int
) -> None:
    sim, _ = SPECS["tasmota"](broker)
    await sim.start()
    sims.append(sim)
    await bridged.start()
    server = WebServer(bridged.hub, WebSettings(port=0), identify=caller_by_header)
    await server.start()
    try:
        assert bridged.mqtt_plugs is not None
        await eventually(lambda: bridged.mqtt_plugs.found(), WAIT_S)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.port}/api/mqtt/found"
            async with http.get(url, headers={"X-Test-Scope": scope}) as r:
                body = await r.json()
                assert r.status == status
            async with http.post(url, json={}, headers={"X-Test-Scope": "admin"}) as r:
                assert r.status == 405 and "error" in await r.json()  # nothing to change here
        if status == 200:
            assert body["broker"] is True and body["connected"] is True and body["count"] == 1
            assert body["found"][0]["driver"] == {"type": "tasmota", "topic": "tasmota_A1B2C3"}
        else:
            assert body["error"]["code"] == "forbidden"
    finally:
        await server.stop()
        await bridged.stop()


async def test_without_a_broker_the_found_list_is_empty(served: App) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{served.url}/api/mqtt/found") as r:
        assert r.status == 200
        assert await r.json() == {"broker": False, "connected": False, "count": 0, "found": []}
