"""Tasmota plugs: `stat/<t>/POWER`, `tele/<t>/STATE`, `tele/<t>/SENSOR`, `tele/<t>/LWT`; `cmnd/<t>/POWER`.

`<t>` is the plug's Topic (Tasmota's default is `tasmota_XXXXXX`), with its
default FullTopic `%prefix%/%topic%/`. The relay is `ON`/`OFF` on
`stat/<t>/POWER` (the answer to every command) and in `tele/<t>/STATE`;
`tele/<t>/SENSOR` carries `ENERGY.Power` (W) and `ENERGY.Total` (kWh);
`tele/<t>/LWT` is `Online`/`Offline`, retained, as the plug's last will.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from roost.core.driver import DriverField, Reading
from roost.mqtt.adapters.kind import Command, Found, as_number, as_word, check_level, json_object

__all__ = ["Tasmota"]

_PARTS = (("stat/", "/POWER"), ("tele/", "/STATE"), ("tele/", "/SENSOR"), ("tele/", "/LWT"))
_RELAY = {"ON": True, "OFF": False}


class Tasmota:
    """The Tasmota kind."""

    type = "tasmota"
    doc = "A Tasmota plug over MQTT (stat/, tele/, cmnd/<topic>/...)"
    fields: tuple[DriverField, ...] = (
        DriverField("topic", "string", "Tasmota's Topic, such as tasmota_A1B2C3", required=True),
    )
    reports_prove_online = True

    def filters(self) -> tuple[str, ...]:
        """Every Tasmota plug's reports (topics of one level)."""
        return tuple(f"{head}+{tail}" for head, tail in _PARTS)

    def key_of(self, topic: str) -> str | None:
        """The plug's Topic, between the prefix and the last level."""
        for head, tail in _PARTS:
            if topic.startswith(head) and topic.endswith(tail) and len(topic) > len(head) + len(tail):
                return topic[len(head) : -len(tail)]
        return None

    def topics(self, key: str) -> tuple[str, ...]:
        """The four report topics of plug `key`."""
        return tuple(f"{head}{key}{tail}" for head, tail in _PARTS)

    def parse(self, key: str, topic: str, payload: bytes) -> Reading | None:
        """Read POWER, STATE, SENSOR or LWT."""
        last = topic.rpartition("/")[2]
        if last == "POWER":
            on = _RELAY.get(as_word(payload) or "")
            return None if on is None else Reading(on=on)
        if last == "LWT":
            word = as_word(payload)
            return Reading(online=word == "ONLINE") if word in ("ONLINE", "OFFLINE") else None
        body = json_object(payload)
        if body is None:
            return None
        if last == "STATE":
            power = body.get("POWER")
            on = _RELAY.get(power.upper()) if isinstance(power, str) else None
            return None if on is None else Reading(on=on)
        energy = body.get("ENERGY")
        if not isinstance(energy, dict):
            return None
        power_w, total = as_number(energy.get("Power")), as_number(energy.get("Total"))
        if power_w is None and total is None:
            return None
        return Reading(power_w=power_w, energy_kwh=total)

    def command(self, key: str, on: bool) -> Command:
        """`cmnd/<t>/POWER` `ON`/`OFF`."""
        return Command(f"cmnd/{key}/POWER", b"ON" if on else b"OFF")

    def query(self, key: str) -> Command | None:
        """An empty `cmnd/<t>/POWER` asks for the relay's state."""
        return Command(f"cmnd/{key}/POWER", b"")

    def key_from_spec(self, spec: Mapping[str, Any]) -> str:
        """`{"type": "tasmota", "topic": "tasmota_A1B2C3"}`."""
        return check_level(spec, "topic", "tasmota")

    def spec(self, key: str) -> dict[str, Any]:
        """The spec naming plug `key`."""
        return {"type": self.type, "topic": key}

    def found(self, key: str | None, topic: str, payload: bytes) -> list[Found]:
        """A plug that sent its LWT, STATE or POWER."""
        if key is None or topic.endswith("/SENSOR"):
            return []
        reading = self.parse(key, topic, payload)
        if reading is None:
            return []
        return [Found(self.type, key, key, "Tasmota", reading.online, reading.on)]
