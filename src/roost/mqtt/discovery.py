"""Home Assistant MQTT discovery payloads for a node's sensors and switches.

Two kinds, both retained under the discovery prefix (`homeassistant/` by default):

- a sensor per state path whose metadata has a `kind` and a `unit`:
  `{prefix}/sensor/{node}/{object_id}/config`, with `device_class`,
  `state_class` and `unit_of_measurement` from the kind;
- a device per switch (a path of kind `switch` that names its `command`):
  `{prefix}/device/{id}/config`, one message holding its components: the
  switch, and its power and energy sensors. Home Assistant switches it by
  publishing the command's JSON arguments (`payload_on`/`payload_off`) to the
  node's `cmd/{command}` topic, so a switch goes through the same checks and
  scopes as any other command.

Availability of every entity is the node's status topic (`online`/`offline`, the
last will). An empty retained payload removes an entity.
"""

from __future__ import annotations

import re
from typing import Any

from roost.core import codec
from roost.core.meta import PathMeta
from roost.core.version import __version__
from roost.mqtt.topics import Topics

__all__ = ["Discovery", "device_class_of", "object_id"]

# kind -> (device_class, state_class); kinds not listed get neither but still a sensor.
KINDS: dict[str, tuple[str | None, str | None]] = {
    "temperature": ("temperature", "measurement"),
    "humidity": ("humidity", "measurement"),
    "power": ("power", "measurement"),
    "energy": ("energy", "total_increasing"),
    "voltage": ("voltage", "measurement"),
    "current": ("current", "measurement"),
    "pressure": ("pressure", "measurement"),
    "illuminance": ("illuminance", "measurement"),
    "battery": ("battery", "measurement"),
    "co2": ("carbon_dioxide", "measurement"),
    "gas": ("gas", "total_increasing"),
    "water": ("water", "total_increasing"),
    "count": (None, "measurement"),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def object_id(path: str) -> str:
    """Return a path as one discovery topic level: `basement/party_room` -> `basement_party_room`."""
    return _UNSAFE.sub("_", path.replace("/", "_"))


def device_class_of(kind: str | None) -> tuple[str | None, str | None]:
    """Return Home Assistant's `(device_class, state_class)` for a roost kind."""
    return KINDS.get(kind or "", (None, "measurement"))


class Discovery:
    """Builds the discovery messages of one node. Pure: the bridge publishes them."""

    def __init__(self, node: str, topics: Topics, prefix: str) -> None:
        self.node = node
        self.topics = topics
        self.prefix = prefix
        self.node_device = {
            "identifiers": [f"roost_{node}"],
            "name": node,
            "manufacturer": "roost",
            "model": "roost node",
            "sw_version": __version__,
        }

    @property
    def status_topic(self) -> str:
        """Home Assistant's birth and will topic."""
        return f"{self.prefix}/status"

    def sensor_topic(self, path: str) -> str:
        """Where the sensor config of `path` goes."""
        return f"{self.prefix}/sensor/{object_id(self.node)}/{object_id(path)}/config"

    def device_id(self, switch_path: str) -> str:
        """The id of the device a switch path belongs to (its parent path)."""
        parent = switch_path.rpartition("/")[0] or switch_path
        return f"{object_id(self.node)}_{object_id(parent)}"

    def device_topic(self, switch_path: str) -> str:
        """Where the device config of a switch goes."""
        return f"{self.prefix}/device/{self.device_id(switch_path)}/config"

    def is_sensor(self, meta: PathMeta) -> bool:
        """Whether a path with `meta` is announced as a sensor."""
        return bool(meta.kind) and bool(meta.unit) and meta.kind != "switch"

    def is_switch(self, meta: PathMeta) -> bool:
        """Whether a path with `meta` is announced as a device with a switch."""
        return meta.kind == "switch" and bool(meta.command)

    def sensor(self, path: str, meta: PathMeta) -> bytes:
        """Return the config of one sensor."""
        device_class, state_class = device_class_of(meta.kind)
        config: dict[str, Any] = {
            "name": meta.label or path,
            "unique_id": f"roost_{object_id(self.node)}_{object_id(path)}",
            "state_topic": self.topics.state(path),
            "unit_of_measurement": meta.unit,
            "availability_topic": self.topics.status,
            "device": self.node_device,
            "origin": {"name": "roost", "sw_version": __version__},
        }
        if device_class:
            config["device_class"] = device_class
        if state_class:
            config["state_class"] = state_class
        return codec.dumps(config)

    def device(
        self,
        switch_path: str,
        meta: PathMeta,
        power: tuple[str, PathMeta] | None,
        energy: tuple[str, PathMeta] | None,
    ) -> bytes:
        """Return the device-based config of one switch with its power and energy sensors."""
        dev_id = self.device_id(switch_path)
        args = dict(meta.command_args or {})
        components: dict[str, dict[str, Any]] = {
            "switch": {
                "platform": "switch",
                "name": None,  # the device's own name
                "unique_id": f"roost_{dev_id}_switch",
                "state_topic": self.topics.state(switch_path),
                "command_topic": self.topics.command_topic(meta.command or ""),
                "payload_on": codec.dumps({**args, "on": True}).decode(),
                "payload_off": codec.dumps({**args, "on": False}).decode(),
                "state_on": "true",
                "state_off": "false",
                "qos": 1,
            }
        }
        for key, found, unit in (("power", power, "W"), ("energy", energy, "kWh")):
            if found is None:
                continue
            path, sensor_meta = found
            device_class, state_class = device_class_of(key)
            components[key] = {
                "platform": "sensor",
                "name": key.title(),
                "unique_id": f"roost_{dev_id}_{key}",
                "state_topic": self.topics.state(path),
                "unit_of_measurement": sensor_meta.unit or unit,
                "device_class": device_class,
                "state_class": state_class,
            }
        config = {
            "device": {
                "identifiers": [f"roost_{dev_id}"],
                "name": meta.label or switch_path.rpartition("/")[0] or switch_path,
                "manufacturer": "roost",
                "via_device": f"roost_{self.node}",
            },
            "origin": {"name": "roost", "sw_version": __version__},
            "availability_topic": self.topics.status,
            "components": components,
        }
        return codec.dumps(config)
