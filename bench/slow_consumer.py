"""A slow consumer costs only itself: live p99 with and without one, in the same run.

    python bench/slow_consumer.py                     # 100 WS clients, 1,000 changes/s, ~30 s
    python bench/slow_consumer.py --duration 60 --clients 200

One roost node (a subprocess, with its history recorder as usual) has WebSocket
clients connected while a thread writes `bench/tick = {"n", "t"}` 1,000 times a
second. Every `--period` seconds the node adds or closes one more consumer of
the change stream, `slow`: an `async def` that sleeps 1 s per batch, holding at
most `--max-pending` changes meanwhile (coalesced past that). After a warm-up
period (not counted) the periods go without, with, with, without, ... (ABBA),
so that a shared machine's drift falls on both sides alike.

The load processes use bench/live_fanout.py's lean WebSocket client and record,
for every change message, the write time of the newest tick in it and its
delay to receipt. Each sample counts for the period its tick was written in
(the first 0.2 s after a switch are left out). It prints the p50/p99 of each
period, the median p99 without and with the slow consumer and their ratio (the
target is at most 1.20), the server's CPU, and what the slow consumer itself
went through. Nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
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
sys.path.insert(0, str(HERE.parent))

import live_fanout  # noqa: E402  (a sibling script, not a package)

SETTLE_S = 0.2  # samples written this soon after a switch are left out


# -- the node ------------------------------------------------------------------------


def serve(port: int, sleep_s: float, max_pending: int) -> None:
    """The node: live push, history, and a `slow` consumer that a timer adds and closes."""
    from collections.abc import Sequence

    from roost import App
    from roost.live import LiveSettings
    from roost.runtime.consumer import Consumer
    from roost.runtime.state import Change

    app = App("bench", data_dir=tempfile.mkdtemp(prefix="roost-bench-"), port=port)
    app.live.settings = LiveSettings(max_clients=10_000, max_connections_per_address=10_000)
    app.state["bench/tick"] = {"n": -1, "t": 0.0}
    periods: list[tuple[float, float, bool]] = []
    seen: dict[str, float] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def nap(changes: Sequence[Change]) -> None:
        await asyncio.sleep(sleep_s)

    async def switch(count: int, period_s: float) -> None:
        slow: Consumer | None = None
        for i in range(count):
            on = i > 0 and (i - 1) % 4 in (1, 2)  # a warm-up, then ABBA
            if on and slow is None:
                slow = app.hub.consume("slow", nap, max_pending=max_pending)
            elif not on and slow is not None:
                seen.update({k: float(v) for k, v in slow.health().items() if isinstance(v, (int, float))})
                await slow.aclose()
                slow = None
            start = time.time()
            await asyncio.sleep(period_s)
            periods.append((start, time.time(), on))
        if slow is not None:
            seen.update({k: float(v) for k, v in slow.health().items() if isinstance(v, (int, float))})
            await slow.aclose()

    @app.command
    async def bench_run(rate: float, duration_s: float, period_s: float) -> int:
        """Write ticks for `duration_s` and switch the slow consumer every `period_s`."""

        def write(n: int, t: float) -> None:
            app.state["bench/tick"] = {"n": n, "t": t}

        live_fanout.tick_writer(write, rate, duration_s)
        task = asyncio.create_task(switch(round(duration_s / period_s), period_s))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return round(rate * duration_s)

    @app.command
    def bench_periods() -> dict[str, Any]:
        """Return the periods (start, end, slow consumer on) and the slow consumer's last figures."""
        return {"periods": periods, "slow": seen}

    app.run(host="127.0.0.1", port=port)


# -- load ----------------------------------------------------------------------------


class Samples:
    """(write time, delay ms) of every change message, for bench/live_fanout.py's LoadClient."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.pairs: list[tuple[float, float]] = []
        self.done: dict[int, asyncio.Event] = {}

    def message(self, client: int, raw: bytes) -> None:
        changes = live_fanout.json_loads(raw).get("changes") or {}
        t = changes.get("bench/tick/t")
        if t is None:
            return
        self.pairs.append((t, (time.time() - t) * 1e3))
        if changes.get("bench/tick/n") == self.expected - 1:
            self.done[client].set()


async def load(url: str, count: int, expected: int, timeout_s: float) -> None:
    samples = Samples(expected)
    connected = asyncio.Event()
    ready = 0

    def one_ready() -> None:
        nonlocal ready
        ready += 1
        if ready == count:
            connected.set()

    loop = asyncio.get_running_loop()
    host_port = url.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    transports = []
    for i in range(count):
        samples.done[i] = asyncio.Event()
        transport, _ = await loop.create_connection(
            lambda i=i: live_fanout.LoadClient("ws", host_port, i, samples, one_ready), host, int(port)
        )
        transports.append(transport)
    async with asyncio.timeout(60):
        await connected.wait()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(e.wait() for e in samples.done.values()))
    except TimeoutError:
        pass
    print(json.dumps(samples.pairs), flush=True)
    for transport in transports:
        transport.close()


# -- the driver ----------------------------------------------------------------------


def post(url: str, command: str, args: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/api/commands/{command}",
        data=json.dumps(args).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.05)


def measure(url: str, pid: int, args: argparse.Namespace) -> tuple[list[tuple[float, float]], float]:
    """Run the load; return every (write time, delay ms) sample and the server's CPU % of one core."""
    expected = round(args.rate * args.duration)
    loaders = []
    try:
        for i in range(args.procs):
            share = args.clients // args.procs + (i < args.clients % args.procs)
            loaders.append(
                subprocess.Popen(
                    [
                        *(sys.executable, str(HERE), "load", "--url", url, "--ws", str(share)),
                        *("--expect", str(expected), "--timeout", str(args.duration + 5)),
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
        post(url, "bench_run", {"rate": args.rate, "duration_s": args.duration, "period_s": args.period})
        time.sleep(args.duration + 0.3)
        cpu = 100 * (live_fanout.cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
        pairs: list[tuple[float, float]] = []
        for p in loaders:
            assert p.stdout is not None
            pairs += [(t, d) for t, d in json.loads(p.stdout.readline())]
        return pairs, cpu
    finally:
        for p in loaders:
            p.kill()
            p.wait()


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
        wait_ready(url)
        print(
            f"{args.clients} WebSocket clients, {args.rate:g} changes/s for {args.duration:g} s; every "
            f"{args.period:g} s a consumer sleeping {args.sleep:g} s per batch (max_pending="
            f"{args.max_pending}) is added or closed"
        )
        pairs, cpu = measure(url, server.pid, args)
        report = post(url, "bench_periods", {})
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{'period':<7} {'slow':<5} {'msgs':>7} {'p50ms':>7} {'p99ms':>7}")
    p99s: dict[bool, list[float]] = {False: [], True: []}
    for number, (start, end, on) in enumerate(report["periods"]):
        if number == 0:
            continue  # the warm-up
        delays = [d for t, d in pairs if start + SETTLE_S <= t < end]
        if not delays:
            continue
        p50, p99 = live_fanout.percentile(delays, 50), live_fanout.percentile(delays, 99)
        p99s[on].append(p99)
        print(f"{number:<7} {'yes' if on else 'no':<5} {len(delays):>7} {p50:>7.1f} {p99:>7.1f}")
    without, with_slow = statistics.median(p99s[False]), statistics.median(p99s[True])
    print(f"median p99 without the slow consumer: {without:.1f} ms")
    print(f"median p99 with the slow consumer:    {with_slow:.1f} ms")
    print(f"ratio with / without: {with_slow / without:.2f}  (target: at most 1.20)")
    print(f"server CPU over the run: {cpu:.1f} % of one core")
    slow = report["slow"]
    if slow:
        print(
            f"the slow consumer, when last closed: {slow['batches']:.0f} batches, {slow['delivered']:.0f} "
            f"changes delivered, {slow['coalesced']:.0f} updates coalesced, lag {slow['lag']:.0f}, "
            f"oldest undelivered change {slow['delay_s']:.1f} s old"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode")
    server = sub.add_parser("server")
    server.add_argument("--port", type=int, required=True)
    loader = sub.add_parser("load")
    loader.add_argument("--url", required=True)
    loader.add_argument("--ws", type=int, required=True)
    loader.add_argument("--expect", type=int, required=True)
    loader.add_argument("--timeout", type=float, required=True)
    for p in (parser, server):
        p.add_argument("--sleep", type=float, default=1.0, help="seconds the slow consumer sleeps per batch")
        p.add_argument("--max-pending", type=int, default=100, help="the slow consumer's bound (default 100)")
    parser.add_argument("--clients", type=int, default=100, help="WebSocket clients (default 100)")
    parser.add_argument("--rate", type=float, default=1000, help="changes per second (default 1000)")
    parser.add_argument("--duration", type=float, default=26, help="seconds of writing (default 26)")
    parser.add_argument("--period", type=float, default=2, help="seconds per period (default 2)")
    parser.add_argument("--procs", type=int, default=2, help="load processes (default 2)")
    args = parser.parse_args()
    if args.mode == "server":
        serve(args.port, args.sleep, args.max_pending)
    elif args.mode == "load":
        asyncio.run(load(args.url, args.ws, args.expect, args.timeout))
    else:
        drive(args)


if __name__ == "__main__":
    main()
