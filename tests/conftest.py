"""Shared fixtures: real servers on free ports, real subprocesses, no network mocks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from roost import App

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(tmp_path: Path) -> App:
    """An App with its data in a temporary directory, not yet started."""
    return App("test", data_dir=tmp_path / "data", port=0, timezone="Europe/Berlin")


@pytest.fixture
async def served(app: App) -> AsyncIterator[App]:
    """`app`, started on 127.0.0.1 on a free port; stopped after the test."""
    await app.start(host="127.0.0.1", port=0)
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def http(served: App) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session pointed at the served app."""
    async with aiohttp.ClientSession(base_url=served.url) as session:
        yield session


class RoostProcess:
    """A `roost` subprocess serving on a free port."""

    def __init__(self, args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"roost-{self.port}.log"
        self._log = self.log_path.open("wb")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        # roost's own options go right after the subcommand: after `run PROGRAM` they
        # would be the program's arguments.
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


@pytest.fixture
def roost_process(tmp_path: Path) -> Iterator[type[RoostProcess]]:
    """Start `roost` subprocesses with `roost_process(args, tmp_path)`; all are killed afterwards."""
    started: list[RoostProcess] = []

    class Tracked(RoostProcess):
        def __init__(self, args: list[str], tmp: Path = tmp_path, env: dict[str, str] | None = None) -> None:
            super().__init__(args, tmp, env)
            started.append(self)

    yield Tracked
    for p in started:
        p.stop()
