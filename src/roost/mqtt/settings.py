"""The bridge's settings, and the broker URL they are read from (`mqtt://user:pass@host:1883`).

The password lives in `MqttSettings.password` only: it is left out of `repr()`,
and everything shown (logs, /healthz, the page) uses `display_url`, which names
the user and never the password.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from roost.core.caller import Scope

__all__ = ["INSTALL_HINT", "MqttSettings", "check_installed", "parse_broker_url"]

INSTALL_HINT = "the MQTT bridge needs the mqtt extra: pip install 'roost[mqtt]' (aiomqtt and paho-mqtt)"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
# A topic level that is safe to build topics from: no wildcards, no separators.
_LEVEL = re.compile(r"^[^/+#\x00-\x1f\x7f]{1,128}$")


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where the broker is and what the bridge puts on it.

    `node` is the topic level under `prefix` (default: the App's name); `include`
    and `exclude` are path patterns choosing the state published (default: every
    path whose metadata does not say `record=False`). Commands arrive with
    `scope` (default control) as the principal `principal`. `outbox_max` bounds
    the messages held while the broker is away (the newest per topic wins).
    """

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    node: str | None = None
    prefix: str = "roost"
    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()
    scope: Scope = Scope.CONTROL
    principal: str = "mqtt-bridge"
    client_id: str | None = None
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    state_qos: int = 1
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    outbox_max: int = 10_000
    max_payload_bytes: int = 64 * 1024
    max_commands_in_flight: int = 16
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "include", tuple(self.include))
        object.__setattr__(self, "exclude", tuple(self.exclude))
        object.__setattr__(self, "scope", Scope.parse(self.scope))
        for name in ("node", "prefix", "discovery_prefix"):
            value = getattr(self, name)
            if value is not None and not _LEVEL.match(value):
                raise ValueError(f"mqtt {name} {value!r} must be one topic level: no '/', '+', '#'")
        if self.state_qos not in (0, 1, 2):
            raise ValueError("state_qos must be 0, 1 or 2")
        if self.outbox_max < 1:
            raise ValueError("outbox_max must be at least 1")
        for name in ("ca_file", "cert_file", "key_file"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs its key file too (--mqtt-cert with --mqtt-key)")
        if not self.tls and (self.ca_file or self.cert_file):
            raise ValueError("a CA file or client certificate needs TLS: use an mqtts:// broker URL")

    @property
    def display_url(self) -> str:
        """The broker as shown in logs and /healthz: the user, never the password."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def parse_broker_url(url: str, **fields: object) -> MqttSettings:
    """Return settings for `mqtt://[user[:password]@]host[:port]` (or `mqtts://`); raise ValueError.

    A user without a password in the URL takes `$ROOST_MQTT_PASSWORD`, which keeps
    it out of the process list.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"the broker URL must start with mqtt:// or mqtts://, not {_redact(url)!r}")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"the broker URL has a bad port: {_redact(url)!r}") from None
    if not parts.hostname:
        raise ValueError(f"the broker URL names no host: {_redact(url)!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"the broker URL takes no path or query: {_redact(url)!r}")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and password is None:
        password = os.environ.get("ROOST_MQTT_PASSWORD") or None
    return MqttSettings(
        host=parts.hostname,
        port=port,
        username=username,
        password=password,
        tls=scheme == "mqtts",
        **fields,  # type: ignore[arg-type]
    )


def _redact(url: str) -> str:
    # For error messages about a URL that may hold a password.
    return re.sub(r"(//[^/:@]*):[^@/]*@", r"\1:***@", url)


def check_installed() -> None:
    """Raise RuntimeError with the install hint if aiomqtt (and so paho-mqtt) is missing."""
    try:
        import aiomqtt  # noqa: F401
        import paho.mqtt  # noqa: F401
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None
