"""Secrets never reach the log: a real `roost run` at DEBUG, used with tokens, tickets and passwords."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

from support import RoostProcess

PROGRAM = textwrap.dedent(
    """
    from roost import App
    app = App("logs", history=False)
    app.state["lamp"] = True

    @app.command
    def fail(code: str) -> None:
        raise RuntimeError("no")

    app.run()
    """
)


def request(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_tokens_tickets_and_passwords_never_reach_the_log(
    tmp_path: Path, roost_process: type[RoostProcess]
) -> None:
    data = tmp_path / "data"
    program = tmp_path / "prog.py"
    program.write_text(PROGRAM)
    roost = [sys.executable, "-m", "roost"]
    password = "hunter2-but-longer"
    subprocess.run(
        [*roost, "user", "add", "admin", "--admin", "--password-stdin", "--data-dir", str(data)],
        input=password + "\n",
        text=True,
        check=True,
    )
    token = subprocess.run(
        [*roost, "token", "create", "--name", "ci", "--scope", "control", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    proc = roost_process(["run", str(program), "--host", "0.0.0.0"], env={"ROOST_LOG_LEVEL": "DEBUG"})
    proc.wait_ready()
    bearer = {"Authorization": f"Bearer {token}"}
    assert request(proc.url + "/api/state", headers=bearer) == 200
    assert request(proc.url + "/api/state", headers={"Authorization": f"Bearer {token}x"}) == 401
    assert request(proc.url + "/api/commands/fail", "POST", {"code": "1"}, bearer) == 500
    assert request(proc.url + "/api/login", "POST", {"name": "admin", "password": password}) == 200
    assert request(proc.url + "/api/login", "POST", {"name": "admin", "password": password + "x"}) == 401
    with urllib.request.urlopen(
        urllib.request.Request(proc.url + "/api/tickets", method="POST", headers=bearer)
    ) as r:
        ticket = json.load(r)["ticket"]
    assert request(proc.url + f"/api/state?ticket={ticket}") == 200
    proc.terminate()
    log = proc.output()
    assert "DEBUG" in log and "command fail" in log  # the log did run at DEBUG
    for secret in (token, token[6:20], ticket, password):
        assert secret not in log
