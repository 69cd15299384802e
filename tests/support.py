"""Test helpers shared across folders (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RoostProcess:
    """A `roost` subprocess serving on a free port."""

    def __init__(self, args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"roost-{self.port}.log"
        self._log = self.log_path.open("wb")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        # roost's own options go right after the subcommand: after `raspend PROGRAM`
        # they would be the program's arguments.
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "roost",
                *args[:1],
                "--port",
                str(self.port),
                "--data-dir",
                str(tmp_path / "data"),
                *args[1:],
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=tmp_path,
        )

    def wait_ready(self, timeout_s: float = 15.0) -> None:
        """Wait until /healthz answers, or fail with the process's output."""
        import urllib.request

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"roost exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"roost did not answer within {timeout_s} s:\n{self.output()}")

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
