"""MQTT test fixtures: a real Mosquitto of the test's own, and a bridged App (helpers in mqtt_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mqtt_support import Broker
from roost import App


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A running Mosquitto of this test's own."""
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def bridged(tmp_path: Path, broker: Broker) -> App:
    """An App named `home` (no HTTP) with the bridge on `broker`; not started."""
    app = App("home", data_dir=tmp_path / "data", port=None, timezone="Europe/Berlin", mqtt=broker.url)
    assert app.mqtt is not None
    return app
