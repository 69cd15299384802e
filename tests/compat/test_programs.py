"""Unmodified raspend 2.x programs run through `python -m roost raspend` as real subprocesses."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from roost.testing import eventually

W1_SLAVE = "72 01 4b 46 7f ff 0e 10 57 : crc=57 {crc}\n72 01 4b 46 7f ff 0e 10 57 t={millis}\n"
SENSORS = {
    "basement/party_room": "28-000000000001",
    "basement/heating_room": "28-000000000002",
    "ground_floor/kitchen": "28-000000000003",
}


def write_sensor(devices: Path, device: str, millis: int, crc: str = "YES") -> None:
    """Write a DS18B20 `w1_slave` file as the kernel's w1_therm driver shows it."""
    folder = devices / device
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "w1_slave").write_text(W1_SLAVE.format(crc=crc, millis=millis))


@pytest.fixture
def devices(tmp_path: Path) -> Path:
    """A fake /sys/bus/w1/devices with three temperature sensors."""
    root = tmp_path / "sys" / "bus" / "w1" / "devices"
    for i, device in enumerate(SENSORS.values()):
        write_sensor(root, device, 17_812 + 1000 * i)
    return root


def onewire_args(devices: Path, interval: float = 0.1) -> list[str]:
    return [
        "--devices",
        str(devices),
        "--interval",
        str(interval),
        *(f"--sensor={where}={device}" for where, device in SENSORS.items()),
    ]


def test_doorbell_commands_over_every_route(raspend: Any) -> None:
    bell = raspend("doorbell.py")
    bell.wait_ready()
    names = [c["Command"]["Name"] for c in bell.get("/cmds").json()["Commands"]]
    assert names == ["theDoorBell.switchDoorBell", "theDoorBell.getCurrentState", "theDoorBell.ring"]
    assert bell.get("/cmd?name=theDoorBell.switchDoorBell&onoff=off").json() == "off"
    assert bell.get("/data/doorbell/state").json() == "off"
    reply = bell.post_json({"Command": {"Name": "theDoorBell.switchDoorBell", "Args": {"onoff": 1}}})
    assert reply.json() == {
        "Command": {"Name": "theDoorBell.switchDoorBell", "Args": {"onoff": 1}, "Result": "on"}
    }
    assert bell.get("/cmd?name=theDoorBell.ring&times=2&visitor=Ann").json() == "ding dong x2: Ann"
    assert bell.get("/cmd?name=theDoorBell.ring&times=two").status == 422
    data = bell.get("/data").json()
    assert data["doorbell"]["rings"] == 2 and data["doorbell"]["last_ring"]["visitor"] == "Ann"
    # The shared dict is roost's state tree: the same values under roost's own API.
    assert bell.get("/api/state/doorbell/rings").json() == 2


def test_an_idle_connection_does_not_block_other_clients(raspend: Any) -> None:
    bell = raspend("doorbell.py")
    bell.wait_ready()
    # raspend served one connection at a time: these two stalled it for everyone.
    with (
        socket.create_connection(("127.0.0.1", bell.port)) as idle,
        socket.create_connection(("127.0.0.1", bell.port)) as half,
    ):
        half.sendall(b"GET /data HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        assert bell.get("/data/doorbell/state").json() == "on"
        assert bell.post_json({"Command": {"Name": "theDoorBell.getCurrentState"}}).status == 200
        assert time.monotonic() - started < 2
        idle.sendall(b"GET /data HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # and the idle one is still served
        assert idle.recv(100).startswith(b"HTTP/1.1 200 OK")


def test_onewire_readers_fill_the_tree_from_sysfs(raspend: Any, devices: Path) -> None:
    reader = raspend("onewire.py", onewire_args(devices))
    reader.wait_ready()
    data = reader.wait_for("/data", lambda d: d.get("basement", {}).get("party_room") == 17.812)
    assert data["basement"] == {"party_room": 17.812, "heating_room": 18.812}
    assert data["ground_floor"] == {"kitchen": 19.812}
    assert isinstance(data["Starting Time"], str)
    write_sensor(devices, SENSORS["ground_floor/kitchen"], 21_500)
    reader.wait_for("/data/ground_floor/kitchen", lambda v: v == 21.5)
    metrics = reader.get("/metrics").body.decode()
    assert 'roost_state{path="ground_floor/kitchen"} 21.5' in metrics


def test_a_raising_reader_keeps_its_schedule_and_the_data_readable(raspend: Any, devices: Path) -> None:
    reader = raspend("onewire.py", onewire_args(devices))
    reader.wait_ready()
    reader.wait_for("/data/basement/party_room", lambda v: v == 17.812)
    write_sensor(devices, SENSORS["basement/party_room"], 99_000, crc="NO")  # invoke() raises
    health = reader.wait_for("/healthz", lambda h: h["workers"]["ReadOneWireTemperature"]["errors"] >= 3)
    assert "CRC check failed" in health["workers"]["ReadOneWireTemperature"]["last_error"]
    assert reader.get("/data/basement").json()["party_room"] == 17.812  # last good value, served
    write_sensor(devices, SENSORS["basement/party_room"], 16_000)  # and the worker still runs
    reader.wait_for("/data/basement/party_room", lambda v: v == 16.0)


def test_scheduled_csv_writer_writes_every_second_and_stops_cleanly(raspend: Any, tmp_path: Path) -> None:
    csv = tmp_path / "counts.csv"
    writer = raspend("csvwriter.py", ["--csv", str(csv)])
    writer.wait_ready()
    eventually(lambda: csv.exists() and len(csv.read_text().splitlines()) >= 3)
    assert writer.terminate() < 5
    lines = csv.read_text().splitlines()
    assert lines[0] == "time;counter" and lines[-1] == "stopped"  # run() returned; the program went on
    rows = [line.split(";") for line in lines[1:-1]]
    assert len(rows) >= 2 and all(int(count) > 0 for _, count in rows)
    first, second = (datetime.fromisoformat(stamp) for stamp, _ in rows[:2])
    assert 0.8 < (second - first).total_seconds() < 1.2
    assert writer.proc.returncode == 0
    # The program's own logging.basicConfig(filename=...) took effect; roost logs apart.
    assert "INFO:root:Starting (PID=" in (tmp_path / "csvwriter.log").read_text()
    assert "INFO roost.app: stopping" in writer.output()


def test_without_a_port_nothing_is_served_and_workers_run(raspend: Any, tmp_path: Path) -> None:
    csv = tmp_path / "headless.csv"
    writer = raspend("csvwriter.py", ["--csv", str(csv)], port_to=None)
    eventually(lambda: csv.exists() and len(csv.read_text().splitlines()) >= 2)
    assert "no HTTP server" in writer.output()
    assert writer.terminate() < 5
    assert csv.read_text().splitlines()[-1] == "stopped"


def test_roosts_own_port_serves_a_program_that_passes_none(raspend: Any) -> None:
    bell = raspend("doorbell.py", port_to="roost")  # the program's --port stays unset: None
    bell.wait_ready()
    assert bell.get("/data/doorbell").json() == {"state": "on", "rings": 0}


class Collector(BaseHTTPRequestHandler):
    """The local endpoint the publisher posts to; keeps every JSON body it gets."""

    bodies: list[Any]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[Any]]]:
    bodies: list[Any] = []
    handler = type("Handler", (Collector,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/post_data", bodies
    server.shutdown()
    server.server_close()


def test_publisher_posts_the_shared_dict_as_json(raspend: Any, endpoint: tuple[str, list[Any]]) -> None:
    url, bodies = endpoint
    publisher = raspend("publisher.py", ["--endpoint", url])
    publisher.wait_ready()
    publisher.wait_for("/data/publisher/last_status", lambda v: v == 200)
    eventually(lambda: len(bodies) >= 3)
    last = bodies[-1]
    assert last["site"] == {"name": "cellar"}  # the initial sharedDict= contents
    assert last["meter"]["power_w"] > 100
    # The list is changed in place (append, then del [:-3]). Handlers run side by side,
    # not one at a time under the access lock as in raspend (docs/raspend.md), so the
    # publisher may catch the moment between the two steps: four items, never more.
    assert 1 <= len(last["meter"]["history"]) <= 4
    assert publisher.get("/data/meter/history").json() == publisher.get("/data").json()["meter"]["history"]
    assert publisher.terminate() < 5
    # After run() the program saves the dict it passed in: it holds the final values.
    final = float(publisher.output().split("final ")[1].split()[0])
    assert final > 100


def test_failing_and_stuck_handlers_do_not_stop_the_server_or_shutdown(raspend: Any) -> None:
    faulty = raspend("faulty.py")
    faulty.wait_ready()
    faulty.wait_for("/data", lambda d: d.get("stuck") == "entered" and d["flaky"]["runs"] >= 5)
    health = faulty.get("/healthz").json()["workers"]
    assert health["Flaky"]["errors"] >= 3 and health["Stuck"]["running"] is True
    result = faulty.post_json(
        {"Command": {"Name": "thermostat.setTarget", "Args": {"room": "hall", "celsius": "21"}}}
    )
    assert result.json()["Command"]["Result"] == {"room": "hall", "celsius": 21.0, "boost": False}
    wrong = faulty.get("/cmd?name=thermostat.setTarget&room=hall&celsius=warm")
    assert (wrong.status, wrong.json()["error"]["argument"]) == (422, "celsius")
    cmds = faulty.get("/cmds").json()["Commands"]
    assert cmds[0]["Command"]["Args"] == {"room": "str", "celsius": "float", "boost": "bool"}
    # raspend ignored SIGTERM once a handler had died holding its lock; here even a
    # handler stuck in invoke() is left behind after a short grace period.
    assert faulty.terminate() < 6
    assert faulty.proc.returncode == 0
