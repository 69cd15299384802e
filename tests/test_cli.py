"""The `roost` command as a user meets it: real subprocesses, real signals."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from support import RoostProcess

PROGRAM = textwrap.dedent(
    """
    import time
    from roost import App

    app = App("home", port=9)  # the command line's --port wins

    @app.every(0.05)
    def tick():
        app.state["ticks"] = app.state.get("ticks", 0) + 1

    @app.command
    def switch_doorbell(on: bool) -> str:
        app.state["doorbell"] = on
        return "on" if on else "off"

    app.run()
    """
)


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def test_run_serves_a_program_and_stops_on_sigterm(tmp_path: Path, roost_process: type[RoostProcess]) -> None:
    program = tmp_path / "home.py"
    program.write_text(PROGRAM)
    proc = roost_process(["run", str(program)])
    proc.wait_ready()
    time.sleep(0.2)
    assert isinstance(get(proc.url + "/api/state/ticks"), int)
    req = urllib.request.Request(proc.url + "/api/commands/switch_doorbell?on=true", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.load(r) == {"result": "on"}
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(timeout=10) == 0
    assert "stopping" in proc.output()


def test_run_without_app_run_still_serves(tmp_path: Path, roost_process: type[RoostProcess]) -> None:
    program = tmp_path / "lib.py"
    program.write_text("from roost import App\napp = App('x')\napp.state['ready'] = True\n")
    proc = roost_process(["run", str(program)])
    proc.wait_ready()
    assert get(proc.url + "/api/state") == {"ready": True}


def run_roost(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roost", *args], capture_output=True, text=True, timeout=30, cwd=cwd
    )


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        program = tmp_path / "p.py"
        program.write_text("from roost import App\nApp('x').run()\n")
        done = run_roost("run", str(program), "--port", str(port), "--data-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert (
        done.stderr.strip().splitlines()[-1]
        == f"roost: 127.0.0.1:{port} is already in use; choose another port with --port"
    )


def test_program_that_fails_to_import_is_one_clear_line(tmp_path: Path) -> None:
    program = tmp_path / "broken.py"
    program.write_text("import roost\nimport no_such_sensor_library\n")
    done = run_roost("run", str(program), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"roost: {program} failed: ModuleNotFoundError: No module named 'no_such_sensor_library' (at broken.py:2)"
    )


def test_missing_program_file(tmp_path: Path) -> None:
    done = run_roost("run", "nowhere.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "no such program file" in done.stderr


def test_help_explains_every_option(tmp_path: Path) -> None:
    done = run_roost("run", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in ("--host", "--port", "--data-dir", "program"):
        assert option in done.stdout


def test_demo_starts_and_serves_the_house(tmp_path: Path, roost_process: type[RoostProcess]) -> None:
    proc = roost_process(["demo"])
    proc.wait_ready()
    state = get(proc.url + "/api/state")
    assert isinstance(state, dict)
    assert {"devices", "solar", "boiler", "living_room"} <= set(state)
    assert state["devices"]["fridge"]["always_on"] is True
    commands = get(proc.url + "/api/commands")
    assert isinstance(commands, dict)
    assert {"ring_doorbell", "switch_device", "tv_remote"} <= {c["name"] for c in commands["commands"]}
