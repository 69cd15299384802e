"""The plugs on the broker: drivers for the ones added as devices, and the list of those found.

One `Plugs` per bridge listens, through the bridge's connection, to the
report topics of every kind (wildcards for plugs with one-level names, exact
topics for the others), hands each report to the drivers of that plug, and
keeps what it saw as the found list behind `GET /api/mqtt/found` (admin):
each plug with a ready driver spec and whether a device already uses it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web

from roost.core import codec
from roost.core.caller import Scope
from roost.core.errors import InvalidValue, RoostError, Unavailable
from roost.mqtt.adapters.kind import Found, Kind
from roost.mqtt.adapters.plug import MqttPlug
from roost.mqtt.adapters.shelly import Shelly
from roost.mqtt.adapters.tasmota import Tasmota
from roost.mqtt.adapters.zigbee2mqtt import Zigbee2Mqtt
from roost.runtime.component import Component
from roost.runtime.routes import Route

if TYPE_CHECKING:
    from roost.mqtt.bridge import MqttBridge, Subscription

__all__ = ["KINDS", "Plugs"]

log = logging.getLogger(__name__)

KINDS = ("tasmota", "shelly", "zigbee2mqtt")
# A broker full of strangers cannot grow the found list without bound.
MAX_FOUND = 500
# (device id, driver spec) of every device; given by whoever assembles the node.
KnownDevices = Callable[[], Iterable[tuple[str, Mapping[str, Any]]]]


class Plugs(Component):
    """MQTT plugs of every kind on one bridge. Loop only, except `build`.

    Without a bridge (a node with no broker) it only answers the found list, empty.
    """

    name = "mqtt-plugs"

    def __init__(self, bridge: MqttBridge | None, known: KnownDevices | None = None) -> None:
        self.bridge = bridge
        self.known = known or (lambda: ())
        self.z2m = Zigbee2Mqtt()
        self.kinds: dict[str, Kind] = {k.type: k for k in (Tasmota(), Shelly(), self.z2m)}
        self._plugs: dict[tuple[str, str], weakref.WeakSet[MqttPlug]] = {}
        self._found: dict[tuple[str, str], Found] = {}
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()  # build() may run in any thread
        self.reports = 0
        self.ignored = 0
        for kind in self.kinds.values():
            for pattern in kind.filters():
                self._listen(pattern)

    # -- drivers -------------------------------------------------------------------------

    def build(self, spec: Mapping[str, Any]) -> MqttPlug:
        """Return a driver for `{"type": "tasmota" | "shelly" | "zigbee2mqtt", ...}`; raise InvalidValue."""
        kind = self.kinds.get(str(spec.get("type")))
        if self.bridge is None:
            raise Unavailable("MQTT plugs need a broker: start the node with --mqtt mqtt://HOST:1883")
        if kind is None:
            raise InvalidValue(f"no MQTT plug kind {spec.get('type')!r}; kinds: {', '.join(KINDS)}")
        with self._lock:
            bases = set(self.z2m.bases)
            key = kind.key_from_spec(spec)
            plug = MqttPlug(self.bridge, kind, key)
            self._plugs.setdefault((kind.type, key), weakref.WeakSet()).add(plug)
            new_filters = [f for b in self.z2m.bases - bases for f in self.z2m.filters_of(b)]
            topics = [*new_filters, *(t for t in kind.topics(key) if not self._covered(t))]
            for topic in topics:
                self._listen(topic)
        return plug

    def _covered(self, topic: str) -> bool:
        return any(s.matches(topic) for s in self._subscriptions)

    def _listen(self, pattern: str) -> None:
        if self.bridge is None:
            return
        loop = self.bridge.hub.loop
        try:
            on_loop = loop is not None and asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop or not self.bridge.connected or loop is None:
            self._subscriptions.append(self.bridge.subscribe(pattern, self._on_message))
        else:
            # Subscribing sends a packet: from another thread, hand it to the loop.
            loop.call_soon_threadsafe(self._listen, pattern)

    # -- reports ---------------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        heard = False
        for kind in self.kinds.values():
            key = kind.key_of(topic)
            if topic.endswith("/bridge/devices") and kind is self.z2m:
                self._replace_z2m(topic, kind.found(None, topic, payload))
                heard = True
                continue
            if key is None:
                continue
            for other in self._siblings(kind, key, topic):
                # Another relay of the same Shelly: its will and notifications are shared.
                shared = kind.parse(other, topic, payload)
                if shared is not None:
                    for plug in list(self._plugs.get((kind.type, other), ())):
                        plug.hear(shared)
            reading = kind.parse(key, topic, payload)
            if reading is None:
                continue
            heard = True
            for plug in list(self._plugs.get((kind.type, key), ())):
                plug.hear(reading)
            known = self._found.get((kind.type, key))
            if known is not None:
                self._found[(kind.type, key)] = replace(
                    known,
                    online=known.online if reading.online is None else reading.online,
                    on=known.on if reading.on is None else reading.on,
                    power_w=known.power_w if reading.power_w is None else reading.power_w,
                )
            else:
                for found in kind.found(key, topic, payload):
                    self._note(found)
        if heard:
            self.reports += 1
        else:
            self.ignored += 1

    def _siblings(self, kind: Kind, key: str, topic: str) -> list[str]:
        if kind.type != "shelly" or "/status/" in topic:
            return []
        return [k for t, k in self._plugs if t == "shelly" and k.startswith(key + "#")]

    def _note(self, found: Found) -> None:
        if len(self._found) < MAX_FOUND or (found.type, found.key) in self._found:
            self._found[(found.type, found.key)] = found

    def _replace_z2m(self, topic: str, found: list[Found]) -> None:
        base = topic[: -len("/bridge/devices")]
        keep = {
            k: v for k, v in self._found.items() if k[0] != "zigbee2mqtt" or not k[1].startswith(base + "/")
        }
        for f in found:
            old = self._found.get((f.type, f.key))
            keep[(f.type, f.key)] = (
                f if old is None else replace(f, online=old.online, on=old.on, power_w=old.power_w)
            )
        self._found = dict(list(keep.items())[:MAX_FOUND])

    # -- the found list ---------------------------------------------------------------------

    def found(self) -> list[dict[str, Any]]:
        """Return every plug seen on the broker, with its driver spec and the device using it."""
        used: dict[tuple[str, str], str] = {}
        for device_id, spec in self.known():
            kind = self.kinds.get(str(spec.get("type")))
            if kind is None:
                continue
            try:
                used.setdefault((kind.type, kind.key_from_spec(spec)), device_id)
            except RoostError:
                continue
        out = []
        for (kind_type, key), f in sorted(self._found.items()):
            device = used.get((kind_type, key))
            out.append(
                {
                    "type": kind_type,
                    "key": key,
                    "name": f.name,
                    "model": f.model,
                    "online": f.online,
                    "on": f.on,
                    "power_w": f.power_w,
                    "driver": self.kinds[kind_type].spec(key),
                    "added": device is not None,
                    "device": device,
                }
            )
        return out

    def routes(self) -> list[Route]:
        """`GET /api/mqtt/found` (admin)."""
        return [Route("GET", "/api/mqtt/found", self._get_found, Scope.ADMIN, "mqtt_found")]

    async def _get_found(self, request: web.Request) -> web.Response:
        found = self.found()
        body = {
            "broker": self.bridge is not None,
            "connected": self.bridge is not None and self.bridge.connected,
            "count": sum(not f["added"] for f in found),
            "found": found,
        }
        return web.Response(body=codec.dumps(body), content_type="application/json")

    def openapi_paths(self) -> dict[str, Any]:
        """Describe `GET /api/mqtt/found`."""
        return {
            "/api/mqtt/found": {
                "get": {
                    "summary": "Plugs seen on the MQTT broker (Tasmota, Shelly, zigbee2mqtt), each with "
                    "a driver spec for POST /api/devices and whether a device already uses it (admin).",
                    "responses": {
                        "200": {"description": "{broker, connected, count (not yet added), found: [...]}"}
                    },
                }
            }
        }

    def health(self) -> dict[str, Any]:
        """The plugs' entry in /healthz."""
        return {
            "ok": True,
            "plugs": sum(len(s) for s in self._plugs.values()),
            "found": len(self._found),
            "reports": self.reports,
            "ignored": self.ignored,
        }
