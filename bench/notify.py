"""Notification channels: what apprise costs in memory, and how long a send takes, on `roost demo`.

First, in a fresh interpreter that has imported aiohttp (as a node has), the
resident memory (VmRSS) before and after importing apprise and loading its
service modules: what a node would keep if it sent in-process. Then it starts
`roost demo`, lets it idle and reads its VmRSS, adds a json:// channel to a
local HTTP receiver on 127.0.0.1, presses "send test" `--sends` + 1 times
(each send runs apprise in a child process), idles again and reads VmRSS once
more. Prints the figures and the median and worst time of a test send.

    python bench/notify.py [--idle 10] [--sends 20]
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text)[1]) / 1024  # type: ignore[index]


class Receiver(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def call(method: str, url: str, body: object = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


IN_PROCESS = """
import re, aiohttp
def rss():
    return int(re.search(r"VmRSS:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) / 1024
before = rss()
import apprise
imported = rss()
apprise.Apprise().add("json://127.0.0.1:9/x")  # loads every service module
print(before, imported, rss())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=10.0, help="seconds to idle before each reading")
    parser.add_argument("--sends", type=int, default=20, help="test sends after the first")
    args = parser.parse_args()

    before_import, imported, loaded = map(
        float,
        subprocess.run([sys.executable, "-c", IN_PROCESS], capture_output=True, check=True).stdout.split(),
    )
    print(
        f"in-process apprise: {before_import:.1f} MB -> import {imported:.1f} MB -> services loaded "
        f"{loaded:.1f} MB (+{loaded - before_import:.1f} MB kept for good)"
    )
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "roost", "--log-level", "WARNING", "demo", "--port", str(port)]
        proc = subprocess.Popen([*argv, "--data-dir", tmp])
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=1):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        sys.exit("roost demo did not start")
                    time.sleep(0.05)
            time.sleep(args.idle)
            before = rss_mb(proc.pid)
            url = f"json://127.0.0.1:{receiver.server_address[1]}/hook"
            status, _ = call("PUT", base + "/api/channels/hook", {"url": url})
            assert status == 200, status
            times = []
            for _ in range(args.sends + 1):
                started = time.perf_counter()
                status, reply = call("POST", base + "/api/channels/hook/test")
                times.append(time.perf_counter() - started)
                assert status == 200, reply
            time.sleep(args.idle)
            after = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(20)
    receiver.shutdown()
    print(f"idle RSS of roost demo, no URL channel used: {before:.1f} MB")
    print(f"idle RSS after {args.sends + 1} sends through apprise: {after:.1f} MB (+{after - before:.1f} MB)")
    print(f"first test send: {times[0] * 1000:.0f} ms")
    rest = times[1:]
    if rest:
        print(
            f"later test sends: median {statistics.median(rest) * 1000:.1f} ms, "
            f"worst {max(rest) * 1000:.1f} ms ({len(rest)} sends, {Receiver.received} received)"
        )


if __name__ == "__main__":
    main()
