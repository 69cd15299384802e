"""Does a hung command cost the other commands anything? p50/p99 of a sync command, with and without 8 hung calls.

Starts `roost run` on a program with sync commands on 127.0.0.1: `hang` (a
device call that blocks until `release` is called: hung for as long as the
phase lasts) and `ping`. Measures `ping` from 4 client threads, alone, then
while 8 calls of `hang` are in flight (4 hold their threads, 4 are refused with
429 by the per-command limit), in interleaved rounds on a shared machine.
Prints each phase's median p50 and p99 over the rounds. Runs in ~20 s.

    python bench/hung_commands.py [--calls 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

PROGRAM = """
    import time
    from roost import App

    import threading

    app = App("bench-hung", command_timeout_s=60)
    gate = threading.Event()

    @app.command
    def hang() -> None:
        gate.wait()

    @app.command
    def release() -> None:
        gate.set()
        time.sleep(0.2)
        gate.clear()

    @app.command
    def ping() -> str:
        return "pong"

    app.run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, timeout_s: float = 70.0) -> int:
    request = urllib.request.Request(url, data=b"{}", method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            reply.read()
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return -1


def measure(url: str, calls: int, clients: int = 4) -> tuple[list[float], int]:
    def one(_: int) -> tuple[float, int]:
        t0 = time.perf_counter()
        status = post(url, 10)
        return (time.perf_counter() - t0) * 1e3, status

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(calls)))
    return [ms for ms, _ in results], sum(1 for _, status in results if status != 200)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="ping calls per phase (default 400)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "hung.py"
        program.write_text(textwrap.dedent(PROGRAM))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "roost", "run", "--port", str(port), "--data-dir", tmp, str(program)]
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while post(base + "/api/commands/ping", 1) != 200:
                if time.monotonic() > deadline:
                    raise SystemExit("the node did not start")
                time.sleep(0.1)
            measure(base + "/api/commands/ping", 50)  # warm up
            rows: dict[str, list[tuple[float, float, int]]] = {"alone": [], "hung": []}
            refused: list[int] = []
            threads = 0
            for _ in range(args.rounds):
                ms, errors = measure(base + "/api/commands/ping", args.calls)
                rows["alone"].append((p(ms, 50), p(ms, 99), errors))
                with ThreadPoolExecutor(8) as hung_pool:
                    hung: list[Future[int]] = [
                        hung_pool.submit(post, base + "/api/commands/hang") for _ in range(8)
                    ]
                    time.sleep(0.5)  # every hung call has been refused or holds its thread
                    ms, errors = measure(base + "/api/commands/ping", args.calls)
                    rows["hung"].append((p(ms, 50), p(ms, 99), errors))
                    with urllib.request.urlopen(base + "/healthz", timeout=5) as reply:
                        threads = json.loads(reply.read())["commands"]["busy"]
                    post(base + "/api/commands/release")
                    refused.append(sum(1 for f in hung if f.result() == 429))
            print(
                f"ping x {args.calls} per phase, 4 client threads, {args.rounds} rounds; sync commands: "
                "8-thread pool, 4 calls in flight per command"
            )
            print(f"{'phase':<30}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
            for key, label in (("alone", "ping alone"), ("hung", "ping, 8 hung calls of `hang`")):
                p50 = statistics.median(r[0] for r in rows[key])
                p99 = statistics.median(r[1] for r in rows[key])
                print(f"{label:<30}{p50:>9.2f}{p99:>9.2f}{sum(r[2] for r in rows[key]):>8}")
            print(f"hung calls refused with 429 per round: {refused}; threads busy with hang: {threads}")
        finally:
            server.terminate()
            server.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
