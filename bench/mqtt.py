"""The MQTT bridge through a local Mosquitto: throughput and CPU, write-to-subscriber p99, a broker outage.

    python bench/mqtt.py                   # about 45 s: 4 s phases, a 10 s outage
    python bench/mqtt.py --full            # the issue's 5-minute outage at 100 changes/s
    python bench/mqtt.py --outage 60 --rate 5000

Everything talks to a Mosquitto this script starts on a free port of 127.0.0.1
with its own config (never a broker already running on 1883). The node runs in
this process with no HTTP server and no history, so that the CPU measured is the
tree, the consumer and the bridge.

1. CPU: a thread writes `--rate` changes/s over 1,000 paths for `--phase` s, with
   the bridge off and then on; prints the process CPU of each and what the
   bridge published per second.
2. Capacity: 5,000 paths written at once; messages published per second and
   CPU per message, with nothing else competing for the loop.
3. Latency: 100 writes/s of the write time to one path; a subscriber in another
   process prints p50/p99/max of write -> receipt (same clock).
4. Outage: 100 changes/s over 500 paths, the broker killed (SIGKILL: it loses
   its retained messages) for `--outage` s, then started again. Prints RSS and
   outbox depth during the outage, drops, and how long after the broker's
   return a fresh subscriber holds, for every path, a value at least as new as
   the one the node had when the broker came back.

Nothing here passes or fails; it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A Mosquitto of this run's own."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
            "max_queued_messages 100000\nlog_dest none\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.02)
        raise SystemExit("mosquitto did not start (scripts/system-deps.sh test installs it)")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


class Writer(threading.Thread):
    """Writes `rate` changes/s (0: as fast as it can) round-robin over `paths` paths."""

    def __init__(self, app: Any, prefix: str, paths: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.app, self.prefix, self.paths, self.rate = app, prefix, paths, rate
        self.n = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        state = self.app.state
        while not self.stop_flag.is_set():
            self.n += 1
            state[f"{self.prefix}/p{self.n % self.paths}"] = self.n
            if self.rate:
                ahead = start + self.n / self.rate - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)


def node(broker: Broker | None, name: str) -> Any:
    from roost import App

    app = App(name, data_dir=tempfile.mkdtemp(prefix="roost-bench-mqtt-"), port=None, history=False)
    if broker is not None:
        app.enable_mqtt(f"mqtt://127.0.0.1:{broker.port}", discovery=False)
    return app


async def connected(app: Any) -> None:
    while not app.mqtt.connected:
        await asyncio.sleep(0.02)


async def cpu_phase(broker: Broker | None, rate: float, seconds: float) -> dict[str, float]:
    app = node(broker, "cpu")
    await app.start()
    if broker is not None:
        await connected(app)
    published0 = app.mqtt.published if app.mqtt else 0
    writer = Writer(app, "load", 1000, rate)
    cpu0, t0 = time.process_time(), time.perf_counter()
    writer.start()
    await asyncio.sleep(seconds)
    writer.stop_flag.set()
    writer.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    published = (app.mqtt.published - published0) if app.mqtt else 0
    await app.stop()
    return {
        "written_per_s": writer.n / wall,
        "published_per_s": published / wall,
        "cpu_pct": 100 * cpu / wall,
    }


async def capacity_phase(broker: Broker, paths: int) -> dict[str, float]:
    """How fast the bridge empties its outbox when nothing else competes for the loop."""
    app = node(broker, "cap")
    await app.start()
    await connected(app)
    p0, cpu0, t0 = app.mqtt.published, time.process_time(), time.perf_counter()
    app.state.update("bulk", {f"p{i}": i for i in range(paths)})
    deadline = t0 + 60
    while app.mqtt.published - p0 < paths and time.perf_counter() < deadline:
        await asyncio.sleep(0.005)
    wall, cpu, sent = time.perf_counter() - t0, time.process_time() - cpu0, app.mqtt.published - p0
    await app.stop()
    return {"published_per_s": sent / wall, "cpu_us_per_message": cpu / max(sent, 1) * 1e6}


SUBSCRIBER = r"""
import asyncio, json, sys, time
import aiomqtt

async def main(port, topic, seconds):
    lat = []
    async with aiomqtt.Client("127.0.0.1", port) as c:
        await c.subscribe(topic, qos=1)
        print("ready", flush=True)
        end = time.time() + seconds
        async def read():
            async for m in c.messages:
                if m.retain:
                    continue
                lat.append(time.time() - float(m.payload))
        try:
            await asyncio.wait_for(read(), seconds)
        except asyncio.TimeoutError:
            pass
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3 if lat else float("nan")
    print(json.dumps({"n": len(lat), "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": q(1.0)}), flush=True)

asyncio.run(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
"""


async def latency_phase(broker: Broker, seconds: float) -> dict[str, Any]:
    app = node(broker, "lat")
    await app.start()
    await connected(app)
    sub = subprocess.Popen(
        [sys.executable, "-c", SUBSCRIBER, str(broker.port), "roost/lat/state/tick", str(seconds + 1)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sub.stdout is not None
    await asyncio.to_thread(sub.stdout.readline)  # "ready"
    stop = threading.Event()

    def tick() -> None:
        start = time.perf_counter()
        n = 0
        while not stop.is_set():
            n += 1
            app.state["tick"] = time.time()
            ahead = start + n / 100 - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    await asyncio.sleep(seconds)
    stop.set()
    thread.join()
    out = await asyncio.to_thread(sub.stdout.read)
    sub.wait()
    await app.stop()
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def outage_phase(broker: Broker, outage_s: float, paths: int = 500) -> dict[str, Any]:
    import aiomqtt

    app = node(broker, "out")
    await app.start()
    await connected(app)
    bridge = app.mqtt
    writer = Writer(app, "o", paths, 100)
    writer.start()
    await asyncio.sleep(2)
    rss_before = rss_mb()
    broker.kill()
    samples: list[tuple[float, int]] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < outage_s:
        samples.append((rss_mb(), len(bridge.outbox)))
        await asyncio.sleep(1)
    broker.start()
    back = time.monotonic()
    at_return = {f"o/p{k}": app.state.get(f"o/p{k}") for k in range(paths)}
    want = {f"roost/out/state/{p}": v for p, v in at_return.items() if v is not None}
    seen: dict[str, int] = {}
    converged = None
    async with aiomqtt.Client("127.0.0.1", broker.port) as c:
        await c.subscribe("roost/out/state/#", qos=1)

        async def read() -> None:
            nonlocal converged
            async for m in c.messages:
                seen[str(m.topic)] = int(m.payload)  # type: ignore[arg-type]
                if converged is None and all(seen.get(t, -1) >= v for t, v in want.items()):
                    converged = time.monotonic() - back
                    return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(read(), 60)
    writer.stop_flag.set()
    writer.join()
    health = bridge.health()
    await app.stop()
    return {
        "outage_s": outage_s,
        "writes_during": int(outage_s * 100),
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_max_during": round(max(r for r, _ in samples), 1),
        "rss_mb_end": round(samples[-1][0], 1),
        "outbox_max": max(o for _, o in samples),
        "dropped": health["dropped"],
        "coalesced": health["coalesced"],
        "reconnects": health["reconnects"],
        "all_paths_current_after_s": None if converged is None else round(converged, 2),
    }


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="roost-bench-mosquitto-"))
    broker = Broker(folder)
    broker.start()
    try:
        import aiomqtt
        import paho.mqtt

        print(f"aiomqtt {aiomqtt.__version__}, paho-mqtt {paho.mqtt.__version__}, {os.cpu_count()} CPUs")
        off = await cpu_phase(None, args.rate, args.phase)
        on = await cpu_phase(broker, args.rate, args.phase)
        print(
            f"1. CPU at {args.rate:.0f} changes/s over 1,000 paths: bridge off {off['cpu_pct']:.0f}% "
            f"of a core, on {on['cpu_pct']:.0f}% ({on['cpu_pct'] - off['cpu_pct']:.0f} points for the "
            f"bridge), {on['published_per_s']:.0f} messages/s published"
        )
        top = await capacity_phase(broker, 5000)
        print(
            f"2. capacity: 5,000 paths written at once published at {top['published_per_s']:.0f} "
            f"messages/s (QoS 1, retained), {top['cpu_us_per_message']:.0f} us of CPU per message"
        )
        lat = await latency_phase(broker, args.phase * 2)
        print(
            f"3. write -> subscriber at 100/s: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, "
            f"max {lat['max_ms']:.1f} ms ({lat['n']} samples)"
        )
        out = await outage_phase(broker, args.outage)
        print(
            f"4. broker down {out['outage_s']:.0f} s at 100 changes/s over 500 paths: RSS "
            f"{out['rss_mb_before']} MB before, at most {out['rss_mb_max_during']} MB during; outbox "
            f"at most {out['outbox_max']} messages, {out['dropped']} dropped, {out['coalesced']} coalesced; "
            f"every path current {out['all_paths_current_after_s']} s after the broker's return"
        )
        print(json.dumps({"cpu_off": off, "cpu_on": on, "flat_out": top, "latency": lat, "outage": out}))
    finally:
        broker.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=2000, help="changes/s of the CPU phase (default 2000)")
    parser.add_argument("--phase", type=float, default=4.0, help="seconds per phase (default 4)")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the broker is down (default 10)")
    parser.add_argument("--full", action="store_true", help="the 5-minute outage (--outage 300)")
    ns = parser.parse_args()
    if ns.full:
        ns.outage = 300.0
    asyncio.run(main(ns))
