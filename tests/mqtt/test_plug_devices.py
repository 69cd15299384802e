"""The issue's done-when: a Tasmota plug found on the broker, added, runs on a schedule with the standby killer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mqtt_support import WAIT_S, Broker
from plug_sims import SimTasmota
from roost import App
from roost.core.weekgrid import constant_week, paint
from roost.core.weekplan import Schedule
from roost.testing import Harness, HttpError, eventually, fake_clock

TZ = ZoneInfo("Europe/Amsterdam")
# On from 18:00 to 23:30 every day, with the standby killer at 8 W.
EVENINGS = Schedule("evenings", paint(constant_week(), range(7), "18:00", "23:30", 8))


@pytest.fixture
async def kettle(broker: Broker) -> AsyncIterator[SimTasmota]:
    sim = SimTasmota(broker, "tasmota_A1B2C3", power_w=60.0)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def home(tmp_path: Path, broker: Broker) -> AsyncIterator[Harness]:
    # Tuesday 1 December 2026, 18:10 in Amsterdam: inside the evening's W slot.
    app = App(
        "home",
        data_dir=tmp_path / "data",
        port=0,
        timezone="Europe/Amsterdam",
        clock=fake_clock("2026-12-01 18:10", TZ),
        mqtt=broker.url,
    )
    app.devices.add_schedule(EVENINGS)
    async with Harness(app) as harness:
        await eventually(lambda: app.mqtt is not None and app.mqtt.connected, WAIT_S)
        yield harness


async def test_a_found_tasmota_plug_added_runs_its_schedule_and_the_standby_killer_cuts_it(
    home: Harness, kettle: SimTasmota
) -> None:
    found = await eventually(lambda: _found(home), WAIT_S)
    [plug] = found["found"]
    assert (found["count"], plug["added"]) == (1, False)
    body = {
        "name": "Kettle",
        "location": "Kitchen",
        "category": "kitchen",
        "driver": plug["driver"],
        "schedule": "evenings",
        "standby_hold_s": 60,
        "start_grace_s": 0,
    }
    device = await home.post("/api/devices", body)
    assert device["id"] == "kettle" and device["driver"] == {"type": "tasmota", "topic": "tasmota_A1B2C3"}
    # The schedule's slot says on: roost sends POWER ON, the plug confirms, the page shows it.
    await eventually(lambda: home.state.get("devices/kettle/on") is True, WAIT_S)
    assert kettle.relay is True and ("cmnd/tasmota_A1B2C3/POWER", b"ON", False) in kettle.commands
    await kettle.report(power_w=60.0, energy=0.5)
    await eventually(lambda: home.state.get("devices/kettle/power_w") == 60.0, WAIT_S)
    # The kettle is done: it draws 1.5 W, and keeps drawing it past the hold time.
    await kettle.report(power_w=1.5)
    await eventually(lambda: home.state.get("devices/kettle/power_w") == 1.5, WAIT_S)
    await home.advance(seconds=61)
    await kettle.report(power_w=1.5)
    await eventually(lambda: kettle.relay is False, WAIT_S)
    await eventually(lambda: home.state.get("devices/kettle/on") is False, WAIT_S)
    assert kettle.commands[-1] == ("cmnd/tasmota_A1B2C3/POWER", b"OFF", False)
    events = await home.get("/api/devices/kettle/events")
    assert [e["cause"] for e in events["events"]][:2] == ["standby_killer", "schedule"]
    again = await home.get("/api/mqtt/found")
    assert (again["count"], again["found"][0]["device"]) == (0, "kettle")


async def _found(home: Harness) -> dict[str, Any] | None:
    found = await home.get("/api/mqtt/found")
    return found if found["found"] else None


@pytest.mark.parametrize(
    ("driver", "field"),
    [
        ({"type": "tasmota"}, "driver.topic"),
        ({"type": "tasmota", "topic": "a/+/b"}, "driver.topic"),
        ({"type": "tasmota", "topic": 7}, "driver.topic"),
        ({"type": "shelly", "prefix": "shellyplug-1", "switch": 1.5}, "driver.switch"),
        ({"type": "zigbee2mqtt", "name": "bridge/devices"}, "driver.name"),
        ({"type": "tasmota", "topic": "x", "retain": True}, "driver.retain"),
    ],
)
async def test_a_bad_plug_spec_is_refused_and_adds_nothing(
    home: Harness, driver: dict[str, Any], field: str
) -> None:
    with pytest.raises(HttpError) as refused:
        await home.post("/api/devices", {"name": "Bad", "driver": driver})
    assert refused.value.status == 422
    assert refused.value.body["error"]["argument"] == field
    assert (await home.get("/api/devices"))["devices"] == []
