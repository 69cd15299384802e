"""Fault 3: a leaking program shows in /healthz and /metrics, and can be restarted cleanly."""

from __future__ import annotations

import time

from support import StartNode, http_call

LEAKING = """
    from roost import App

    app = App("leaky")
    kept = []

    @app.every(0.05)
    def leak() -> None:
        if len(kept) < 100:  # 200 MB at most, whatever happens to the test
            kept.append(bytearray(b"x") * (2 << 20))
        app.state["leaked_mb"] = 2 * len(kept)

    app.run()
"""


def test_a_leak_past_the_memory_limit_makes_the_node_degraded(start_node: StartNode) -> None:
    node = start_node(LEAKING, "--memory-limit-mb", "90")
    deadline = time.monotonic() + 15
    while True:
        health = http_call("GET", node.url + "/healthz")[1]
        if health["process"]["over_memory_limit"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    process = health["process"]
    assert health["status"] == "degraded"
    assert process["ok"] is False
    assert process["rss_bytes"] > process["memory_limit_bytes"] == 90 << 20
    assert process["open_files"] > 3 and process["threads"] > 1
    assert process["loop_lag_ms"] >= 0
    metrics = http_call("GET", node.url + "/metrics")[1]["text"]
    for name in ("process_resident_memory_bytes", "process_open_fds", "roost_process_threads"):
        assert f"\n{name} " in metrics
    assert "\nroost_memory_over_limit 1" in metrics
    assert "roost_loop_lag_seconds" in metrics
    assert node.proc.poll() is None  # degraded, not stopped: nobody asked for a restart


def test_restart_on_memory_limit_stops_cleanly_with_status_75(start_node: StartNode) -> None:
    node = start_node(LEAKING, "--memory-limit-mb", "90", "--restart-on-memory-limit")
    assert node.proc.wait(30) == 75
    output = node.output()
    assert "over the limit of 90 MB" in output
    assert "Traceback" not in output
    assert "stopping" in output  # in order: history flushed, then exit
