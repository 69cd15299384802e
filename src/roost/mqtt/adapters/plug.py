"""One MQTT plug as a roost driver: it switches by publishing and confirms by what the plug reports."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from roost.core.driver import Push, Reading
from roost.core.errors import Unavailable
from roost.mqtt.adapters.kind import Kind

if TYPE_CHECKING:
    from roost.mqtt.bridge import MqttBridge

__all__ = ["MqttPlug"]

# How often a plug whose relay is unknown is asked for it (from the devices' polls).
QUERY_EVERY_S = 60.0


class MqttPlug:
    """An `AsyncDriver`, `Pushing` and `Described`: a Tasmota, Shelly or zigbee2mqtt plug.

    `switch` publishes the kind's command and returns once the plug reports the
    relay in that state; the devices' confirm timeout ends a wait for a plug
    that never does. Readings are pushed as they arrive.
    """

    def __init__(self, bridge: MqttBridge, kind: Kind, key: str) -> None:
        self._bridge = bridge
        self.kind = kind
        self.key = key
        self.on: bool | None = None
        self.online: bool | None = None
        self._availability_known = False
        self._push: Push | None = None
        self._waiters: list[tuple[bool, asyncio.Future[bool]]] = []
        self._queried_at = -math.inf

    def __repr__(self) -> str:
        return f"<MqttPlug {self.kind.type} {self.key!r}>"

    # -- the driver protocol ---------------------------------------------------------

    async def switch(self, on: bool) -> bool:
        """Publish the command and wait for the plug to report its relay so. Loop only."""
        bridge = self._bridge
        if not bridge.connected:
            raise Unavailable(f"the MQTT broker {bridge.settings.display_url} is not connected")
        waiter: tuple[bool, asyncio.Future[bool]] = (on, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            command = self.kind.command(self.key, on)
            bridge.publish(command.topic, command.payload, command.qos, retain=False)
            return await waiter[1]
        finally:
            self._waiters.remove(waiter)

    async def read(self) -> Reading:
        """Return the relay and availability last heard (offline while the broker is away). Loop only."""
        bridge = self._bridge
        if not bridge.connected:
            return Reading(online=False)
        if self.on is None:
            now = bridge.hub.clock.monotonic()
            query = self.kind.query(self.key)
            if query is not None and now - self._queried_at >= QUERY_EVERY_S:
                self._queried_at = now
                bridge.publish(query.topic, query.payload, query.qos, retain=False)
        return Reading(on=self.on, online=bool(self.online))

    def attach(self, push: Push) -> None:
        """Push each reading the plug reports from now on."""
        self._push = push

    def spec(self) -> dict[str, Any]:
        """The JSON spec this plug was built from."""
        return self.kind.spec(self.key)

    # -- what the plugs' dispatcher calls ------------------------------------------------

    def hear(self, reading: Reading) -> None:
        """Take one report of this plug. Loop only."""
        if reading.online is not None:
            self._availability_known = True
        elif self.online is not True and (self.kind.reports_prove_online or not self._availability_known):
            # A plug that reports is there (unless a bridge that speaks for it says otherwise).
            reading = replace(reading, online=True)
        if reading.online is not None:
            self.online = reading.online
        if reading.on is not None:
            self.on = reading.on
            for want, future in self._waiters:
                if want == reading.on and not future.done():
                    future.set_result(reading.on)
        if self._push is not None:
            self._push(reading)
