"""Start-up time and idle memory of the demo home (targets: first response < 1 s, idle RSS < 50 MB).

Starts `roost demo` several times, measures the time from process start to the
first `GET /healthz` answer, then lets it idle and reads its resident memory
(VmRSS, and the high-water mark VmHWM) from /proc. Prints medians.

    python bench/footprint.py [--runs 5] [--idle 15]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text)[1])  # type: ignore[index]


def one_run(idle_s: float) -> tuple[float, float, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "roost",
                "--log-level",
                "WARNING",
                "demo",
                "--port",
                str(port),
                "--data-dir",
                tmp,
            ],
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                        break
                except OSError:
                    if proc.poll() is not None:
                        sys.exit(f"roost demo exited with {proc.returncode}")
                    time.sleep(0.01)
            first = time.monotonic() - started
            time.sleep(idle_s)
            rss, hwm = status_kb(proc.pid, "VmRSS"), status_kb(proc.pid, "VmHWM")
        finally:
            proc.terminate()
            proc.wait(10)
    return first, rss / 1024, hwm / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=15.0, help="seconds to idle before reading memory")
    args = parser.parse_args()
    runs = []
    for i in range(args.runs):
        first, rss, hwm = one_run(args.idle)
        runs.append((first, rss, hwm))
        print(
            f"run {i + 1}: first response {first * 1000:6.0f} ms   idle RSS {rss:5.1f} MB   peak {hwm:5.1f} MB"
        )
    first, rss, hwm = (statistics.median(x) for x in zip(*runs, strict=True))
    print(
        f"\nmedian: first response {first * 1000:.0f} ms (target < 1000)   idle RSS {rss:.1f} MB (target < 50)"
        f"   peak RSS {hwm:.1f} MB"
    )


if __name__ == "__main__":
    main()
