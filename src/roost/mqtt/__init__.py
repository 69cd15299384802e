"""The MQTT bridge (state, status and commands on a broker, Home Assistant discovery).

Optional: it needs the `mqtt` extra (`pip install 'roost[mqtt]'`: aiomqtt over
paho-mqtt 2.x). Importing this package does not import them; starting a bridge
without them says what to install.
"""

from roost.mqtt.bridge import MqttBridge, Subscription
from roost.mqtt.settings import INSTALL_HINT, MqttSettings, check_installed, parse_broker_url

__all__ = [
    "INSTALL_HINT",
    "MqttBridge",
    "MqttSettings",
    "Subscription",
    "check_installed",
    "parse_broker_url",
]
