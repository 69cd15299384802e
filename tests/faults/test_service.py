"""Running as a service: the systemd unit, sd_notify readiness and watchdog, and backups of a running node."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import StartNode, http_call

PROGRAM = """
    from roost import App
    from roost.store import HistorySettings

    app = App("served", history=HistorySettings(commit_interval_s=0.5, heartbeat_s=None))
    count = 0

    @app.every(0.05)
    def tick() -> None:
        global count
        count += 1
        app.state["count"] = count

    app.run()
"""


def roost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "roost", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    program = tmp_path / "home.py"
    program.write_text("from roost import App\nApp('home').run()\n")
    done = roost("service", "install", str(program), "--unit-dir", str(tmp_path), "--memory-limit-mb", "200")
    assert done.returncode == 0, done.stderr
    unit = tmp_path / "roost-home.service"
    text = unit.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=30",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
    ):
        assert f"\n{line}\n" in text
    assert "\nReadWritePaths=-/var/lib/roost/home\n" in text
    assert f" --restart-on-memory-limit {program}\n" in text
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 0, verify.stderr
    assert str(unit) not in verify.stderr, verify.stderr  # no warning about our unit


def test_install_makes_the_data_directory_it_names(tmp_path: Path) -> None:
    program = tmp_path / "home.py"
    program.write_text("from roost import App\nApp('home').run()\n")
    data = tmp_path / "srv" / "home"
    assert (
        roost(
            "service", "install", str(program), "--unit-dir", str(tmp_path), "--data-dir", str(data)
        ).returncode
        == 0
    )
    assert data.is_dir()
    assert f"\nReadWritePaths={data}\n" in (tmp_path / "roost-home.service").read_text()


def test_the_node_tells_systemd_it_is_ready_feeds_the_watchdog_and_says_when_it_stops(
    start_node: StartNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(address))
        listener.settimeout(10)
        monkeypatch.setenv("NOTIFY_SOCKET", str(address))
        monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # WatchdogSec=1: WATCHDOG=1 every 0.5 s
        node = start_node(PROGRAM, ready=False)
        messages = [listener.recv(4096).decode() for _ in range(4)]
        assert messages[0].startswith("READY=1\nSTATUS=ok")
        assert all(m.startswith("WATCHDOG=1\nSTATUS=") for m in messages[1:])
        node.terminate()
        rest = []
        while not rest or rest[-1] != "STOPPING=1":
            rest.append(listener.recv(4096).decode())
    assert node.proc.returncode == 0


def test_backup_of_a_running_node_is_consistent_and_restorable(start_node: StartNode, tmp_path: Path) -> None:
    node = start_node(PROGRAM)
    deadline = time.monotonic() + 10
    while http_call("GET", node.url + "/healthz")[1]["components"]["history"]["written"] < 20:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (tmp_path / "data" / "notes.txt").write_text("kept too")
    copy = tmp_path / "backup"
    done = roost("backup", str(copy), "--data-dir", str(tmp_path / "data"), "--url", node.url)
    assert done.returncode == 0, done.stderr
    assert "history.db: online backup made by the running node" in done.stdout
    assert (copy / "notes.txt").read_text() == "kept too"
    db = sqlite3.connect(copy / "history.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    # Restored (here: read where it was copied to), it holds what the node had committed.
    exported = roost("history", "export", "--data-dir", str(copy), "--path", "count", "--epoch")
    assert exported.returncode == 0, exported.stderr
    assert len(exported.stdout.splitlines()) >= 20
    assert node.proc.poll() is None  # the node ran on meanwhile


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("x")
    done = roost("backup", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 2
    assert "not empty" in done.stderr
