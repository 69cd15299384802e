"""Start-up time and idle memory of the demo home (targets: first response < 1 s, idle RSS < 50 MB).

Starts `roost demo` several times, measures the time from process start to the
first `GET /healthz` answer, then lets it idle and reads its resident memory
(VmRSS, and the high-water mark VmHWM) from /proc. Prints medians.

With `--mqtt` the demo runs with everything on: a Mosquitto of this run's own
on a free port, the bridge publishing its state with Home Assistant discovery,
the device adapters listening, alerts and notifications as always.

    python bench/footprint.py [--runs 5] [--idle 15] [--mqtt]
"""

from __future__ import annotations

import argparse
import compileall
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


def one_run(idle_s: float, mqtt: str | None) -> tuple[float, float, float]:
    port = free_port()
    extra = ["--mqtt", mqtt] if mqtt else []
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
                *extra,
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
    parser.add_argument("--mqtt", action="store_true", help="with a local Mosquitto and the bridge on")
    args = parser.parse_args()
    # A node starts from cached bytecode (pip compiles it at install time); with
    # PYTHONDONTWRITEBYTECODE set, every run would compile roost's sources anew.
    import roost

    compileall.compile_dir(Path(roost.__file__).parent, quiet=1)
    broker = None
    if args.mqtt:
        from mqtt import Broker  # bench/mqtt.py's

        broker = Broker(Path(tempfile.mkdtemp(prefix="roost-bench-mosquitto-")))
        broker.start()
    try:
        runs = measure(args, None if broker is None else f"mqtt://127.0.0.1:{broker.port}")
    finally:
        if broker is not None:
            broker.kill()
    first, rss, hwm = (statistics.median(x) for x in zip(*runs, strict=True))
    print(
        f"\nmedian{' (MQTT bridge on)' if args.mqtt else ''}: first response {first * 1000:.0f} ms"
        f" (target < 1000)   idle RSS {rss:.1f} MB (target < 50)   peak RSS {hwm:.1f} MB"
    )


def measure(args: argparse.Namespace, mqtt: str | None) -> list[tuple[float, float, float]]:
    runs = []
    for i in range(args.runs):
        first, rss, hwm = one_run(args.idle, mqtt)
        runs.append((first, rss, hwm))
        print(
            f"run {i + 1}: first response {first * 1000:6.0f} ms   idle RSS {rss:5.1f} MB   peak {hwm:5.1f} MB"
        )
    return runs


if __name__ == "__main__":
    main()
