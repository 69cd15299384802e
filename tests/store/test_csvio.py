"""CSV import and export: bad rows reported by line, good rows kept, interrupted imports resumed."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from roost.store import HistoryStore
from roost.store.csvio import export_csv, import_csv
from support import RoostProcess

from .conftest import BERLIN

T0 = 1_700_000_000
GOOD = [f"rooms/a,{T0 + 60 * i},{20 + i / 10}" for i in range(1000)]


def write_csv(path: Path, lines: list[str], header: bool = True) -> Path:
    path.write_text("\n".join((["path,timestamp,value"] if header else []) + lines) + "\n")
    return path


def raw_values(store: HistoryStore, path: str = "rooms/a") -> list[float]:
    (series,) = store.query(path, 0, 2 * T0, resolution="raw")
    return series.mean


def test_bad_rows_are_reported_by_line_and_good_rows_kept(tmp_path: Path, store: HistoryStore) -> None:
    file = write_csv(
        tmp_path / "old.csv",
        [
            "rooms/a,2023-11-14T23:13:20+01:00,1.5",  # line 2
            "rooms/a,2023-11-14T23:14:20,on",  # no offset: the zone given; "on" is 1
            "rooms//a,1700000000,1",
            "rooms/a,last tuesday,1",
            "rooms/a,1700000000000,1",  # milliseconds
            "rooms/a,1700000200,warm",
            "rooms/a,1700000300,nan",
            "rooms/a,1700000400",
            "",
            '"rooms/a",1700000500,2.5',
        ],
    )
    bad: list[tuple[int, str]] = []
    report = import_csv(store, file, T0 + 86_400, BERLIN, on_bad=lambda line, why: bad.append((line, why)))
    assert (report.rows, report.bad) == (3, 6)
    assert [line for line, _ in bad] == [4, 5, 6, 7, 8, 9]
    assert "milliseconds" in bad[2][1] and "3 columns" in bad[5][1]
    assert raw_values(store) == [1.5, 1.0, 2.5]


def test_an_interrupted_import_resumes_where_it_stopped(tmp_path: Path, store: HistoryStore) -> None:
    file = write_csv(tmp_path / "big.csv", GOOD)
    batches: list[int] = []

    def stop_after_three(done: int, total: int, rows: int) -> None:
        batches.append(rows)
        if len(batches) == 3:
            raise KeyboardInterrupt  # as a Ctrl-C would, after the third commit

    with pytest.raises(KeyboardInterrupt):
        import_csv(store, file, T0 + 86_400, BERLIN, on_progress=stop_after_three, batch_rows=100)
    assert len(raw_values(store)) == 300
    report = import_csv(store, file, T0 + 86_400, BERLIN, batch_rows=100)
    assert (report.resumed_at_line, report.rows, report.total_rows) == (301, 700, 1000)
    assert raw_values(store) == [20 + i / 10 for i in range(1000)]  # each row once
    again = import_csv(store, file, T0 + 86_400, BERLIN)
    assert again.already_done and again.rows == 0


def test_a_grown_log_file_continues(tmp_path: Path, store: HistoryStore) -> None:
    file = write_csv(tmp_path / "log.csv", GOOD[:500], header=False)
    import_csv(store, file, T0 + 86_400, BERLIN)
    write_csv(file, GOOD, header=False)
    report = import_csv(store, file, T0 + 86_400, BERLIN)
    assert report.rows == 500 and len(raw_values(store)) == 1000


def run_roost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roost", "history", *args], capture_output=True, text=True, timeout=60
    )


def test_the_command_imports_reports_and_exports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    file = write_csv(tmp_path / "in.csv", [*GOOD[:10], "rooms/a,soon,1", *GOOD[10:20]])
    done = run_roost("import", "--data-dir", str(data), str(file))
    assert done.returncode == 1  # some rows were bad
    assert f"{file}:12: timestamp 'soon'" in done.stderr
    assert "imported 20 rows, 1 bad" in done.stderr
    out = tmp_path / "out.csv"
    exported = run_roost("export", "--data-dir", str(data), "--epoch", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "path,timestamp,value" and len(lines) == 21
    # What export writes, import reads back.
    again = run_roost("import", "--data-dir", str(tmp_path / "copy"), str(out))
    assert again.returncode == 0 and "imported 20 rows, 0 bad" in again.stderr


def recorded_hours(data: Path, hours: int) -> None:
    """One sample a second for the last `hours` hours, in a node's history at `data`."""
    now = time.time()
    store = HistoryStore(data / "history.db", BERLIN)
    store.open()
    try:
        store.ingest([("rooms/a", now - s, 20.0) for s in range(hours * 3600, 0, -1)], now)
    finally:
        store.close()


@pytest.mark.parametrize("start", [["--from", "-2h"], ["--from=-2h"], ["--from", "-90m", "--to", "-1h"]])
def test_export_takes_relative_times_as_the_docs_write_them(tmp_path: Path, start: list[str]) -> None:
    recorded_hours(tmp_path, 3)
    done = run_roost("export", "--data-dir", str(tmp_path), "--epoch", *start)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert 1700 < len(rows) <= 7200


def test_export_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    recorded_hours(tmp_path, 2)
    export = [sys.executable, "-m", "roost", "history", "export", "--data-dir", str(tmp_path)]
    with subprocess.Popen(export, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline() == "path,timestamp,value\n"
        proc.stdout.close()  # as `| head -1` does
        err = proc.stderr.read()
        status = proc.wait(timeout=60)
    assert "Traceback" not in err and "Error" not in err, err
    assert status == 141  # 128 + SIGPIPE, as a shell reports a Unix tool cut off by `head`


def test_the_command_will_not_write_under_a_running_node(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = HistoryStore(data / "history.db", BERLIN)
    running.open()
    try:
        done = run_roost("import", "--data-dir", str(data), str(write_csv(tmp_path / "x.csv", GOOD[:3])))
    finally:
        running.close()
    assert done.returncode == 2 and "is running (it holds history.db); import needs it stopped" in done.stderr


@pytest.mark.slow
def test_import_into_a_running_node_says_to_stop_it_and_works_once_stopped(
    tmp_path: Path, roost_process: type[RoostProcess]
) -> None:
    node = roost_process(["demo"])  # its data in tmp_path / "data"
    node.wait_ready()
    file = write_csv(tmp_path / "old.csv", GOOD[:3])
    data = tmp_path / "data"
    done = run_roost("import", "--data-dir", str(data), str(file))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"roost history import: the node using {data} is running (it holds history.db); "
        "import needs it stopped: stop the node, import, then start it again"
    )
    node.terminate()
    again = run_roost("import", "--data-dir", str(data), str(file))
    assert again.returncode == 0 and "imported 3 rows, 0 bad" in again.stderr


def test_the_progress_bar_shows_bytes_rows_and_time_left() -> None:
    import io

    from roost.store.tool import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(out, "old.csv")
    bar.update(250, 1000, 5000)
    bar.update(1000, 1000, 20_000)  # the last update is always drawn
    bar.finish()
    first, last = out.getvalue().strip("\n").split("\r")[1:]
    assert first.startswith("old.csv [######------------------]  25%  5,000 rows")
    assert "100%  20,000 rows" in last and "ETA 0:00" in last


def test_a_byte_order_mark_and_bytes_that_are_not_utf8(tmp_path: Path, store: HistoryStore) -> None:
    file = tmp_path / "excel.csv"
    file.write_bytes(
        b"\xef\xbb\xbfrooms/a,1700000000,1\r\nrooms/\xff,1700000060,2\r\nrooms/a,1700000120,3\r\n"
    )
    bad: list[int] = []
    report = import_csv(store, file, T0 + 86_400, BERLIN, on_bad=lambda line, why: bad.append(line))
    assert (report.rows, bad) == (2, [2])
    assert store.paths() == ["rooms/a"]


def test_times_past_2527_are_bad_rows_not_a_failed_import(tmp_path: Path, store: HistoryStore) -> None:
    file = write_csv(
        tmp_path / "typos.csv",
        [
            "rooms/a,1700000000,1.5",
            "rooms/a,9999-12-31T23:59:59,1",  # line 3: its day's end is past what a date can hold
            "rooms/a,2600-01-01T00:00:00,1",  # past what a row key can hold
            "rooms/a,20000000000,1",  # epoch seconds, as far
            "rooms/a,1700000060,2.5",
        ],
    )
    bad: list[tuple[int, str]] = []
    report = import_csv(store, file, T0 + 86_400, BERLIN, on_bad=lambda line, why: bad.append((line, why)))
    assert (report.rows, report.bad) == (2, 3)
    assert [line for line, _ in bad] == [3, 4, 5] and all("2527" in why for _, why in bad)
    assert raw_values(store) == [1.5, 2.5]


@pytest.mark.parametrize(("resolution", "count"), [("1d", 61), ("1h", 60 * 24), ("5m", 60 * 24)])
def test_an_export_of_buckets_lists_each_once(
    tmp_path: Path, store: HistoryStore, resolution: str, count: int
) -> None:
    # Berlin's days start at 23:00 UTC: the day holding each window's UTC edge is in two windows.
    start = 1_700_000_000 - 1_700_000_000 % 86_400
    store.ingest([("x", start + 3600 * i, float(i)) for i in range(60 * 24)], start + 90 * 86_400)
    out = io.StringIO()
    rows = export_csv(
        store, out, ["x"], start, start + 60 * 86_400, resolution, epoch=True, window_s=7 * 86_400
    )
    times = [line.split(",")[1] for line in out.getvalue().splitlines()[1:]]
    assert rows == len(times) == len(set(times)) == count
