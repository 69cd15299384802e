"""Throughput and latency of `GET /api/state` against raspend 2.0.4 and a bare aiohttp handler.

Starts three servers on 127.0.0.1 (the demo home, raspend 2.0.4 serving the same
dict from a throwaway venv, and a bare aiohttp handler returning the same bytes),
then loads each with wrk at 1, 10 and 100 connections, several interleaved rounds.
Servers are pinned to CPU 0 and wrk to CPU 1 so that neither starves the other on
two cores. Prints medians of req/s, p50 and p99, errors, and the ratios the
targets are stated in (>= 3x raspend at 10 connections, >= 80% of bare aiohttp,
p99 < 20 ms at 100 connections).

    python bench/http_state.py [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RASPEND_VENV = HERE / ".venvs" / "raspend"


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    failures: int  # connect errors, timeouts and non-2xx replies: requests a client lost
    closes: int  # wrk's "read" errors: raspend speaks HTTP/1.0 and closes after each reply


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float = 20.0) -> bytes:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return bytes(r.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return (
        ["taskset", "-c", str(cpu), *argv] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else argv
    )


def ensure_raspend() -> Path:
    python = RASPEND_VENV / "bin" / "python"
    if not python.exists():
        print("creating a throwaway venv with raspend 2.0.4 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(RASPEND_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "raspend==2.0.4"], check=True)
    return python


def parse_wrk(text: str) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text)[1])  # type: ignore[index]

    def pct(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return float("nan")
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m[2]]
        return float(m[1]) * scale

    failures = closes = 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        connect, read, write, timeout = (int(x) for x in m.groups())
        failures += connect + write + timeout
        closes += read
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        failures += int(m[1])
    return Run(rps, pct("50"), pct("99"), failures, closes)


def load(url: str, connections: int, duration_s: int) -> Run:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", "--timeout", "2s", url]
    out = subprocess.run(pinned(1, argv), capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--connections", default="1,10,100", help="comma-separated connection counts")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run `make bench`, which installs it (Debian package wrk)")
    conns = [int(c) for c in args.connections.split(",")]
    raspend_python = ensure_raspend()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            targets = start_servers(Path(tmp), raspend_python, procs)
            results: dict[tuple[str, int], list[Run]] = {}
            for rnd in range(args.rounds):
                for c in conns:
                    for name, url in targets.items():
                        run = load(url, c, args.duration)
                        results.setdefault((name, c), []).append(run)
                        print(
                            f"round {rnd + 1} {name:8} c={c:<3} {run.rps:9.0f} req/s  "
                            f"p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms  "
                            f"failed {run.failures}  closed {run.closes}",
                            flush=True,
                        )
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)
    report(results, conns, list(targets))


def start_servers(tmp: Path, raspend_python: Path, procs: list[subprocess.Popen[bytes]]) -> dict[str, str]:
    env = {**os.environ, "ROOST_LOG_LEVEL": "WARNING"}
    roost_port = free_port()
    procs.append(
        subprocess.Popen(
            pinned(
                0,
                [
                    sys.executable,
                    "-m",
                    "roost",
                    "demo",
                    "--port",
                    str(roost_port),
                    "--data-dir",
                    str(tmp / "data"),
                ],
            ),
            env=env,
        )
    )
    payload = wait_http(f"http://127.0.0.1:{roost_port}/api/state")
    time.sleep(1.0)  # let the demo's first round of writes settle
    payload = wait_http(f"http://127.0.0.1:{roost_port}/api/state")
    (tmp / "payload.json").write_bytes(payload)
    print(f"payload: {len(payload)} bytes, {len(json.loads(payload))} top-level keys")
    bare_port, raspend_port = free_port(), free_port()
    procs.append(
        subprocess.Popen(
            pinned(
                0,
                [
                    sys.executable,
                    str(HERE / "servers" / "bare_aiohttp.py"),
                    str(bare_port),
                    str(tmp / "payload.json"),
                ],
            )
        )
    )
    procs.append(
        subprocess.Popen(
            pinned(
                0,
                [
                    str(raspend_python),
                    str(HERE / "servers" / "raspend_server.py"),
                    str(raspend_port),
                    str(tmp / "payload.json"),
                ],
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    targets = {
        "roost": f"http://127.0.0.1:{roost_port}/api/state",
        "raspend": f"http://127.0.0.1:{raspend_port}/data",
        "aiohttp": f"http://127.0.0.1:{bare_port}/data",
    }
    for url in targets.values():
        wait_http(url)
    return targets


def report(results: dict[tuple[str, int], list[Run]], conns: list[int], names: list[str]) -> None:
    def med(name: str, c: int, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[(name, c)])

    print("\nmedians over rounds")
    print(f"{'server':8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7} {'closed':>7}")
    for c in conns:
        for name in names:
            print(
                f"{name:8} {c:>5} {med(name, c, 'rps'):9.0f} {med(name, c, 'p50_ms'):8.2f} "
                f"{med(name, c, 'p99_ms'):8.2f} {med(name, c, 'failures'):7.0f} {med(name, c, 'closes'):7.0f}"
            )
    print("\nratios (roost / other, req/s)")
    for c in conns:
        roost = med("roost", c, "rps")
        print(
            f"c={c:<3}  vs raspend {roost / med('raspend', c, 'rps'):5.2f}x   vs bare aiohttp "
            f"{roost / med('aiohttp', c, 'rps'):5.0%}"
        )
    print("failed = connect errors, timeouts (2 s) and non-2xx replies; closed = HTTP/1.0 connection closes")
    if 100 in conns:
        print(f"\nroost p99 at 100 connections: {med('roost', 100, 'p99_ms'):.2f} ms (target < 20 ms)")


if __name__ == "__main__":
    main()
