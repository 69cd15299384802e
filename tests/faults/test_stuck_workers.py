"""Fault 2: a worker whose run never returns is shown stuck, not healthy."""

from __future__ import annotations

from roost.testing import eventually
from support import StartNode, http_call

PROGRAM = """
    import time
    from roost import App

    app = App("stuck")

    @app.every(1)
    def read_sensor() -> None:
        time.sleep(10**6)  # a 1-Wire read with no timeout

    @app.every(1)
    def fine() -> None:
        app.state["ok"] = True

    app.run()
"""


def test_a_worker_running_past_its_interval_is_stuck_in_healthz_and_metrics(start_node: StartNode) -> None:
    node = start_node(PROGRAM)
    health = eventually(
        lambda: (h := http_call("GET", node.url + "/healthz")[1])["workers"]["read_sensor"]["stuck"] and h,
        interval_s=0.2,
    )
    worker = health["workers"]["read_sensor"]
    assert (worker["ok"], worker["stuck"], worker["stuck_after_s"]) == (False, True, 1.0)
    assert worker["running_for_s"] > 1.0
    assert health["workers"]["fine"]["stuck"] is False
    assert health["status"] == "degraded"
    metrics = http_call("GET", node.url + "/metrics")[1]["text"]
    assert 'roost_worker_stuck{worker="read_sensor"} 1' in metrics
    assert 'roost_worker_stuck{worker="fine"} 0' in metrics
    assert "worker read_sensor is stuck" in node.output()
