"""Fault 7: /healthz tells what failed, not where the program and its files live."""

from __future__ import annotations

import time

from support import StartNode, http_call

# The README's program, on a machine without the sensor.
PROGRAM = """
    from pathlib import Path
    from roost import App

    app = App("home")

    def read_w1(sensor: str) -> float:
        text = Path(f"/sys/bus/w1/devices/{sensor}/w1_slave").read_text()
        return int(text.rsplit("t=", 1)[1]) / 1000

    @app.every(0.5)
    def basement() -> None:
        app.state["basement/party_room"] = read_w1("28-0000075565c1")

    app.run()
"""


def test_healthz_last_error_has_no_paths_and_the_log_has_them(start_node: StartNode) -> None:
    node = start_node(PROGRAM)
    deadline = time.monotonic() + 10
    while (worker := http_call("GET", node.url + "/healthz")[1]["workers"]["basement"])["errors"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert worker["last_error"] == "FileNotFoundError: [Errno 2] No such file or directory: 'w1_slave'"
    assert "last_error_detail" not in worker  # an open node's local callers are no signed-in admins
    assert "/sys/bus/w1/devices/28-0000075565c1/w1_slave" in node.output()
    assert "program.py" in node.output()  # the traceback, for whoever reads the log
