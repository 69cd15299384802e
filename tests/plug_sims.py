"""Simulated Tasmota, Shelly Gen2 and zigbee2mqtt plugs: small MQTT clients speaking their topics.

Each connects to the test's Mosquitto with its last will, as the real firmware
does, answers switch commands with a report of the relay, and reports readings
when told (`report(power_w=..., energy=...)`). `mute = True` makes it ignore
commands (a plug out of reach); `crash()` drops its connection without a
goodbye, so the broker publishes its will. Every command it got is kept in
`commands` as (topic, payload, retained).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import aiomqtt

from mqtt_support import Broker


class SimPlug:
    """What every simulated plug shares: the connection, the relay, the commands heard."""

    def __init__(self, broker: Broker, will: aiomqtt.Will, *, power_w: float = 0.0) -> None:
        self.broker = broker
        self.will = will
        self._relay = False
        self.load_w = power_w  # what the appliance draws while the relay is on
        self.measured_w: float | None = None  # a draw the test set: every later report says it
        self.energy = 0.0
        self.mute = False
        self.commands: list[tuple[str, bytes, bool]] = []
        self.client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def relay(self) -> bool:
        """Whether the relay is closed."""
        return self._relay

    @relay.setter
    def relay(self, on: bool) -> None:
        if on != self._relay:
            self.measured_w = None  # the appliance's draw changes with the relay
        self._relay = on

    @property
    def power_w(self) -> float:
        """The draw now: what the test set, else the load while on and nothing while off."""
        if self.measured_w is not None:
            return self.measured_w
        return self.load_w if self.relay else 0.0

    async def start(self) -> None:
        """Connect with the will, say hello, listen for commands."""
        self.client = aiomqtt.Client(
            "127.0.0.1", self.broker.port, protocol=aiomqtt.ProtocolVersion.V311, will=self.will
        )
        await self.client.__aenter__()
        for topic in self.command_filters():
            await self.client.subscribe(topic, qos=1)
        self._task = asyncio.get_running_loop().create_task(self._listen())
        await self.hello()

    async def stop(self) -> None:
        """Disconnect cleanly (the will is not sent)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.__aexit__(None, None, None)
            self.client = None

    async def crash(self) -> None:
        """Drop the connection without DISCONNECT: the broker publishes the will."""
        assert self.client is not None
        sock = self.client._client.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
        await self.stop()

    async def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        """Publish one message as the plug."""
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1, retain=retain)

    async def _listen(self) -> None:
        assert self.client is not None
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in self.client.messages:
                payload = bytes(message.payload) if isinstance(message.payload, (bytes, bytearray)) else b""
                self.commands.append((str(message.topic), payload, message.retain))
                if not self.mute:
                    await self.on_command(str(message.topic), payload)

    async def switch_here(self, on: bool) -> None:
        """Switch at the plug's own button: it reports as after a command."""
        self.relay = on
        await self.report_relay()

    # -- what each kind says -----------------------------------------------------------

    def command_filters(self) -> list[str]:
        raise NotImplementedError

    async def hello(self) -> None:
        raise NotImplementedError

    async def on_command(self, topic: str, payload: bytes) -> None:
        raise NotImplementedError

    async def report_relay(self) -> None:
        raise NotImplementedError

    async def report(self, power_w: float | None = None, energy: float | None = None) -> None:
        raise NotImplementedError


class SimTasmota(SimPlug):
    """A Tasmota plug with Topic `topic` (energy in kWh)."""

    def __init__(self, broker: Broker, topic: str, *, power_w: float = 0.0) -> None:
        super().__init__(broker, aiomqtt.Will(f"tele/{topic}/LWT", b"Offline", 1, True), power_w=power_w)
        self.topic = topic

    def command_filters(self) -> list[str]:
        return [f"cmnd/{self.topic}/#"]

    async def hello(self) -> None:
        await self.publish(f"tele/{self.topic}/LWT", "Online", retain=True)
        await self.publish(
            f"tele/{self.topic}/STATE", json.dumps({"POWER": self._word(), "Wifi": {"RSSI": 70}})
        )

    def _word(self) -> str:
        return "ON" if self.relay else "OFF"

    async def on_command(self, topic: str, payload: bytes) -> None:
        if topic != f"cmnd/{self.topic}/POWER":
            return
        word = payload.decode().strip().upper()
        if word in ("ON", "1"):
            self.relay = True
        elif word in ("OFF", "0"):
            self.relay = False
        await self.publish(f"stat/{self.topic}/RESULT", json.dumps({"POWER": self._word()}))
        await self.report_relay()

    async def report_relay(self) -> None:
        await self.publish(f"stat/{self.topic}/POWER", self._word())

    async def report(self, power_w: float | None = None, energy: float | None = None) -> None:
        if energy is not None:
            self.energy = energy
        if power_w is not None:
            self.measured_w = power_w
        body = {
            "Time": "2026-12-01T12:00:00",
            "ENERGY": {"Total": self.energy, "Power": self.power_w, "Voltage": 230},
        }
        await self.publish(f"tele/{self.topic}/SENSOR", json.dumps(body))


class SimShelly(SimPlug):
    """A Shelly Plus Plug S with MQTT prefix `prefix` (energy in Wh, as Shelly counts it)."""

    def __init__(self, broker: Broker, prefix: str, *, power_w: float = 0.0) -> None:
        super().__init__(broker, aiomqtt.Will(f"{prefix}/online", b"false", 1, True), power_w=power_w)
        self.prefix = prefix

    def command_filters(self) -> list[str]:
        return [f"{self.prefix}/command/#"]

    async def hello(self) -> None:
        await self.publish(f"{self.prefix}/online", "true", retain=True)
        await self.report_relay()

    def _status(self) -> dict[str, Any]:
        return {
            "id": 0,
            "source": "MQTT",
            "output": self.relay,
            "apower": self.power_w,
            "voltage": 231.2,
            "aenergy": {"total": self.energy * 1000, "by_minute": [0.0, 0.0, 0.0], "minute_ts": 1764590400},
            "temperature": {"tC": 31.4, "tF": 88.5},
        }

    async def on_command(self, topic: str, payload: bytes) -> None:
        if topic != f"{self.prefix}/command/switch:0":
            return
        word = payload.decode().strip()
        if word in ("on", "off"):
            self.relay = word == "on"
        await self.report_relay()

    async def report_relay(self) -> None:
        status = self._status()
        await self.publish(f"{self.prefix}/status/switch:0", json.dumps(status))
        note = {"src": self.prefix, "dst": f"{self.prefix}/events", "method": "NotifyStatus"}
        await self.publish(
            f"{self.prefix}/events/rpc",
            json.dumps({**note, "params": {"ts": 1764590400.5, "switch:0": status}}),
        )

    async def report(self, power_w: float | None = None, energy: float | None = None) -> None:
        if energy is not None:
            self.energy = energy
        if power_w is not None:
            self.measured_w = power_w
        await self.publish(f"{self.prefix}/status/switch:0", json.dumps(self._status()))


class SimZigbee2Mqtt(SimPlug):
    """A zigbee2mqtt bridge (base `zigbee2mqtt`) with one plug, `name` (availability as 2.0 says it)."""

    def __init__(self, broker: Broker, name: str, *, power_w: float = 0.0, base: str = "zigbee2mqtt") -> None:
        super().__init__(
            broker, aiomqtt.Will(f"{base}/bridge/state", b'{"state":"offline"}', 1, True), power_w=power_w
        )
        self.name = name
        self.base = base

    def command_filters(self) -> list[str]:
        return [f"{self.base}/{self.name}/set"]

    async def hello(self) -> None:
        await self.publish(f"{self.base}/bridge/state", '{"state":"online"}', retain=True)
        await self.publish(f"{self.base}/bridge/devices", json.dumps(self.device_list()), retain=True)
        await self.available(True)
        await self.report_relay()

    def device_list(self) -> list[dict[str, Any]]:
        """What zigbee2mqtt retains on bridge/devices: the coordinator, a sensor and the plug."""
        switch = {
            "type": "switch",
            "features": [
                {
                    "type": "binary",
                    "name": "state",
                    "property": "state",
                    "access": 7,
                    "value_on": "ON",
                    "value_off": "OFF",
                }
            ],
        }
        power = {"type": "numeric", "name": "power", "property": "power", "access": 5, "unit": "W"}
        return [
            {"ieee_address": "0x00124b0000000001", "type": "Coordinator", "friendly_name": "Coordinator"},
            {
                "ieee_address": "0x00158d0000000002",
                "type": "EndDevice",
                "friendly_name": "hall/thermometer",
                "definition": {
                    "model": "WSDCGQ11LM",
                    "vendor": "Aqara",
                    "exposes": [
                        {"type": "numeric", "name": "temperature", "property": "temperature", "access": 1}
                    ],
                },
            },
            {
                "ieee_address": "0x0017880000000003",
                "type": "Router",
                "friendly_name": self.name,
                "definition": {"model": "E1603", "vendor": "IKEA", "exposes": [switch, power]},
            },
        ]

    async def available(self, online: bool) -> None:
        """What zigbee2mqtt publishes when the plug answers again, or stops answering its pings."""
        state = "online" if online else "offline"
        await self.publish(f"{self.base}/{self.name}/availability", json.dumps({"state": state}), retain=True)

    async def on_command(self, topic: str, payload: bytes) -> None:
        try:
            body = json.loads(payload)
        except ValueError:
            return
        state = body.get("state") if isinstance(body, dict) else None
        if state in ("ON", "OFF"):
            self.relay = state == "ON"
            await self.report_relay()

    async def report_relay(self) -> None:
        await self.report()

    async def report(self, power_w: float | None = None, energy: float | None = None) -> None:
        if energy is not None:
            self.energy = energy
        if power_w is not None:
            self.measured_w = power_w
        body = {
            "state": "ON" if self.relay else "OFF",
            "power": self.power_w,
            "energy": self.energy,
            "linkquality": 120,
        }
        await self.publish(f"{self.base}/{self.name}", json.dumps(body))
