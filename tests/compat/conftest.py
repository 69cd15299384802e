"""Fixtures for raspend programs run through `python -m roost raspend` as real subprocesses."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roost.testing import NeverHeld, eventually
from support import ServerProcess, free_port

PROGRAMS = Path(__file__).resolve().parent / "programs"


class Reply:
    """Status, headers and body of one HTTP exchange."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """Return the body decoded as JSON."""
        return json.loads(self.body)


class RaspendProcess(ServerProcess):
    """`roost raspend PROGRAM --port P ARGS` on 127.0.0.1, with its data in a temp dir."""

    def __init__(
        self, program: str, args: list[str], tmp_path: Path, port_to: str | None = "program"
    ) -> None:
        port = free_port()
        port_args = ["--port", str(port)]
        roost_options = ["--host", "127.0.0.1", "--data-dir", str(tmp_path / "data")]
        roost_options += port_args if port_to == "roost" else []
        program_args = [*(port_args if port_to == "program" else []), *args]
        command = [sys.executable, "-m", "roost", "raspend", *roost_options, str(PROGRAMS / program)]
        super().__init__([*command, *program_args], port, tmp_path)

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> Reply:
        """Send one request and return the reply, error statuses included."""
        headers = {"Content-Type": content_type} if body is not None else {}
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return Reply(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            with e:
                return Reply(e.code, dict(e.headers), e.read())

    def get(self, path: str) -> Reply:
        """GET `path`."""
        return self.request("GET", path)

    def post_json(self, value: Any, path: str = "/") -> Reply:
        """POST `value` as JSON."""
        return self.request("POST", path, json.dumps(value).encode())

    def wait_for(self, path: str, predicate: Any, timeout_s: float = 10.0) -> Any:
        """Poll GET `path` until `predicate(json)` holds; return that JSON."""
        last: Any = None

        def holds() -> Any:
            nonlocal last
            reply = self.get(path)
            if reply.status != 200:
                return False
            last = reply.json()
            return predicate(last) and (last,)

        try:
            return eventually(holds, timeout_s, interval_s=0.05)[0]
        except NeverHeld:
            pytest.fail(f"{path} never satisfied the condition; last {last!r}\n{self.output()}")


@pytest.fixture
def raspend(tmp_path: Path) -> Iterator[Any]:
    """Start programs with `raspend("doorbell.py", [...])`; all are killed afterwards.

    The free port goes to the program's own `--port` (`port_to="program"`), to
    roost's (`"roost"`, before the program's name), or nowhere (None).
    """
    started: list[RaspendProcess] = []

    def start(program: str, args: list[str] | None = None, port_to: str | None = "program") -> RaspendProcess:
        process = RaspendProcess(program, args or [], tmp_path, port_to)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
