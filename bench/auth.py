"""What authentication costs: `GET /api/state` with a bearer token against an open node, and one login.

Starts two nodes on 127.0.0.1 in the same run, each serving the same small
program: one open (loopback, no user), one with a user and a read token (every
request checked). Loads both with 10 connections in interleaved rounds (wrk when
it is installed, `scripts/system-deps.sh bench`; else an aiohttp client) and
prints req/s and the ratio (target: the token node keeps >= 90 %). Then prints
the CPU time of one password check with the default scrypt parameters, in this
process and as the server spends it on `POST /api/login`, and the wall time of a
wrong password against an unknown user (they should match: no early return).

    python bench/auth.py [--duration 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp

from roost.auth import crypto

PROGRAM = """
from roost import App
app = App("bench", history=False)
for room in range(20):
    app.state[f"rooms/r{room}"] = {"temperature": 20.5 + room / 10, "humidity": 40 + room, "on": room % 2 == 0}
app.run()
"""
PASSWORD = "bench password 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def roost(*args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "roost", *args], input=stdin, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"roost {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def pinned(argv: list[str]) -> list[str]:
    # Servers on CPU 0, the load generator on CPU 1, as bench/http_state.py does.
    return ["taskset", "-c", "0", *argv] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else argv


def start(tmp: Path, name: str, procs: list[subprocess.Popen[bytes]]) -> tuple[str, int]:
    port = free_port()
    data = tmp / name
    argv = [
        sys.executable,
        "-m",
        "roost",
        "run",
        str(tmp / "prog.py"),
        "--port",
        str(port),
        "--data-dir",
        str(data),
    ]
    proc = subprocess.Popen(pinned(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(proc)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return url, proc.pid
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"{name} did not start")
            time.sleep(0.1)


def wrk(url: str, headers: dict[str, str], duration_s: float, connections: int) -> float:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s", "--timeout", "2s"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    cmd = ["taskset", "-c", "1", *argv, url] if shutil.which("taskset") else [*argv, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        sys.exit(f"wrk saw errors:\n{out}")
    return float(out.split("Requests/sec:")[1].split()[0])


async def aio_load(url: str, headers: dict[str, str], duration_s: float, connections: int) -> float:
    count = 0
    deadline = time.monotonic() + duration_s

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal count
        while time.monotonic() < deadline:
            async with session.get(url, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    sys.exit(f"status {r.status}")
                count += 1

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        return count / (time.monotonic() - started)


def load(url: str, headers: dict[str, str], duration_s: float, connections: int) -> float:
    if shutil.which("wrk"):
        return wrk(url, headers, duration_s, connections)
    return asyncio.run(aio_load(url, headers, duration_s, connections))


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_login(url: str, name: str, password: str) -> tuple[int, float]:
    body = json.dumps({"name": name, "password": password}).encode()
    request = urllib.request.Request(
        url + "/api/login", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per load run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "prog.py").write_text(PROGRAM)
        roost(
            "user",
            "add",
            "bench",
            "--password-stdin",
            "--data-dir",
            str(tmp / "guarded"),
            stdin=PASSWORD + "\n",
        )
        token = roost(
            "token", "create", "--name", "bench", "--scope", "read", "--data-dir", str(tmp / "guarded")
        )
        try:
            open_url, _ = start(tmp, "open", procs)
            guarded_url, guarded_pid = start(tmp, "guarded", procs)
            bearer = {"Authorization": f"Bearer {token}"}
            try:  # the guarded node really guards
                urllib.request.urlopen(guarded_url + "/api/state", timeout=5).close()
                sys.exit("the guarded node answered without a token")
            except urllib.error.HTTPError as exc:
                if exc.code != 401:
                    sys.exit(f"the guarded node answered {exc.code} without a token")
            tool = (
                "wrk" if shutil.which("wrk") else "aiohttp client (install wrk: scripts/system-deps.sh bench)"
            )
            print(
                f"GET /api/state, {args.connections} connections, {args.rounds} x {args.duration:g} s each, {tool}"
            )
            rates: dict[str, list[float]] = {"open": [], "token": []}
            for _ in range(args.rounds):
                rates["open"].append(load(open_url + "/api/state", {}, args.duration, args.connections))
                rates["token"].append(
                    load(guarded_url + "/api/state", bearer, args.duration, args.connections)
                )
            open_rps, token_rps = statistics.median(rates["open"]), statistics.median(rates["token"])
            print(
                f"  open node          {open_rps:9.0f} req/s  (runs: {', '.join(f'{r:.0f}' for r in rates['open'])})"
            )
            print(
                f"  bearer token node  {token_rps:9.0f} req/s  (runs: {', '.join(f'{r:.0f}' for r in rates['token'])})"
            )
            print(f"  ratio              {token_rps / open_rps:9.1%}  (target >= 90 %)")

            params = crypto.DEFAULT_PARAMS
            stored = crypto.hash_password(PASSWORD, params)
            samples = []
            for _ in range(5):
                t = time.process_time()
                crypto.verify_password(PASSWORD, stored, params)
                samples.append(time.process_time() - t)
            print(
                f"one password check, scrypt N={params.n} r={params.r} p={params.p} ({128 * params.n * params.r // 2**20} MiB):"
            )
            print(f"  CPU in this process   {statistics.median(samples) * 1e3:6.1f} ms (median of 5)")
            server = []
            for _ in range(3):
                before = cpu_s(guarded_pid)
                status, _ = post_login(guarded_url, "bench", PASSWORD)
                server.append(cpu_s(guarded_pid) - before)
                assert status == 200, status
            print(
                f"  server CPU per login  {statistics.median(server) * 1e3:6.0f} ms (median of 3, /proc, 10 ms ticks)"
            )
            wrong_pw, unknown = [], []
            for i in range(2):  # stays under the throttle's free attempts per name and address
                wrong_pw.append(post_login(guarded_url, "bench", f"wrong {i}")[1])
                unknown.append(post_login(guarded_url, f"nobody{i}", "wrong")[1])
            print(
                f"  wall: wrong password {statistics.median(wrong_pw) * 1e3:6.1f} ms, unknown user "
                f"{statistics.median(unknown) * 1e3:6.1f} ms (the same work: no early return)"
            )
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)


if __name__ == "__main__":
    main()
