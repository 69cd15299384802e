"""Home Assistant's side: a client that reads discovery configs and switches through them."""

from __future__ import annotations

import json
from pathlib import Path

from mqtt_support import Broker, Probe, probe, start_connected
from roost import App
from roost.testing import eventually

WAIT_S = 10.0
SENSOR = "homeassistant/sensor/home/rooms_kitchen/config"
DEVICE = "homeassistant/device/home_plugs_kettle/config"


def home(tmp_path: Path, broker: Broker, **fields: object) -> App:
    """A node with a kitchen thermometer and a kettle plug (switch, power, energy)."""
    app = App("home", data_dir=tmp_path / "data", port=None, history=False)
    app.enable_mqtt(broker.url, **fields)
    app.meta("rooms/kitchen", kind="temperature", unit="°C", label="Kitchen")
    app.meta("rooms/note", label="a string")  # no kind and unit: no sensor
    app.meta(
        "plugs/kettle/on",
        kind="switch",
        label="Kettle",
        command="switch",
        command_args={"name": "kettle"},
        power="plugs/kettle/power_w",
    )
    app.meta("plugs/kettle/power_w", kind="power", unit="W")
    app.meta("plugs/kettle/energy_kwh", kind="energy", unit="kWh")
    app.state["rooms"] = {"kitchen": 21.5, "note": "hello"}
    app.state["plugs/kettle"] = {"on": False, "power_w": 0.0, "energy_kwh": 1.25}

    @app.command
    def switch(name: str, on: bool) -> bool:
        """The kettle's relay, confirmed at once."""
        app.state.update(f"plugs/{name}", {"on": on, "power_w": 2000.0 if on else 0.0})
        return on

    return app


def config(p: Probe, topic: str) -> dict[str, object]:
    return json.loads(p.last[topic])  # type: ignore[no-any-return]


async def test_a_sensor_config_has_its_class_unit_and_availability(tmp_path: Path, broker: Broker) -> None:
    app = home(tmp_path, broker)
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("homeassistant/#")
            await eventually(lambda: SENSOR in ha.last, WAIT_S)
            cfg = config(ha, SENSOR)
            assert cfg["device_class"] == "temperature"
            assert cfg["state_class"] == "measurement"
            assert cfg["unit_of_measurement"] == "°C"
            assert cfg["state_topic"] == "roost/home/state/rooms/kitchen"
            assert cfg["availability_topic"] == "roost/home/status"
            assert not any("rooms_note" in t for t in ha.last)
    finally:
        await app.stop()


async def test_a_switch_toggled_in_home_assistant_switches_and_shows_the_confirmed_state(
    tmp_path: Path, broker: Broker
) -> None:
    app = home(tmp_path, broker)
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("homeassistant/#", "roost/home/state/#")
            await eventually(lambda: DEVICE in ha.last, WAIT_S)
            components = config(ha, DEVICE)["components"]
            assert set(components) == {"switch", "power", "energy"}  # type: ignore[arg-type]
            switch = components["switch"]  # type: ignore[index]
            assert components["energy"]["state_topic"] == "roost/home/state/plugs/kettle/energy_kwh"  # type: ignore[index]
            await ha.publish(switch["command_topic"], switch["payload_on"])
            state_topic = switch["state_topic"]
            await eventually(lambda: ha.last.get(state_topic) == switch["state_on"].encode(), WAIT_S)
            assert app.state["plugs/kettle/on"] is True
            await eventually(lambda: ha.last["roost/home/state/plugs/kettle/power_w"] == b"2000.0", WAIT_S)
            await ha.publish(switch["command_topic"], switch["payload_off"])
            await eventually(lambda: ha.last.get(state_topic) == switch["state_off"].encode(), WAIT_S)
    finally:
        await app.stop()


async def test_discovery_is_sent_again_when_home_assistant_comes_online(
    tmp_path: Path, broker: Broker
) -> None:
    app = home(tmp_path, broker)
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("homeassistant/sensor/#")
            await eventually(lambda: SENSOR in ha.last, WAIT_S)
            before = sum(1 for t, _, _ in ha.received if t == SENSOR)
            await ha.publish("homeassistant/status", b"online")
            await eventually(lambda: sum(1 for t, _, _ in ha.received if t == SENSOR) > before, WAIT_S)
    finally:
        await app.stop()


async def test_a_removed_device_is_removed_from_home_assistant(tmp_path: Path, broker: Broker) -> None:
    app = home(tmp_path, broker)
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("homeassistant/#")
            await eventually(lambda: DEVICE in ha.last and ha.last[DEVICE] != b"", WAIT_S)
            del app.state["plugs/kettle"]
            await eventually(lambda: ha.last[DEVICE] == b"", WAIT_S)
        async with probe(broker) as late:  # the retained config is gone too
            await late.watch("homeassistant/#")
            await eventually(lambda: SENSOR in late.last, WAIT_S)
            assert DEVICE not in late.last
    finally:
        await app.stop()


async def test_a_plugs_power_and_energy_are_components_not_sensors_of_their_own(
    tmp_path: Path, broker: Broker
) -> None:
    app = home(tmp_path, broker)
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("homeassistant/#")
            await eventually(lambda: DEVICE in ha.last and SENSOR in ha.last, WAIT_S)
            assert not any("kettle" in t for t in ha.last if t.startswith("homeassistant/sensor/"))
    finally:
        await app.stop()


async def test_discovery_off(tmp_path: Path, broker: Broker) -> None:
    app = home(tmp_path, broker, discovery=False)
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("homeassistant/#", "roost/home/state/rooms/#")
            await eventually(lambda: "roost/home/state/rooms/kitchen" in ha.last, WAIT_S)
            assert not any(t.startswith("homeassistant/") for t in ha.last)
    finally:
        await app.stop()


async def test_discovery_under_another_prefix(tmp_path: Path, broker: Broker) -> None:
    app = home(tmp_path, broker, discovery_prefix="ha")
    await start_connected(app)
    try:
        async with probe(broker) as ha:
            await ha.watch("ha/#", "homeassistant/#")
            await eventually(lambda: "ha/sensor/home/rooms_kitchen/config" in ha.last, WAIT_S)
            assert not any(t.startswith("homeassistant/") for t in ha.last)
    finally:
        await app.stop()
