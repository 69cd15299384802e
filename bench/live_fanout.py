"""Live fan-out: N WebSocket clients and M SSE clients on 127.0.0.1, the state changing 10 times a second.

    python bench/live_fanout.py                       # N = 100, 500, 1000 WS + 100 SSE, 10 s each
    python bench/live_fanout.py --clients 1000 --repeat 3
    python bench/live_fanout.py --server bare         # the same load on a bare aiohttp broadcast loop

Three kinds of process, so that the server is measured on its own:

- the server: `roost` with the live hub (or, with --server bare, a plain aiohttp
  loop that sends each tick to every WebSocket in turn); a thread writes
  `bench/tick = {"n": i, "t": time.time()}` through the public write path
  (`app.state[...] = ...`) `--rate` times a second for `--duration` seconds;
- `--procs` load processes sharing the clients, each recording, for every tick,
  its receive time minus the tick's write time;
- this driver: it reads the server's CPU time and RSS from /proc, and in the
  second run of each size opens one more WebSocket that never reads.

It prints delivered % (ticks received / ticks written x clients), latency
p50/p99/max in ms (write to receipt, which includes the load processes' own
queueing: on 2 cores they compete with the server), server CPU % of one core
during the writing, and RSS. Nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- servers -----------------------------------------------------------------------


def tick_writer(write: Any, rate: float, duration_s: float) -> threading.Thread:
    """Write `rate` ticks a second for `duration_s` on a thread, as a sensor worker would."""

    def run() -> None:
        count = round(rate * duration_s)
        start = time.monotonic()
        for n in range(count):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            write(n, time.time())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def serve_roost(port: int) -> None:
    from roost import App
    from roost.live import LiveSettings

    app = App("bench", data_dir=tempfile.mkdtemp(prefix="roost-bench-"), port=port)
    app.live.settings = LiveSettings(max_clients=10_000, max_connections_per_address=10_000)
    app.state["bench/tick"] = {"n": -1, "t": 0.0}

    @app.command
    def bench_run(rate: float, duration_s: float) -> int:
        """Start writing ticks; return how many will be written."""

        def write(n: int, t: float) -> None:
            app.state["bench/tick"] = {"n": n, "t": t}

        tick_writer(write, rate, duration_s)
        return round(rate * duration_s)

    app.run(host="127.0.0.1", port=port)


def serve_bare(port: int) -> None:
    """A plain aiohttp broadcast loop: the reference the live hub is held against."""
    from aiohttp import web

    clients: set[web.WebSocketResponse] = set()

    async def live(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20, compress=False)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "snapshot", "seq": 0, "state": {}}))
        clients.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            clients.discard(ws)
        return ws

    async def broadcast(n: int, t: float) -> None:
        msg = json.dumps({"type": "change", "seq": n, "changes": {"bench/tick/n": n, "bench/tick/t": t}})
        for ws in list(clients):
            try:
                await ws.send_str(msg)
            except ConnectionError:
                pass

    async def bench_run(request: web.Request) -> web.Response:
        body = await request.json()
        loop = asyncio.get_running_loop()

        def write(n: int, t: float) -> None:
            asyncio.run_coroutine_threadsafe(broadcast(n, t), loop)

        tick_writer(write, body["rate"], body["duration_s"])
        return web.json_response({"result": round(body["rate"] * body["duration_s"])})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/api/live", live)
    app.router.add_post("/api/commands/bench_run", bench_run)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, backlog=4096)


# -- load --------------------------------------------------------------------------


try:
    from orjson import loads as json_loads
except ImportError:  # pragma: no cover
    json_loads = json.loads


class Recorder:
    """Latencies of one load process, keyed by tick, for every client."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.latencies_ms: list[float] = []
        self.received = 0
        self.done: dict[int, asyncio.Event] = {}

    def message(self, client: int, raw: bytes) -> None:
        msg = json_loads(raw)
        changes = msg.get("changes") or {}
        t = changes.get("bench/tick/t")
        if t is None:
            return
        self.latencies_ms.append((time.time() - t) * 1e3)
        self.received += 1
        if changes.get("bench/tick/n") == self.expected - 1:
            self.done[client].set()


class LoadClient(asyncio.Protocol):
    """A lean WebSocket or SSE client straight on asyncio, so that load processes stay cheap.

    An aiohttp client costs several times more per message; with a thousand of
    them on two cores the clients' own queueing would be most of what is measured.
    """

    def __init__(self, kind: str, host: str, index: int, rec: Recorder, ready: Any) -> None:
        self.kind, self.host, self.index, self.rec, self.ready = kind, host, index, rec, ready
        self.buffer = b""
        self.head_done = False
        self.got_first = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.kind == "ws":
            key = base64.b64encode(os.urandom(16)).decode()
            head = (
                f"GET /api/live HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
        else:
            head = f"GET /api/events HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n\r\n"
        transport.write(head.encode())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.head_done:
            _head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            self.head_done, self.buffer = True, rest
        if self.kind == "ws":
            self._frames()
        else:
            self._events()

    def _message(self, payload: bytes) -> None:
        if not self.got_first:  # the snapshot
            self.got_first = True
            self.ready()
            return
        self.rec.message(self.index, payload)

    def _frames(self) -> None:
        buf, i = self.buffer, 0
        while len(buf) - i >= 2:
            opcode, n, start = buf[i] & 0x0F, buf[i + 1] & 0x7F, i + 2
            if n == 126:
                if len(buf) - i < 4:
                    break
                n, start = int.from_bytes(buf[i + 2 : i + 4], "big"), i + 4
            elif n == 127:
                if len(buf) - i < 10:
                    break
                n, start = int.from_bytes(buf[i + 2 : i + 10], "big"), i + 10
            if len(buf) - start < n:
                break
            payload, i = buf[start : start + n], start + n
            if opcode == 0x1:
                self._message(payload)
            elif opcode == 0x9 and self.transport is not None:  # ping: answer with a masked pong
                mask = os.urandom(4)
                masked = bytes(b ^ mask[j % 4] for j, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
        self.buffer = buf[i:]

    def _events(self) -> None:
        # One event per chunk, so splitting on newlines leaves data lines whole; the
        # chunk-size lines in between are skipped as lines that are not data.
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data: "):
                self._message(line[6:])


async def load(url: str, ws_count: int, sse_count: int, expected: int, timeout_s: float) -> None:
    rec = Recorder(expected)
    total = ws_count + sse_count
    connected = 0
    all_ready = asyncio.Event()

    def ready() -> None:
        nonlocal connected
        connected += 1
        if connected == total:
            all_ready.set()

    loop = asyncio.get_running_loop()
    host_port = url.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    transports = []
    kinds = ["ws"] * ws_count + ["sse"] * sse_count
    for i, kind in enumerate(kinds):
        rec.done[i] = asyncio.Event()
        transport, _ = await loop.create_connection(
            lambda kind=kind, i=i: LoadClient(kind, host_port, i, rec, ready), host, int(port)
        )
        transports.append(transport)
        if i % 64 == 63:
            await asyncio.sleep(0.01)  # in waves: a burst of 1,000 SYNs overflows backlogs
    async with asyncio.timeout(60):
        await all_ready.wait()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the driver says go when every process is ready
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(e.wait() for e in rec.done.values()))
    except TimeoutError:
        pass
    print(json.dumps({"received": rec.received, "latencies_ms": rec.latencies_ms}), flush=True)
    for transport in transports:
        transport.close()


# -- the driver ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def never_reading_client(port: int) -> socket.socket:
    """Open a WebSocket and never read from it (a frozen phone)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: read the response head and not one byte more
    return sock


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def run_once(args: argparse.Namespace, ws_count: int, stuck: bool) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(HERE), "server", "--kind", args.server, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    loaders: list[subprocess.Popen[str]] = []
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)
        sse_count = 0 if args.server == "bare" else args.sse
        expected = round(args.rate * args.duration)
        for i in range(args.procs):
            share_ws = ws_count // args.procs + (i < ws_count % args.procs)
            share_sse = sse_count // args.procs + (i < sse_count % args.procs)
            loaders.append(
                subprocess.Popen(
                    [
                        *(sys.executable, str(HERE), "load", "--url", url, "--ws", str(share_ws)),
                        *("--sse", str(share_sse), "--expect", str(expected)),
                        *("--timeout", str(args.duration + 5)),
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
        stuck_sock = never_reading_client(port) if stuck else None
        time.sleep(1.0)  # let connection set-up settle before measuring
        for p in loaders:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
        request = urllib.request.Request(
            url + "/api/commands/bench_run",
            data=json.dumps({"rate": args.rate, "duration_s": args.duration}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()
        time.sleep(args.duration + 0.3)
        cpu1, wall1 = cpu_seconds(server.pid), time.monotonic()
        rss, hwm = rss_mb(server.pid)
        received, latencies = 0, []
        for p in loaders:
            assert p.stdout is not None
            result = json.loads(p.stdout.readline())
            received += result["received"]
            latencies += result["latencies_ms"]
        if stuck_sock is not None:
            stuck_sock.close()
        clients = ws_count + sse_count
        return {
            "clients": clients,
            "delivered_pct": 100 * received / (expected * clients),
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies, default=float("nan")),
            "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
            "rss_mb": rss,
            "peak_rss_mb": hwm,
        }
    finally:
        for p in loaders:
            p.kill()
            p.wait()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def drive(args: argparse.Namespace) -> None:
    sizes = [int(n) for n in args.clients.split(",")]
    sse = 0 if args.server == "bare" else args.sse
    print(
        f"server={args.server}  {args.rate:g} changes/s for {args.duration:g} s  +{sse} SSE clients  "
        f"{args.procs} load processes  median of {args.repeat} run(s)  (cpu: % of one core)"
    )
    header = f"{'ws':>5} {'run':<11} {'clients':>7} {'deliv%':>7} {'p50ms':>7} {'p99ms':>7} {'maxms':>7}"
    print(header + f" {'cpu%':>6} {'rssMB':>6} {'peakMB':>6}")
    for n in sizes:
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        for r in range(args.repeat):
            # Alternate the order (ABBA...): on a shared machine a later run can be
            # slower for reasons of its own, which a fixed order would pin on the stuck client.
            for stuck in (False, True) if r % 2 == 0 else (True, False):
                runs[stuck].append(run_once(args, n, stuck))
        medians = {}
        for stuck in (False, True):
            m = medians[stuck] = median_of(runs[stuck])
            label = "+1 stuck" if stuck else "baseline"
            print(
                f"{n:>5} {label:<11} {m['clients']:>7.0f} {m['delivered_pct']:>7.2f} {m['p50_ms']:>7.1f} "
                f"{m['p99_ms']:>7.1f} {m['max_ms']:>7.1f} {m['cpu_pct']:>6.1f} {m['rss_mb']:>6.1f} "
                f"{m['peak_rss_mb']:>6.1f}",
                flush=True,
            )
        ratio = medians[True]["p99_ms"] / medians[False]["p99_ms"]
        print(f"{n:>5} p99 with a stuck client / without: {ratio:.2f}", flush=True)


def main() -> None:
    raise_fd_limit()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode")
    server = sub.add_parser("server")
    server.add_argument("--kind", choices=["roost", "bare"], default="roost")
    server.add_argument("--port", type=int, required=True)
    loader = sub.add_parser("load")
    loader.add_argument("--url", required=True)
    loader.add_argument("--ws", type=int, required=True)
    loader.add_argument("--sse", type=int, required=True)
    loader.add_argument("--expect", type=int, required=True)
    loader.add_argument("--timeout", type=float, required=True)
    parser.add_argument(
        "--clients", default="100,500,1000", help="WebSocket client counts (default 100,500,1000)"
    )
    parser.add_argument("--sse", type=int, default=100, help="SSE clients besides (default 100)")
    parser.add_argument("--rate", type=float, default=10, help="changes per second (default 10)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of writing (default 10)")
    parser.add_argument("--procs", type=int, default=2, help="load processes (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; medians (default 1)")
    parser.add_argument("--server", choices=["roost", "bare"], default="roost")
    args = parser.parse_args()
    if args.mode == "server":
        (serve_roost if args.kind == "roost" else serve_bare)(args.port)
    elif args.mode == "load":
        asyncio.run(load(args.url, args.ws, args.sse, args.expect, args.timeout))
    else:
        drive(args)


if __name__ == "__main__":
    main()
