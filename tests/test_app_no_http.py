"""App(port=None): a node with workers and components but no HTTP server."""

from __future__ import annotations

from pathlib import Path

from roost import App
from roost.testing import eventually


async def test_without_a_port_workers_run_and_nothing_listens(tmp_path: Path) -> None:
    app = App("headless", port=None, data_dir=tmp_path)

    @app.every(0.01)
    def tick() -> None:
        app.state["tick"] = True

    await app.start()
    try:
        assert app.server is None and app.port is None
        await eventually(lambda: "tick" in app.state)
        assert app.state["tick"] is True
    finally:
        await app.stop()


async def test_a_port_given_to_start_serves_after_all(tmp_path: Path) -> None:
    app = App("headless", port=None, data_dir=tmp_path)
    await app.start(host="127.0.0.1", port=0)
    try:
        assert app.server is not None and app.port
    finally:
        await app.stop()
