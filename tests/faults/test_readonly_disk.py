"""Fault 4: history recovers once the disk is writable again, and keeps what it buffered meanwhile."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from roost.testing import NeverHeld, eventually
from support import RoostProcess, StartNode, http_call

COUNTING = """
    from roost import App
    from roost.store import HistorySettings

    app = App("counting", history=HistorySettings(commit_interval_s=0.5, heartbeat_s=None))
    count = 0

    @app.every(0.02)
    def tick() -> None:
        global count
        count += 1
        app.state["count"] = count

    app.run()
"""


SECOND_RUN = 1_000_000  # where a second run's count starts, to tell its samples apart


def set_immutable(paths: list[Path], on: bool) -> None:
    """`chattr +i` (or -i): not even root may write, create or delete there."""
    subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True, capture_output=True)


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths the test made immutable; made writable again afterwards, whatever happened."""
    probe = tmp_path / "probe"
    probe.touch()
    try:
        set_immutable([probe], True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i is not available here (needs root and a file system that supports it)")
    set_immutable([probe], False)
    made: list[Path] = []
    yield made
    existing = [p for p in made if p.exists()]
    if existing:
        set_immutable(existing, False)


def history_of(node_url: str) -> dict[str, object]:
    return http_call("GET", node_url + "/healthz")[1]["components"]["history"]  # type: ignore[no-any-return]


def wait_for(predicate: Callable[[], object], timeout_s: float = 15.0) -> bool:
    try:
        eventually(predicate, timeout_s, interval_s=0.1)
    except NeverHeld:
        return False
    return True


def exported_counts(data_dir: Path) -> list[int]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "roost",
            "history",
            "export",
            "--data-dir",
            str(data_dir),
            "--path",
            "count",
            "--epoch",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(int(float(row[2])) for row in csv.reader(io.StringIO(out)) if row and row[0] == "count")


def test_history_recovers_after_the_disk_was_read_only_and_loses_nothing(
    start_node: StartNode, tmp_path: Path, immutable: list[Path]
) -> None:
    node = start_node(COUNTING)
    data = tmp_path / "data"
    assert wait_for(lambda: history_of(node.url)["written"] > 0)
    immutable[:] = [data, *data.iterdir()]
    set_immutable(immutable, True)
    assert wait_for(lambda: history_of(node.url)["ok"] is False), history_of(node.url)
    time.sleep(2)  # several failed commits
    set_immutable(immutable, False)
    assert_recovers_and_keeps_every_sample(node, data)


def test_a_node_started_on_a_read_only_database_recovers_once_it_is_writable(
    start_node: StartNode, tmp_path: Path, immutable: list[Path]
) -> None:
    first = start_node(COUNTING)
    data = tmp_path / "data"
    assert wait_for(lambda: history_of(first.url)["written"] > 0)
    first.terminate()
    immutable[:] = [data / "history.db"]
    set_immutable(immutable, True)  # SQLite opens it read-only, without a word
    node = start_node(COUNTING.replace("count = 0", f"count = {SECOND_RUN}"))
    assert wait_for(lambda: history_of(node.url)["ok"] is False), history_of(node.url)
    time.sleep(2)
    set_immutable(immutable, False)
    assert_recovers_and_keeps_every_sample(node, data)


def assert_recovers_and_keeps_every_sample(node: RoostProcess, data: Path) -> None:
    written = history_of(node.url)["written"]
    recovered = lambda: history_of(node.url)["ok"] is True and history_of(node.url)["written"] > written  # noqa: E731
    assert wait_for(recovered), history_of(node.url)
    last = http_call("GET", node.url + "/api/state/count")[1]
    node.terminate()
    counts = exported_counts(data)
    if last >= SECOND_RUN:
        counts = [c for c in counts if c >= SECOND_RUN]
    assert counts[-1] >= last
    assert counts == list(range(counts[0], counts[-1] + 1))  # not one sample lost


def test_the_final_commit_at_sigterm_succeeds_once_the_disk_is_writable_again(
    start_node: StartNode, tmp_path: Path, immutable: list[Path]
) -> None:
    first = start_node(COUNTING)
    data = tmp_path / "data"
    assert wait_for(lambda: history_of(first.url)["written"] > 0)
    first.terminate()
    immutable[:] = [data / "history.db"]
    set_immutable(immutable, True)
    node = start_node(COUNTING.replace("count = 0", f"count = {SECOND_RUN}"))
    assert wait_for(lambda: history_of(node.url)["ok"] is False), history_of(node.url)
    time.sleep(1)
    set_immutable(immutable, False)
    last = http_call("GET", node.url + "/api/state/count")[1]
    node.terminate()  # at once: no periodic commit ran on a writable disk before the final one
    counts = [c for c in exported_counts(data) if c >= SECOND_RUN]
    assert counts[-1] >= last
    assert counts == list(range(SECOND_RUN + 1, counts[-1] + 1))  # the whole run, from its first sample


READ_ONLY_START = COUNTING.replace(
    "    app.run()",
    """    @app.command
    def hello() -> str:
        return "hi"

    app.run()""",
)


def test_a_read_only_data_directory_starts_degraded_and_recovers(
    start_node: StartNode, tmp_path: Path, immutable: list[Path]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    immutable[:] = [data]
    set_immutable(immutable, True)  # not even root can create history.db there
    node = start_node(READ_ONLY_START)
    health = http_call("GET", node.url + "/healthz")[1]
    assert health["status"] == "degraded"
    history = health["components"]["history"]
    assert (history["ok"], history["available"]) == (False, False)
    assert str(data) not in history["error"]
    assert http_call("GET", node.url + "/")[0] == 200  # the page
    assert http_call("POST", node.url + "/api/commands/hello", b"{}")[1] == {"result": "hi"}
    assert wait_for(lambda: http_call("GET", node.url + "/api/state/count")[1] > 10)  # workers run
    status, body, _ = http_call("GET", node.url + "/api/history?path=count")
    assert status == 503
    assert body["error"]["message"].startswith("history is unavailable")
    set_immutable(immutable, False)
    assert wait_for(lambda: history_of(node.url)["ok"] is True)  # within REOPEN_EVERY_S
    # alerts.db is tried again on its own clock, as often.
    assert wait_for(lambda: http_call("GET", node.url + "/healthz")[1]["status"] == "ok"), [
        k for k, c in http_call("GET", node.url + "/healthz")[1]["components"].items() if not c["ok"]
    ]
    node.terminate()
    counts = exported_counts(data)
    assert counts == list(range(1, counts[-1] + 1))  # buffered from the first sample on


RETAINING = COUNTING.replace(
    "    app.run()",
    """    app.meta("heating", retain=True)

    @app.command
    def set_target(celsius: float) -> float:
        app.state["heating/target"] = celsius
        return celsius

    @app.command
    def set_mode(mode: str) -> str:
        app.state["heating/mode"] = mode
        return mode

    app.run()""",
)


def test_retained_values_come_back_once_a_read_only_database_is_writable(
    start_node: StartNode, tmp_path: Path, immutable: list[Path]
) -> None:
    first = start_node(RETAINING)
    data = tmp_path / "data"
    for command, args in (("set_target", b'{"celsius": 21.5}'), ("set_mode", b'{"mode": "eco"}')):
        assert http_call("POST", first.url + f"/api/commands/{command}", args)[0] == 200
    first.terminate()
    immutable[:] = [data]
    set_immutable(immutable, True)  # history.db is there, but no -wal file can be made beside it
    second = start_node(RETAINING)
    assert wait_for(lambda: history_of(second.url)["ok"] is False), history_of(second.url)
    assert http_call("GET", second.url + "/api/state/heating")[0] == 404  # not readable yet
    http_call("POST", second.url + "/api/commands/set_mode", b'{"mode": "away"}')  # changed meanwhile
    set_immutable(immutable, False)
    assert wait_for(lambda: history_of(second.url)["ok"] is True)
    # What was stored comes back, but not over what the tree has changed since start.
    assert http_call("GET", second.url + "/api/state/heating")[1] == {"target": 21.5, "mode": "away"}
    second.terminate()
    third = start_node(RETAINING)
    assert http_call("GET", third.url + "/api/state/heating")[1] == {"target": 21.5, "mode": "away"}
    third.terminate()
