"""History benchmark (issue 4): ingest, bytes on disk, chart latency, bytes written per hour.

    python bench/history.py [--runs 3] [--quick]

Prints every figure as the median of `--runs` runs, with the targets and baselines:

1. A year of 3 series at one sample a minute (1,576,800 samples, timestamps with
   a worker's millisecond jitter, values like a sensor's: 20.13, 54.2, 1830)
   goes in through the public ingest path (`HistoryStore.ingest`, what
   `app.history.ingest` calls) and through `roost history import` of the same
   rows as CSV (a subprocess, interpreter start included): samples/s.
2. Bytes on disk per sample: the database file after the ingest, rollups
   included, by table; against a plain `(series_id, ts, value)` WITHOUT ROWID
   table of the same rows, built in the same run.
3. The year chart (8,760 hourly min/max of one series) through the Python API,
   and through `GET /api/history` of a `roost run` subprocess (round trip on
   localhost, and the server's own query time from /metrics); against a plain
   GROUP BY over the baseline table. The last 24 h at full resolution likewise.
4. Bytes written to disk per hour at 3 samples a minute (one per series per
   minute), for commit intervals of 15, 60 and 300 s, from `/proc/<pid>/io`
   write_bytes of a child process; against the naive baseline: one commit per
   sample with SQLite's defaults (rollback journal, FULL sync).

   Time is compressed: the child simulates the recorder's clock (one sample
   every 20 s, rotating over the series; a commit every interval, with every
   sample since the last) as fast as the disk allows, after a warm-up day that
   brings the database to a steady state. This counts what a real run writes:
   write_bytes counts a page when it becomes dirty, and every commit syncs the
   WAL (synchronous=FULL), so each commit starts from clean pages, as it does in
   real time. The database file is written at checkpoints only: the child
   checkpoints when the warm-up ends and again when the measured hours end, so
   they pay for every page they changed (on a real node checkpoints are rarer,
   every 4 MiB of WAL, and cost less). Hourly and daily sealing fall inside the
   measured hours. The floor is one 4 KiB page per commit.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from roost.store import HistoryStore
from roost.store.writer import Call

TZ = ZoneInfo("Europe/Berlin")
PATHS = ("living_room/temperature", "living_room/humidity", "heat_pump/power_w")
YEAR_S = 365 * 86_400
INTERVALS_S = (15, 60, 300)
PAGE = 4096
# The obvious layout, the baseline for size and for the naive writer.
PLAIN_TABLE = (
    "CREATE TABLE samples (series_id INTEGER, ts INTEGER, value REAL,"
    " PRIMARY KEY (series_id, ts)) WITHOUT ROWID"
)


# -- data ------------------------------------------------------------------------------


def make_year(end_s: int, minutes: int) -> list[tuple[str, float, float]]:
    """Return `minutes` of samples per series, one a minute, ending at `end_s`."""
    rng = random.Random(4)
    start = end_s - minutes * 60
    out: list[tuple[str, float, float]] = []
    temperature, humidity, power = 21.0, 50.0, 800.0
    for i in range(minutes):
        t = start + 60 * i
        temperature = round(min(max(temperature + rng.choice((-0.02, -0.01, 0, 0, 0.01, 0.02)), 15), 28), 2)
        humidity = round(min(max(humidity + rng.choice((-0.1, 0, 0, 0.1)), 30), 80), 1)
        power = float(max(0, round(power + rng.gauss(0, 25))))
        jitter = rng.random
        out.append((PATHS[0], t + jitter() * 0.05, temperature))
        out.append((PATHS[1], t + 20 + jitter() * 0.05, humidity))
        out.append((PATHS[2], t + 40 + jitter() * 0.05, power))
    return out


def write_csv(samples: list[tuple[str, float, float]], path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("path", "timestamp", "value"))
        w.writerows((p, f"{t:.3f}", repr(v)) for p, t, v in samples)


def timed(func: Callable[[], object], repeat: int) -> float:
    """Return the median wall time of `func` in ms."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


# -- 1. ingest ---------------------------------------------------------------------------


def bench_ingest(
    samples: list[tuple[str, float, float]], now: float, runs: int, tmp: Path
) -> tuple[float, Path]:
    rates = []
    db = tmp / "ingest" / "history.db"
    for _ in range(runs):
        shutil.rmtree(db.parent, ignore_errors=True)
        store = HistoryStore(db, TZ)
        store.open()
        started = time.perf_counter()
        store.ingest(samples, now)
        rates.append(len(samples) / (time.perf_counter() - started))
        store.close()
    return statistics.median(rates), db


def bench_import(csv_path: Path, rows: int, runs: int, tmp: Path) -> float:
    rates = []
    for _ in range(runs):
        data = tmp / "import"
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "roost", "history", "import", "--data-dir", str(data), str(csv_path)],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"import failed:\n{done.stderr}")
        rates.append(rows / elapsed)
    return statistics.median(rates)


# -- 2. bytes on disk ----------------------------------------------------------------------


def table_bytes(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(
            conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        )
    except sqlite3.OperationalError:  # a build without the dbstat table
        return {}
    finally:
        conn.close()


def build_baseline(samples: list[tuple[str, float, float]], db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(PLAIN_TABLE)
    ids = {p: i + 1 for i, p in enumerate(PATHS)}
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO samples VALUES (?, ?, ?)",
        sorted((ids[p], round(t * 1000), v) for p, t, v in samples),
    )
    conn.execute("COMMIT")
    conn.close()


# -- 3. charts -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics") as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise KeyError(name)


async def http_timings(url: str, queries: dict[str, str], repeat: int) -> dict[str, tuple[float, float, int]]:
    """Return `(round trip ms, server query ms, points)` per query, medians."""
    out = {}
    async with aiohttp.ClientSession(base_url=url) as http:
        for name, query in queries.items():
            rounds, servers, points = [], [], 0
            for i in range(repeat + 3):
                q0, s0 = (
                    metric(url, "roost_history_queries_total"),
                    metric(url, "roost_history_query_seconds_total"),
                )
                started = time.perf_counter()
                async with http.get("/api/history?" + query) as r:
                    data = await r.read()  # the client's JSON parsing is not the server's time
                elapsed = time.perf_counter() - started
                body = json.loads(data)
                q1, s1 = (
                    metric(url, "roost_history_queries_total"),
                    metric(url, "roost_history_query_seconds_total"),
                )
                if i >= 3:  # after a warm-up
                    rounds.append(elapsed * 1000)
                    servers.append((s1 - s0) / (q1 - q0) * 1000)
                points = len(body["series"][0]["t"])
            out[name] = (statistics.median(rounds), statistics.median(servers), points)
    return out


def serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    program = data.parent / "serve_history.py"
    program.write_text('from roost import App\nApp("bench", timezone="Europe/Berlin").run()\n')
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "roost", "run", "--port", str(port), "--data-dir", str(data), str(program)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the roost server did not start")


# -- 4. bytes written per hour -------------------------------------------------------------------

SIM_START = round(datetime(2024, 6, 3, tzinfo=TZ).timestamp())  # a Monday, local midnight
SAMPLE_EVERY_S = 20  # 3 a minute, rotating over the 3 series


def write_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise KeyError("write_bytes")


def child_ours(directory: str, interval_s: int, warmup_h: int, hours: int) -> None:
    """Simulate the recorder: a sample every 20 s, a commit every `interval_s` with all since the last."""
    store = HistoryStore(Path(directory) / "history.db", TZ)
    store.open()
    rng = random.Random(1)
    values = [21.0, 50.0, 800.0]
    pending: list[tuple[str, int, float]] = []
    t = SIM_START

    def run(until: int) -> None:
        nonlocal t
        while t < until:
            t += 5  # both the samples (every 20 s) and the commits (every 15, 60, 300 s) fall on 5 s steps
            if t % SAMPLE_EVERY_S == 0:
                k = (t // SAMPLE_EVERY_S) % 3
                values[k] = round(values[k] + rng.choice((-0.1, 0.0, 0.1)), 2)
                pending.append((PATHS[k], t * 1000 + rng.randint(0, 50), values[k]))
            if t % interval_s == 0:
                store.append(pending[:], t * 1000).result()
                pending.clear()

    def checkpoint() -> None:
        store.submit(
            Call(lambda engine: engine.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
        ).result()

    run(SIM_START + warmup_h * 3600)
    checkpoint()
    commits = store.engine.stats.commits
    print("ready", flush=True)
    sys.stdin.readline()
    run(t + hours * 3600)
    checkpoint()
    # A tick with no new sample (a 15 s tick between samples 20 s apart) commits nothing.
    print(f"done {store.engine.stats.commits - commits}", flush=True)
    sys.stdin.readline()
    store.close()


def child_naive(directory: str, warmup_h: int, hours: int) -> None:
    """One commit per sample, SQLite's defaults: rollback journal, synchronous FULL."""
    conn = sqlite3.connect(Path(directory) / "naive.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(PLAIN_TABLE)
    rng = random.Random(1)
    t = SIM_START

    def sample() -> tuple[int, int, float]:
        nonlocal t
        t += SAMPLE_EVERY_S
        return (t // SAMPLE_EVERY_S) % 3, t * 1000, round(20 + rng.random(), 2)

    conn.execute("BEGIN")  # the warm-up in one go: only the steady state is measured
    conn.executemany("INSERT INTO samples VALUES (?, ?, ?)", [sample() for _ in range(warmup_h * 180)])
    conn.execute("COMMIT")
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(hours * 180):
        conn.execute("INSERT INTO samples VALUES (?, ?, ?)", sample())
    print(f"done {hours * 180}", flush=True)
    sys.stdin.readline()
    conn.close()


def measure_child(args: list[str], tmp: Path, hours: int) -> tuple[float, float]:
    """Run a child mode; return its write_bytes and its commits per simulated hour."""
    directory = Path(tempfile.mkdtemp(dir=tmp))
    proc = subprocess.Popen(
        [sys.executable, __file__, *args[:1], str(directory), *args[1:]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    before = write_bytes(proc.pid)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    done, commits = proc.stdout.readline().split()
    assert done == "done"
    after = write_bytes(proc.pid)
    proc.stdin.write("exit\n")
    proc.stdin.flush()
    proc.wait()
    shutil.rmtree(directory, ignore_errors=True)
    return (after - before) / hours, int(commits) / hours


# -- report -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; medians are printed")
    parser.add_argument(
        "--quick", action="store_true", help="a month instead of a year, fewer simulated hours"
    )
    args = parser.parse_args()
    minutes = 30 * 1440 if args.quick else 365 * 1440
    sim_hours = 12 if args.quick else 72
    tmp = Path(tempfile.mkdtemp(prefix="roost-bench-history-", dir=Path.cwd()))
    try:
        run(args.runs, minutes, sim_hours, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(runs: int, minutes: int, sim_hours: int, tmp: Path) -> None:
    now = time.time()
    end = int(now // 3600 * 3600)
    samples = make_year(end, minutes)
    n = len(samples)
    print(f"history benchmark: {len(PATHS)} series x {minutes:,} minutes = {n:,} samples, medians of {runs}")
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cores\n")

    ingest_rate, db = bench_ingest(samples, now, runs, tmp)
    csv_path = tmp / "year.csv"
    write_csv(samples, csv_path)
    import_rate = bench_import(csv_path, n, runs, tmp)
    print("1. ingest (target > 100,000 samples/s)")
    print(f"   public ingest path (HistoryStore.ingest): {ingest_rate:>12,.0f} samples/s")
    print(f"   roost history import (CSV, subprocess):   {import_rate:>12,.0f} samples/s")

    size = db.stat().st_size
    tables = table_bytes(db)
    baseline = tmp / "baseline.db"
    build_baseline(samples, baseline)
    base_size = baseline.stat().st_size
    raw = tables.get("raw", 0)
    print("\n2. bytes on disk per raw sample (target < 20; plain table measured 22.5 B in the issue)")
    print(f"   roost, whole file (rollups, index, schema): {size / n:6.2f} B   ({size / 1e6:.1f} MB)")
    if tables:
        print(f"   roost, raw rows only:                      {raw / n:6.2f} B")
        print("   by table: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in tables.items() if v > 8192))
    print(
        f"   plain (series_id, ts, value) WITHOUT ROWID: {base_size / n:6.2f} B   ({base_size / 1e6:.1f} MB)"
    )
    print(f"   ratio: {base_size / size:.1f}x smaller")

    store = HistoryStore(db, TZ)
    store.open()
    year = (end - YEAR_S, end) if minutes >= 365 * 1440 else (end - minutes * 60, end)
    chart_points = (year[1] - year[0]) // 3600
    api_year = timed(lambda: store.query(PATHS[0], *year, points=chart_points), 30)
    (series,) = store.query(PATHS[0], *year, points=chart_points)
    api_day = timed(lambda: store.query(PATHS[0], end - 86_400, end, points=5000), 30)
    (day,) = store.query(PATHS[0], end - 86_400, end, points=5000)
    store.close()
    base = sqlite3.connect(baseline)
    group_by = (
        "SELECT ts / 3600000 * 3600000 AS hour, min(value), max(value) FROM samples"
        " WHERE series_id = 1 AND ts >= ? AND ts < ? GROUP BY hour"
    )
    base_rows = len(base.execute(group_by, (year[0] * 1000, year[1] * 1000)).fetchall())
    base_year = timed(
        lambda: base.execute(group_by, (year[0] * 1000, year[1] * 1000)).fetchall(), max(runs, 3)
    )
    select_day = "SELECT ts, value FROM samples WHERE series_id = 1 AND ts >= ? AND ts < ? ORDER BY ts"
    base_day = timed(lambda: base.execute(select_day, ((end - 86_400) * 1000, end * 1000)).fetchall(), 30)
    base.close()

    proc, url = serve(db.parent)
    try:
        http = asyncio.run(
            http_timings(
                url,
                {
                    "year": f"path={PATHS[0]}&from={year[0]}&to={year[1]}&points={chart_points}",
                    "day": f"path={PATHS[0]}&from={end - 86_400}&to={end}&points=5000",
                },
                30,
            )
        )
    finally:
        proc.terminate()
        proc.wait()
    print(f"\n3. year chart: {len(series):,} hourly min/max of one series (target < 20 ms server time)")
    print(
        f"   GET /api/history round trip:      {http['year'][0]:8.2f} ms   ({http['year'][2]:,} points, JSON)"
    )
    print(f"   GET /api/history, server's query: {http['year'][1]:8.2f} ms")
    print(f"   Python API (HistoryStore.query):  {api_year:8.2f} ms   (resolution {series.resolution_s} s)")
    print(f"   plain GROUP BY over raw rows:     {base_year:8.2f} ms   ({base_rows:,} rows)")
    faster_api, faster_http = base_year / api_year, base_year / http["year"][0]
    print(f"   ratio: {faster_api:.0f}x faster (Python API), {faster_http:.0f}x (HTTP)")
    print(f"   last 24 h at full resolution ({len(day):,} samples, resolution {day.resolution_s}):")
    print(f"   GET /api/history round trip:      {http['day'][0]:8.2f} ms")
    print(f"   Python API:                       {api_day:8.2f} ms")
    print(f"   plain SELECT over raw rows:       {base_day:8.2f} ms")

    print(f"\n4. bytes written per hour at 3 samples/min ({sim_hours} simulated hours after a warm-up day)")
    naive_runs = [measure_child(["--child-naive", "24", str(sim_hours)], tmp, sim_hours) for _ in range(runs)]
    naive = statistics.median(b for b, _ in naive_runs)
    print(
        f"   naive: a commit per sample, rollback journal, FULL: {naive / 1024:8.1f} KiB/h (issue: 3.2 MiB/h)"
    )
    for interval in INTERVALS_S:
        results = [
            measure_child(["--child-ours", str(interval), "24", str(sim_hours)], tmp, sim_hours)
            for _ in range(runs)
        ]
        per_hour = statistics.median(b for b, _ in results)
        commits = statistics.median(c for _, c in results)
        floor = 3600 / interval * PAGE
        print(
            f"   roost, commit every {interval:>3} s: {per_hour / 1024:8.1f} KiB/h = {per_hour / floor:4.2f}x"
            f" the floor ({floor / 1024:.0f} KiB/h), {naive / per_hour:5.1f}x less than naive;"
            f" {commits:.0f} commits/h, {per_hour / commits / 1024:.1f} KiB each"
        )
    print("\n   targets: within 3x of the floor at every interval; at 300 s at least 20x less than naive")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-ours":
        child_ours(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-naive":
        child_naive(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
