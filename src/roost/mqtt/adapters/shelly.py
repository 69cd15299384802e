"""Shelly Gen2+ plugs (Plus Plug S and kin) over their own MQTT client.

`<prefix>/status/switch:0` is the switch's status (`output`, `apower` in W,
`aenergy.total` in Wh); `<prefix>/events/rpc` carries `NotifyStatus`
notifications with the parts that changed; `<prefix>/online` is `true`/`false`
(the plug's last will). `<prefix>/command/switch:0` takes `on`, `off` and
`status_update`. Everything goes with QoS 1. The prefix defaults to the
plug's id, such as `shellyplusplugs-a0b1c2d3e4f5`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from roost.core.driver import DriverField, Reading
from roost.core.errors import InvalidValue
from roost.mqtt.adapters.kind import Command, Found, as_number, as_word, check_level, json_object

__all__ = ["Shelly"]

_TAILS = ("/status/switch:0", "/events/rpc", "/online")


class Shelly:
    """The Shelly Gen2+ kind; `switch` N other than 0 is the N-th relay of a multi-relay device."""

    type = "shelly"
    doc = "A Shelly Gen2+ plug over MQTT (<prefix>/status/switch:N, <prefix>/command/switch:N)"
    fields: tuple[DriverField, ...] = (
        DriverField(
            "prefix", "string", "the MQTT prefix, such as shellyplusplugs-a0b1c2d3e4f5", required=True
        ),
        DriverField("switch", "number", "the relay's number (0 for a plug)", default=0),
    )
    reports_prove_online = True

    def filters(self) -> tuple[str, ...]:
        """Every Shelly's first switch, notifications and will (one-level prefixes)."""
        return tuple(f"+{tail}" for tail in _TAILS)

    def key_of(self, topic: str) -> str | None:
        """The prefix, with `#N` for switch N > 0 (`shellypro2-x#1`)."""
        for tail in ("/events/rpc", "/online"):
            if topic.endswith(tail) and len(topic) > len(tail):
                return topic[: -len(tail)]
        head, sep, switch = topic.rpartition("/status/switch:")
        if sep and head and switch.isdigit() and len(switch) < 3:
            return head if switch == "0" else f"{head}#{int(switch)}"
        return None

    def topics(self, key: str) -> tuple[str, ...]:
        """The report topics of plug `key`."""
        prefix, switch = _split(key)
        return (f"{prefix}/status/switch:{switch}", f"{prefix}/events/rpc", f"{prefix}/online")

    def parse(self, key: str, topic: str, payload: bytes) -> Reading | None:
        """Read a switch status, a NotifyStatus notification or the will."""
        switch = _split(key)[1]
        if topic.endswith("/online"):
            word = as_word(payload)
            return Reading(online=word == "TRUE") if word in ("TRUE", "FALSE") else None
        body = json_object(payload)
        if body is None:
            return None
        if topic.endswith("/events/rpc"):
            params = body.get("params")
            if body.get("method") not in ("NotifyStatus", "NotifyFullStatus") or not isinstance(params, dict):
                return None
            body = params.get(f"switch:{switch}")
            if not isinstance(body, dict):
                return None
        elif body.get("id", switch) != switch:
            return None
        return _status(body)

    def command(self, key: str, on: bool) -> Command:
        """`<prefix>/command/switch:N` `on`/`off`, QoS 1."""
        prefix, switch = _split(key)
        return Command(f"{prefix}/command/switch:{switch}", b"on" if on else b"off", 1)

    def query(self, key: str) -> Command | None:
        """`status_update` makes the plug publish its switch's status."""
        prefix, switch = _split(key)
        return Command(f"{prefix}/command/switch:{switch}", b"status_update", 1)

    def key_from_spec(self, spec: Mapping[str, Any]) -> str:
        """`{"type": "shelly", "prefix": "shellyplusplugs-a0b1c2d3e4f5", "switch": 0}`."""
        prefix = check_level(spec, "prefix", "shelly")
        if "#" in prefix:
            raise InvalidValue('a shelly driver\'s "prefix" may not hold "#"', field="prefix")
        switch = spec.get("switch", 0)
        if isinstance(switch, bool) or not isinstance(switch, int) or not 0 <= switch < 100:
            raise InvalidValue('a shelly driver\'s "switch" is a relay number from 0 to 99', field="switch")
        return prefix if switch == 0 else f"{prefix}#{switch}"

    def spec(self, key: str) -> dict[str, Any]:
        """The spec naming plug `key`."""
        prefix, switch = _split(key)
        return {"type": self.type, "prefix": prefix, "switch": switch}

    def found(self, key: str | None, topic: str, payload: bytes) -> list[Found]:
        """A Shelly that reported a switch's status, or whose will names it a Shelly.

        Any client may publish `<something>/online`: only a prefix of Shelly's own
        naming (`shellyplusplugs-...`, the default) counts as a Shelly by its will alone.
        """
        if key is None:
            return []
        reading = self.parse(key, topic, payload)
        if topic.endswith("/online") and reading is not None and key.lower().startswith("shelly"):
            return [Found(self.type, key, key, "Shelly", reading.online)]
        if "/status/switch:" not in topic:
            return []
        if reading is None or reading.on is None:
            return []
        model = "Shelly (power meter)" if reading.power_w is not None else "Shelly"
        return [Found(self.type, key, key, model, True, reading.on, reading.power_w)]


def _split(key: str) -> tuple[str, int]:
    prefix, sep, switch = key.rpartition("#")
    return (prefix, int(switch)) if sep and switch.isdigit() else (key, 0)


def _status(body: Mapping[str, Any]) -> Reading | None:
    output = body.get("output")
    on = output if isinstance(output, bool) else None
    power_w = as_number(body.get("apower"))
    energy = body.get("aenergy")
    total_wh = as_number(energy.get("total")) if isinstance(energy, dict) else None
    if on is None and power_w is None and total_wh is None:
        return None
    return Reading(on=on, power_w=power_w, energy_kwh=None if total_wh is None else total_wh / 1000)
