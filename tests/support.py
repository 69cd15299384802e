"""Test helpers shared across folders (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from roost.testing import NeverHeld, eventually


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A subprocess that serves HTTP on `port`, with its output in a log file."""

    def __init__(self, argv: list[str], port: int, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = tmp_path / f"server-{port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            cwd=tmp_path,
        )

    def wait_ready(self, timeout_s: float = 15.0) -> None:
        """Wait until /healthz answers, or fail with the process's output."""

        def answers() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        try:
            eventually(answers, timeout_s, interval_s=0.05)
        except NeverHeld:
            pytest.fail(f"the server did not answer within {timeout_s} s:\n{self.output()}")

    def terminate(self, timeout_s: float = 10.0) -> float:
        """Send SIGTERM and return how long the process took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout_s)
        return time.monotonic() - started

    def output(self) -> str:
        """Return what the process printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Kill the process if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


class RoostProcess(ServerProcess):
    """`python -m roost SUBCOMMAND ...` on a free port, with its data in `tmp_path/data`."""

    def __init__(self, args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> None:
        port = free_port()
        # roost's own options go right after the subcommand: after `raspend PROGRAM`
        # they would be the program's arguments.
        argv = [sys.executable, "-m", "roost", *args[:1], "--port", str(port)]
        argv += ["--data-dir", str(tmp_path / "data"), *args[1:]]
        super().__init__(argv, port, tmp_path, env)


def http_call(
    method: str, url: str, body: bytes | None = None, timeout_s: float = 10.0
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Send one request; return the status, the JSON body (or {"text": ...}) and the headers."""
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            status, raw, headers = reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as exc:
        status, raw, headers = exc.code, exc.read(), dict(exc.headers)
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {"text": raw.decode(errors="replace")}
    return status, parsed, headers


StartNode = Callable[..., RoostProcess]
