"""A real `roost run` process killed mid-ingest keeps every committed sample; SIGTERM keeps all."""

from __future__ import annotations

import signal
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from roost.store import HistoryStore
from roost.testing import NeverHeld, eventually

from .conftest import BERLIN

# A counter written as fast as a worker can: with nothing else in the state,
# the change with sequence number n sets it to n. The recorder's committed_seq
# metric says which changes' samples are committed, so "committed" is observable.
PROGRAM = """
from pathlib import Path
from roost import App, HistorySettings

app = App("durable", history=HistorySettings(commit_interval_s=0.1, heartbeat_s=None))
count = 0


@app.every(0.002)
def pump():
    global count
    count += 1
    app.state["test/counter"] = count


app.run()
Path("final.txt").write_text(str(app.state["test/counter"]))
"""


def committed_seq(url: str) -> int:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("roost_history_committed_seq "):
                return int(float(line.split()[1]))
    raise AssertionError("no roost_history_committed_seq in /metrics")


def run_until_committed(roost_process: Any, tmp_path: Path, at_least: int) -> tuple[Any, int]:
    program = tmp_path / "durable.py"
    program.write_text(PROGRAM)
    proc = roost_process(["run", str(program)], tmp_path)
    proc.wait_ready()
    try:
        seen = eventually(lambda: (n := committed_seq(proc.url)) >= at_least and n, 60, interval_s=0.05)
    except NeverHeld as exc:
        pytest.fail(f"{exc}\n{proc.output()}")
    return proc, seen


def recorded_counts(data: Path) -> list[float]:
    check = sqlite3.connect(data / "history.db")
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        check.close()
    store = HistoryStore(data / "history.db", BERLIN)
    store.open()
    try:
        (series,) = store.query("test/counter", 0, time.time() + 60, resolution="raw")
        return series.mean
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_mid_ingest_loses_nothing_committed(roost_process: Any, tmp_path: Path) -> None:
    proc, committed = run_until_committed(roost_process, tmp_path, 300)
    proc.proc.send_signal(signal.SIGKILL)
    proc.proc.wait(10)
    values = recorded_counts(tmp_path / "data")
    assert set(range(1, committed + 1)) <= set(values)
    assert len(values) == len(set(values))  # nothing twice either


@pytest.mark.slow
def test_sigterm_loses_nothing(roost_process: Any, tmp_path: Path) -> None:
    proc, _ = run_until_committed(roost_process, tmp_path, 300)
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(30) == 0, proc.output()
    final = int((tmp_path / "final.txt").read_text())
    assert recorded_counts(tmp_path / "data") == [float(n) for n in range(1, final + 1)]


@pytest.mark.slow
def test_a_second_node_on_the_same_data_dir_says_why_it_cannot_start(
    roost_process: Any, tmp_path: Path
) -> None:
    program = tmp_path / "idle.py"
    program.write_text("from roost import App\nApp('idle').run()\n")
    first = roost_process(["run", str(program)], tmp_path)
    first.wait_ready()
    second = roost_process(["run", str(program)], tmp_path)
    assert second.proc.wait(30) != 0
    assert "in use by another process" in second.output()
    assert "Traceback" not in second.output()
