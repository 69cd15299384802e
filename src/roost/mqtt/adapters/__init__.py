"""Device adapters: Tasmota, Shelly Gen2+ and zigbee2mqtt plugs as roost drivers, over the bridge.

Each kind's topics and payloads are pure rules (tasmota.py, shelly.py,
zigbee2mqtt.py); `MqttPlug` is the driver; `Plugs` routes the bridge's
messages to the drivers and keeps the list of plugs found on the broker.
"""

from roost.mqtt.adapters.plug import MqttPlug
from roost.mqtt.adapters.plugs import KINDS, Plugs

__all__ = ["KINDS", "MqttPlug", "Plugs"]
