"""Broker URLs, TLS options, and the password kept out of everything shown."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from mqtt_support import Broker
from roost import App
from roost.mqtt import MqttSettings, parse_broker_url
from roost.testing import eventually

WAIT_S = 10.0


@pytest.mark.parametrize(
    ("url", "shown", "tls"),
    [
        ("mqtt://broker.lan", "mqtt://broker.lan:1883", False),
        ("mqtts://broker.lan", "mqtts://broker.lan:8883", True),
        ("mqtt://al%40ice:p%3Ass@10.0.0.2:1884", "mqtt://al@ice@10.0.0.2:1884", False),
        ("MQTT://[::1]:1999", "mqtt://[::1]:1999", False),
    ],
)
def test_broker_urls(url: str, shown: str, tls: bool) -> None:
    settings = parse_broker_url(url)
    assert settings.display_url == shown
    assert settings.tls is tls


@pytest.mark.parametrize(
    "url",
    ["http://host", "mqtt://", "mqtt://user:secret@host:99999", "mqtt://host/path", "host:1883"],
)
def test_bad_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="broker URL") as info:
        parse_broker_url(url)
    assert "secret" not in str(info.value)


def test_the_password_is_not_in_the_repr_and_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROOST_MQTT_PASSWORD", "from-env")
    settings = parse_broker_url("mqtt://bob@host")
    assert settings.password == "from-env"
    assert "from-env" not in repr(settings)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ca_file": "ca.pem"}, "needs TLS"),
        ({"tls": True, "cert_file": "c.pem"}, "key file"),
        ({"node": "a/b"}, "one topic level"),
        ({"prefix": "roost/#"}, "one topic level"),
        ({"scope": "root"}, "unknown scope"),
    ],
)
def test_bad_settings_say_what_is_wrong(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MqttSettings("host", **fields)  # type: ignore[arg-type]


async def test_the_password_is_never_shown(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="roost")
    url = f"mqtt://alice:s3cret-pw@127.0.0.1:{broker.port}"
    app = App("home", data_dir=tmp_path / "data", port=0, mqtt=url)
    app.meta("t", kind="temperature", unit="°C")
    app.state["t"] = 20.5
    await app.start(host="127.0.0.1", port=0)
    try:
        await eventually(lambda: app.mqtt is not None and app.mqtt.connected, WAIT_S)
        async with aiohttp.ClientSession(base_url=app.url) as http:
            health = await (await http.get("/healthz")).json()
            assert health["components"]["mqtt"]["broker"] == f"mqtt://alice@127.0.0.1:{broker.port}"
            assert health["components"]["mqtt"]["ok"] is True
            texts = [await (await http.get(p)).text() for p in ("/healthz", "/metrics", "/api/state", "/")]
        assert "roost_mqtt_connected 1" in texts[1]
        assert all("s3cret-pw" not in t for t in texts)
    finally:
        await app.stop()
    assert "s3cret-pw" not in caplog.text


def run_cli(*args: str, block_aiomqtt: bool = False) -> subprocess.CompletedProcess[str]:
    code = "import sys\n"
    if block_aiomqtt:  # as on a node installed without the mqtt extra
        code += "sys.modules['aiomqtt'] = None\n"
    code += f"from roost.cli import main\nsys.exit(main({list(args)!r}))\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_mqtt_without_the_extra_says_what_to_install() -> None:
    done = run_cli("demo", "--mqtt", "mqtt://127.0.0.1:1", block_aiomqtt=True)
    assert done.returncode == 2
    assert "pip install 'roost[mqtt]'" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mqtt", "http://x:secret@h"], "mqtt:// or mqtts://"),
        (["--mqtt-ca", "ca.pem"], "need --mqtt"),
        (["--mqtt", "mqtts://h", "--mqtt-ca", "/nonexistent/ca.pem"], "no such file"),
    ],
)
def test_bad_mqtt_options_are_one_line(args: list[str], message: str) -> None:
    done = run_cli("demo", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "secret" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_package_imports_without_the_client_library() -> None:
    code = "import sys\nsys.modules['aiomqtt'] = None\nimport roost.mqtt, roost.app\nprint('ok')\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
