"""`roost demo --mqtt`: the demo home on a real broker, seen and switched from Home Assistant's side."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from mqtt_support import Broker, probe
from roost.testing import eventually
from support import RoostProcess

WAIT_S = 20.0


async def test_the_demo_home_shows_up_and_switches_from_home_assistant(
    roost_process: type[RoostProcess], broker: Broker, tmp_path: Path
) -> None:
    node = roost_process(["demo", "--mqtt", f"mqtt://bob:s3cret-pw@127.0.0.1:{broker.port}"])
    await asyncio.to_thread(node.wait_ready)  # a blocking wait: off the loop
    async with probe(broker) as ha:
        await ha.watch("homeassistant/#", "roost/demo/#")
        await eventually(lambda: ha.last.get("roost/demo/status") == b"online", WAIT_S)
        await eventually(lambda: "homeassistant/sensor/demo/outside_temperature/config" in ha.last, WAIT_S)
        devices = await eventually(
            lambda: {t: json.loads(v) for t, v in ha.last.items() if t.startswith("homeassistant/device/")},
            WAIT_S,
        )
        tv = next(c for c in devices.values() if "tv" in c["components"]["switch"]["payload_on"])
        switch = tv["components"]["switch"]
        assert {"switch", "power"} <= set(tv["components"])
        await ha.publish(switch["command_topic"], switch["payload_on"])
        await eventually(lambda: ha.last.get(switch["state_topic"]) == b"true", WAIT_S)
    assert "s3cret-pw" not in node.output()
