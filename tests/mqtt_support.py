"""MQTT test helpers: a real Mosquitto on a free port of 127.0.0.1, and small clients that watch it.

The broker has its own config file and persistence directory in the test's
temporary folder, never the machine's shared broker on 1883. `Broker.stop()`
ends it with SIGTERM (it saves sessions, as a broker restart does),
`kill()` with SIGKILL; `start()` brings it back on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from support import free_port

WAIT_S = 10.0  # a bound on waiting for something that must happen, not a performance target
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """One Mosquitto process on 127.0.0.1:`port` with persistence in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.conf = folder / "mosquitto.conf"
        self.log_path = folder / "mosquitto.log"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            # Run as root, Mosquitto drops to user `mosquitto`, which may not write our folder.
            f"user {getpass.getuser()}\n"
            "persistence true\n"
            f"persistence_location {folder / 'data'}/\n"
            "max_queued_messages 10000\n"
            "message_size_limit 2000000\n"
            f"log_dest file {self.log_path}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                pytest.fail(f"mosquitto exited with {self.proc.returncode}: {err}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.02)
        pytest.fail("mosquitto did not listen within 10 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """End the broker (SIGTERM saves its sessions; SIGKILL loses what it had not saved)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def kill(self) -> None:
        """End the broker at once, as a crash or a power cut would."""
        self.stop(signal.SIGKILL)


class Probe:
    """A test's own MQTT client: subscribes, keeps the last message per topic, sends requests."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.last: dict[str, bytes] = {}
        self.retained: dict[str, bool] = {}
        self.received: list[tuple[str, bytes, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def watch(self, *filters: str) -> None:
        """Subscribe to `filters` and keep what arrives."""
        for f in filters:
            await self.client.subscribe(f, qos=1)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for m in self.client.messages:
                payload = bytes(m.payload) if isinstance(m.payload, (bytes, bytearray)) else b""
                self.last[str(m.topic)] = payload
                self.retained[str(m.topic)] = m.retain
                self.received.append((str(m.topic), payload, m.properties))

    async def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """Publish one message."""
        await self.client.publish(topic, payload, qos=qos, retain=retain)

    async def request(
        self, topic: str, payload: bytes | str, response_topic: str, correlation: bytes
    ) -> None:
        """Publish an MQTT 5 request with a response topic and correlation data."""
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic
        props.CorrelationData = correlation
        await self.client.publish(topic, payload, qos=1, properties=props)

    async def close(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


@contextlib.asynccontextmanager
async def probe(broker: Broker, identifier: str | None = None, **kwargs: Any) -> AsyncIterator[Probe]:
    """Connect a Probe to `broker` (MQTT 5 unless `protocol=` says otherwise)."""
    kwargs.setdefault("protocol", aiomqtt.ProtocolVersion.V5)
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=identifier, **kwargs) as client:
        p = Probe(client)
        try:
            yield p
        finally:
            await p.close()


async def start_connected(app: Any) -> None:
    """Start `app` and wait until its bridge has subscribed (commands sent before are not for it)."""
    from roost.testing import eventually

    await app.start()
    await eventually(lambda: app.mqtt.connected, WAIT_S)
