"""Devices at scale: 500 simulated plugs with schedules on one node.

    python bench/devices.py                        # 500 devices, 1,000 switches, ~20 s
    python bench/devices.py --devices 1000 --switches 5000 --concurrency 16

Measures, and prints (nothing here passes or fails):

1. CPU per slot boundary: the schedule loop's `tick()` at a quarter-hour where
   every device's slot changes (deciding, and starting the switches), then the
   time until all those switches are confirmed through the simulated driver;
2. CPU per power reading: `_on_reading()` with the standby killer armed
   (publishing power and energy into the state tree included), and the killer's
   own check alone;
3. memory per device: Python allocations (tracemalloc) of a node with N devices,
   schedules and published values, minus those of the same node without;
4. the round trip `POST /api/devices/{id}/switch` -> confirmed reply, through
   the simulated driver, against a node in a subprocess (its recorder on, as
   usual) over real HTTP on 127.0.0.1: p50, p99, max (target: p99 < 20 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from roost import App
from roost.core.weekgrid import constant_week, paint
from roost.core.weekplan import Schedule
from roost.devices import Reading, SimulatedPlug
from roost.runtime.clock import FakeClock

HERE = Path(__file__).resolve()
# Tuesday 1 December 2026, 17:50 in Amsterdam.
START = 1796143800.0


def schedules(count: int) -> list[Schedule]:
    """`count` evening schedules with a standby killer, each starting at another quarter-hour."""
    out = []
    for k in range(count):
        start = 68 + k % 8  # 17:00 .. 18:45
        week = paint(constant_week(), range(7), f"{start // 4:02d}:{start % 4 * 15:02d}", "23:30", 8)
        out.append(Schedule(f"s{k}", week))
    return out


def build(n: int, data_dir: Path, clock: Any = None, port: int | None = None) -> App:
    """A node with `n` simulated plugs, each on one of 20 schedules."""
    app = App(
        "bench",
        data_dir=data_dir,
        port=port,
        timezone="Europe/Amsterdam",
        clock=clock,
        latitude=52.37,
        longitude=4.9,
        history=port is not None,
    )
    plans = schedules(20)
    for s in plans:
        app.devices.add_schedule(s)
    for i in range(n):
        app.device(
            f"plug{i:04d}",
            SimulatedPlug(60 + i % 40, standby_w=1.0, noise=False),
            name=f"Plug {i}",
            schedule=plans[i % len(plans)].name,
        )
    return app


# -- 1-3: in-process, on a fake clock ------------------------------------------------


async def in_process(n: int) -> dict[str, float]:
    """CPU per boundary and per reading, memory per device."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        gc.collect()
        tracemalloc.start()
        base_app = build(0, Path(tmp) / "base", FakeClock(START))
        await base_app.start()
        await base_app.devices.settle()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        app = build(n, Path(tmp) / "full", FakeClock(START))
        await app.start()
        await app.devices.settle()
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        figures["memory_per_device_bytes"] = (full - base) / max(n, 1)
        await base_app.stop()

        devices = app.devices
        # Every schedule is off at 17:50 and on at 19:00 (standby killer at 8 W): a boundary
        # at which every device switches.
        boundary = START + 70 * 60
        cpu0, wall0 = time.process_time(), time.perf_counter()
        started = devices.tick(boundary)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        await devices.settle_started()
        wall2 = time.perf_counter()
        figures["boundary_switches"] = started
        figures["tick_cpu_ms"] = (cpu1 - cpu0) * 1e3
        figures["tick_wall_ms"] = (wall1 - wall0) * 1e3
        figures["boundary_all_confirmed_ms"] = (wall2 - wall0) * 1e3
        # A boundary where nothing changes: the common case, 95 of 96 quarter-hours.
        cpu0 = time.process_time()
        devices.tick(boundary + 1)
        figures["quiet_tick_cpu_ms"] = (time.process_time() - cpu0) * 1e3

        # Readings: every device on, in a W slot, killer armed, draw above the threshold.
        devs = list(devices._devices.values())
        readings = [Reading(True, 60.0 + (k % 7), 1.0 + k * 1e-4) for k in range(2000)]
        rounds = max(1, 20_000 // max(n, 1))
        count = 0
        cpu0 = time.process_time()
        for r in range(rounds):
            for k, dev in enumerate(devs):
                devices._on_reading(dev, readings[(k + r) % len(readings)])
                count += 1
        figures["reading_cpu_us"] = (time.process_time() - cpu0) / max(count, 1) * 1e6
        killer = devs[0].killer if devs else None
        if killer is not None:
            cpu0 = time.perf_counter()
            for k in range(200_000):
                killer.reading(60.0, boundary + k)
            figures["killer_check_ns"] = (time.perf_counter() - cpu0) / 200_000 * 1e9
        await app.stop()
    return figures


# -- 4: the HTTP round trip, against a node in a subprocess ----------------------------


def serve(n: int, port: int, data_dir: str) -> None:
    """The node for the round trip: N devices, its recorder on, the real clock."""
    app = build(n, Path(data_dir), port=port)
    app.run()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the node exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/api/devices/plug0000", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the node did not answer")


async def round_trips(url: str, n: int, switches: int, concurrency: int) -> list[float]:
    """POST switches (alternating on and off, random devices) and return each latency in ms."""
    rng = random.Random(1)
    latencies: list[float] = []
    state: dict[str, bool] = {}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for _ in range(switches):
        queue.put_nowait(f"plug{rng.randrange(n):04d}")
    busy: set[str] = set()

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            device = queue.get_nowait()
            if device in busy:  # one switch per device at a time, as a person would
                queue.put_nowait(device)
                await asyncio.sleep(0)
                continue
            busy.add(device)
            on = not state.get(device, False)
            started = time.perf_counter()
            async with session.post(f"/api/devices/{device}/switch", json={"on": on, "hold": 600}) as r:
                body = await r.json()
            latencies.append((time.perf_counter() - started) * 1e3)
            busy.discard(device)
            if r.status != 200 or body["state"]["on"] is not on:
                raise SystemExit(f"switch failed: {r.status} {body}")
            state[device] = on

    async with aiohttp.ClientSession(base_url=url) as session:
        for _ in range(50):  # warm-up, not counted
            async with session.get("/api/devices/plug0000") as r:
                await r.read()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return latencies


def http_part(n: int, switches: int, concurrency: int) -> dict[str, float]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [sys.executable, str(HERE), "--serve", str(port), "--devices", str(n), "--data-dir", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, proc)
            cpu0 = _cpu_s(proc.pid)
            wall0 = time.perf_counter()
            lat = asyncio.run(round_trips(url, n, switches, concurrency))
            wall = time.perf_counter() - wall0
            cpu = _cpu_s(proc.pid) - cpu0
        finally:
            proc.terminate()
            proc.wait(20)
    lat.sort()
    return {
        "switches": len(lat),
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max_ms": lat[-1],
        "switches_per_s": len(lat) / wall,
        "server_cpu_per_switch_ms": cpu / max(len(lat), 1) * 1e3,
    }


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--switches", type=int, default=1000, help="round trips to measure")
    parser.add_argument("--concurrency", type=int, default=8, help="switches in flight at once")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.devices, args.serve, args.data_dir)
        return
    n = args.devices
    print(f"devices: {n} simulated plugs on 20 schedules (standby killer at 8 W)")
    f = asyncio.run(in_process(n))
    print(f"memory per device:           {f['memory_per_device_bytes'] / 1024:8.1f} KiB (Python allocations)")
    print(
        f"slot boundary, {int(f['boundary_switches'])} switches:  tick {f['tick_cpu_ms']:.2f} ms CPU, "
        f"all confirmed in {f['boundary_all_confirmed_ms']:.0f} ms"
    )
    print(f"slot boundary, no change:    tick {f['quiet_tick_cpu_ms']:.2f} ms CPU")
    print(f"per power reading:           {f['reading_cpu_us']:8.1f} us CPU (publishing included)")
    print(f"standby killer check:        {f.get('killer_check_ns', 0):8.0f} ns")
    h = http_part(n, args.switches, args.concurrency)
    print(
        f"POST switch -> confirmed:    p50 {h['p50_ms']:.1f} ms, p99 {h['p99_ms']:.1f} ms, max {h['max_ms']:.1f} ms "
        f"({int(h['switches'])} switches, {args.concurrency} at once, {h['switches_per_s']:.0f}/s, "
        f"server CPU {h['server_cpu_per_switch_ms']:.2f} ms each; target p99 < 20 ms)"
    )


if __name__ == "__main__":
    main()
