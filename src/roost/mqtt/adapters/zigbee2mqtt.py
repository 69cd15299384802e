"""Zigbee plugs through zigbee2mqtt: `<base>/<name>`, `<base>/<name>/set`, `<base>/<name>/availability`.

`<base>` is zigbee2mqtt's base topic (`zigbee2mqtt` unless its configuration
says otherwise), `<name>` the device's friendly name. A device's state is a
JSON object (`state` `ON`/`OFF`, `power` in W, `energy` in kWh); `/set`
takes `{"state": "ON"}`; availability is `{"state": "online"}` since
zigbee2mqtt 2.0 (the bare word before, still read). `<base>/bridge/devices`,
retained, lists every device with what it exposes: a plug exposes a
`switch` with a `state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from roost.core import codec
from roost.core.driver import DriverField, Reading
from roost.core.errors import InvalidValue, RoostError
from roost.mqtt.adapters.kind import Command, Found, as_number, as_word, check_level, json_object

__all__ = ["DEFAULT_BASE", "Zigbee2Mqtt"]

DEFAULT_BASE = "zigbee2mqtt"
# bridge/devices lists every device with its exposes: a big network's list runs to megabytes.
MAX_DEVICE_LIST_BYTES = 8 * 1024 * 1024
_RELAY = {"ON": True, "OFF": False}
_NOT_DEVICES = ("/set", "/get", "/availability")


class Zigbee2Mqtt:
    """The zigbee2mqtt kind, for the base topics it was told of. Keys are `<base>/<name>`."""

    type = "zigbee2mqtt"
    doc = "A Zigbee plug through zigbee2mqtt (<base>/<name>, <base>/<name>/set)"
    fields: tuple[DriverField, ...] = (
        DriverField("name", "string", "the device's friendly name in zigbee2mqtt", required=True),
        DriverField("base", "string", "zigbee2mqtt's base topic", default=DEFAULT_BASE),
    )
    # zigbee2mqtt may publish a device's last state while the device is gone.
    reports_prove_online = False

    def __init__(self) -> None:
        self.bases: set[str] = {DEFAULT_BASE}

    def filters(self) -> tuple[str, ...]:
        """Each base's device states, availability and device list (one-level names)."""
        return tuple(f for b in sorted(self.bases) for f in self.filters_of(b))

    def filters_of(self, base: str) -> tuple[str, ...]:
        """The filters of one base topic."""
        return (f"{base}/+", f"{base}/+/availability", f"{base}/bridge/devices")

    def key_of(self, topic: str) -> str | None:
        """`<base>/<name>` for a device's state or availability; None for the bridge's own topics."""
        base = self._base_of(topic)
        if base is None:
            return None
        rest = topic[len(base) + 1 :]
        if rest.endswith("/availability"):
            rest = rest[: -len("/availability")]
        elif rest.endswith(_NOT_DEVICES):
            return None
        if not rest or rest == "bridge" or rest.startswith("bridge/"):
            return None
        return f"{base}/{rest}"

    def topics(self, key: str) -> tuple[str, ...]:
        """The state and availability topics of plug `key`."""
        return (key, f"{key}/availability")

    def parse(self, key: str, topic: str, payload: bytes) -> Reading | None:
        """Read a state object or an availability message."""
        if topic.endswith("/availability") and topic != key:
            body = json_object(payload)
            word = body.get("state") if body is not None else as_word(payload)
            word = word.upper() if isinstance(word, str) else None
            return Reading(online=word == "ONLINE") if word in ("ONLINE", "OFFLINE") else None
        body = json_object(payload)
        if body is None:
            return None
        state = body.get("state")
        on = _RELAY.get(state.upper()) if isinstance(state, str) else None
        power_w, energy = as_number(body.get("power")), as_number(body.get("energy"))
        if on is None and power_w is None and energy is None:
            return None
        return Reading(on=on, power_w=power_w, energy_kwh=energy)

    def command(self, key: str, on: bool) -> Command:
        """`<base>/<name>/set` `{"state": "ON"}`."""
        return Command(f"{key}/set", b'{"state":"ON"}' if on else b'{"state":"OFF"}', 1)

    def query(self, key: str) -> Command | None:
        """None: the listed topics have no query (zigbee2mqtt reports changes by itself)."""
        return None

    def key_from_spec(self, spec: Mapping[str, Any]) -> str:
        """`{"type": "zigbee2mqtt", "name": "kitchen/kettle", "base": "zigbee2mqtt"}`."""
        name = check_level(spec, "name", "zigbee2mqtt")
        base = check_level(spec, "base", "zigbee2mqtt", DEFAULT_BASE)
        if name == "bridge" or name.startswith("bridge/") or name.endswith(_NOT_DEVICES):
            raise InvalidValue(f"{name!r} is one of zigbee2mqtt's own topics, not a device", field="name")
        self.bases.add(base)
        return f"{base}/{name}"

    def spec(self, key: str) -> dict[str, Any]:
        """The spec naming plug `key`."""
        base = self._base_of(key) or DEFAULT_BASE
        return {"type": self.type, "name": key[len(base) + 1 :], "base": base}

    def found(self, key: str | None, topic: str, payload: bytes) -> list[Found]:
        """The plugs in a `bridge/devices` list."""
        base = self._base_of(topic)
        if base is None or topic != f"{base}/bridge/devices" or len(payload) > MAX_DEVICE_LIST_BYTES:
            return []
        try:
            devices = codec.loads(payload)
        except RoostError:
            return []
        if not isinstance(devices, list):
            return []
        found = []
        for device in devices[:2000]:
            if not isinstance(device, dict) or not _is_plug(device):
                continue
            name = device.get("friendly_name")
            if not isinstance(name, str) or not name or len(name) > 200 or "+" in name or "#" in name:
                continue
            definition = device["definition"]
            model = " ".join(
                str(definition[k])[:60] for k in ("vendor", "model") if isinstance(definition.get(k), str)
            )
            found.append(Found(self.type, f"{base}/{name}", name, model))
        return found

    def _base_of(self, topic: str) -> str | None:
        # The longest base that prefixes the topic: "zigbee2mqtt/eg" may be a base of its own.
        best = None
        for base in self.bases:
            if topic.startswith(base + "/") and (best is None or len(base) > len(best)):
                best = base
        return best


def _is_plug(device: Mapping[str, Any]) -> bool:
    definition = device.get("definition")
    if device.get("type") == "Coordinator" or not isinstance(definition, dict):
        return False
    exposes = definition.get("exposes")
    if not isinstance(exposes, list):
        return False
    for expose in exposes:
        if isinstance(expose, dict) and expose.get("type") == "switch":
            features = expose.get("features")
            if isinstance(features, list) and any(
                isinstance(f, dict) and f.get("property") == "state" for f in features
            ):
                return True
    return False
