"""A slow consumer costs only itself: live p99 with and without one, in the same run.

    python bench/slow_consumer.py                     # 100 WS clients, 1,000 changes/s, ~30 s
    python bench/slow_consumer.py --rounds 4 --phase 8 --clients 200

One roost node (a subprocess, with its history recorder as usual) has WebSocket
clients connected while a thread writes `bench/tick` 1,000 times a second. The
run alternates phases without and with one more consumer of the change stream,
`slow`, an `async def` that sleeps 1 s per batch (`--max-pending` bounds what it
holds meanwhile, coalesced). Each phase uses fresh load processes
(bench/live_fanout.py's lean clients and its `load` mode), which record, for
every change message, its receipt time minus the write time of the newest tick
in it. Phases alternate ABBA..., as bench/live_fanout.py does, so that a shared
machine's drift is not pinned on one side.

It prints each phase's p50/p99 and the server's CPU, then the median p99 without and with the slow
consumer and their ratio (the target is at most 1.20), and what the slow
consumer itself went through (batches, coalesced updates, lag). Nothing here
passes or fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
FANOUT = HERE.parent / "live_fanout.py"
sys.path.insert(0, str(HERE.parent))

import live_fanout  # noqa: E402  (a sibling script, not a package)


def serve(port: int, sleep_s: float, max_pending: int) -> None:
    """The node: live push, history, and a `slow` consumer switched by a command."""
    import asyncio
    from collections.abc import Sequence

    from roost import App
    from roost.live import LiveSettings
    from roost.runtime.consumer import Consumer
    from roost.runtime.state import Change

    app = App("bench", data_dir=tempfile.mkdtemp(prefix="roost-bench-"), port=port)
    app.live.settings = LiveSettings(max_clients=10_000, max_connections_per_address=10_000)
    app.state["bench/tick"] = {"n": -1, "t": 0.0}
    slow: Consumer | None = None

    @app.command
    def bench_run(rate: float, duration_s: float) -> int:
        """Start writing ticks; return how many will be written."""

        def write(n: int, t: float) -> None:
            app.state["bench/tick"] = {"n": n, "t": t}

        live_fanout.tick_writer(write, rate, duration_s)
        return round(rate * duration_s)

    @app.command
    async def bench_slow(on: bool) -> dict[str, Any]:
        """Add the slow consumer, or close it; return its health."""
        nonlocal slow
        if on and slow is None:

            async def nap(changes: Sequence[Change]) -> None:
                await asyncio.sleep(sleep_s)

            slow = app.hub.consume("slow", nap, max_pending=max_pending)
        if slow is None:
            return {}
        health = slow.health()
        if not on:
            await slow.aclose()
            slow = None
        return health

    app.run(host="127.0.0.1", port=port)


def post(url: str, command: str, args: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/api/commands/{command}",
        data=json.dumps(args).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def phase(url: str, pid: int, args: argparse.Namespace, with_slow: bool) -> dict[str, float]:
    """Connect fresh clients, write ticks for `args.phase` seconds, return the latency figures."""
    post(url, "bench_slow", {"on": with_slow})
    expected = round(args.rate * args.phase)
    loaders = []
    try:
        for i in range(args.procs):
            share = args.clients // args.procs + (i < args.clients % args.procs)
            loaders.append(
                subprocess.Popen(
                    [
                        *(sys.executable, str(FANOUT), "load", "--url", url, "--ws", str(share)),
                        *("--sse", "0", "--expect", str(expected), "--timeout", str(args.phase + 5)),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for p in loaders:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise SystemExit("a load process failed to connect its clients")
        time.sleep(0.5)
        for p in loaders:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        cpu0, wall0 = live_fanout.cpu_seconds(pid), time.monotonic()
        post(url, "bench_run", {"rate": args.rate, "duration_s": args.phase})
        time.sleep(args.phase + 0.3)
        cpu1, wall1 = live_fanout.cpu_seconds(pid), time.monotonic()
        slow = post(url, "bench_slow", {"on": with_slow})  # its figures, before it is closed
        latencies: list[float] = []
        for p in loaders:
            assert p.stdout is not None
            latencies += json.loads(p.stdout.readline())["latencies_ms"]
    finally:
        for p in loaders:
            p.kill()
            p.wait()
    result = {
        "p50_ms": live_fanout.percentile(latencies, 50),
        "p99_ms": live_fanout.percentile(latencies, 99),
        "messages": float(len(latencies)),
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
    }
    if with_slow:
        for key in ("batches", "coalesced", "lag", "delay_s"):
            result[f"slow_{key}"] = float(slow.get(key, 0))
    return result


def drive(args: argparse.Namespace) -> None:
    live_fanout.raise_fd_limit()
    port = live_fanout.free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, str(HERE), "server", "--port", str(port)),
            *("--sleep", str(args.sleep), "--max-pending", str(args.max_pending)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)
        print(
            f"{args.clients} WebSocket clients, {args.rate:g} changes/s, {args.rounds} x 2 phases of "
            f"{args.phase:g} s; the slow consumer sleeps {args.sleep:g} s per batch "
            f"(max_pending={args.max_pending})"
        )
        print(f"{'phase':<6} {'slow':<5} {'msgs':>7} {'p50ms':>7} {'p99ms':>7} {'cpu%':>6}")
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        number = 0
        for r in range(args.rounds):
            for with_slow in (False, True) if r % 2 == 0 else (True, False):
                number += 1
                m = phase(url, server.pid, args, with_slow)
                runs[with_slow].append(m)
                print(
                    f"{number:<6} {'yes' if with_slow else 'no':<5} {m['messages']:>7.0f} "
                    f"{m['p50_ms']:>7.1f} {m['p99_ms']:>7.1f} {m['cpu_pct']:>6.1f}",
                    flush=True,
                )
        base = statistics.median(m["p99_ms"] for m in runs[False])
        slow = statistics.median(m["p99_ms"] for m in runs[True])
        print(f"median p99 without the slow consumer: {base:.1f} ms")
        print(f"median p99 with the slow consumer:    {slow:.1f} ms")
        print(f"ratio with / without: {slow / base:.2f}  (target: at most 1.20)")
        cpu = [statistics.median(m["cpu_pct"] for m in runs[w]) for w in (False, True)]
        print(f"server CPU (% of one core), median without / with: {cpu[0]:.1f} / {cpu[1]:.1f}")
        last = runs[True][-1]
        print(
            f"the slow consumer, in its last phase: {last['slow_batches']:.0f} batches, "
            f"{last['slow_coalesced']:.0f} updates coalesced, lag {last['slow_lag']:.0f} changes, "
            f"oldest undelivered change {last['slow_delay_s']:.1f} s old"
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode")
    server = sub.add_parser("server")
    server.add_argument("--port", type=int, required=True)
    for p in (parser, server):
        p.add_argument("--sleep", type=float, default=1.0, help="seconds the slow consumer sleeps per batch")
        p.add_argument(
            "--max-pending", type=int, default=1000, help="the slow consumer's bound (default 1000)"
        )
    parser.add_argument("--clients", type=int, default=100, help="WebSocket clients (default 100)")
    parser.add_argument("--rate", type=float, default=1000, help="changes per second (default 1000)")
    parser.add_argument("--phase", type=float, default=5, help="seconds of writing per phase (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of phases (default 2)")
    parser.add_argument("--procs", type=int, default=2, help="load processes (default 2)")
    args = parser.parse_args()
    if args.mode == "server":
        serve(args.port, args.sleep, args.max_pending)
    else:
        drive(args)


if __name__ == "__main__":
    main()
