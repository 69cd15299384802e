"""`--trusted-proxy` and `--raspend-auth` end to end: real `roost` processes, asked on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

from roost.testing import eventually
from support import RoostProcess

PROGRAMS = Path(__file__).resolve().parent.parent / "compat" / "programs"
PROGRAM = """
    from roost import App

    app = App("proxied")
    app.state["hall/temperature"] = 20.5
"""


def call(url: str, body: object = None, **headers: str) -> tuple[int, dict]:
    """GET `url`, or POST `body` as JSON; return the status and the JSON reply."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


get = call


def serve(roost_process, tmp_path: Path, *options: str) -> RoostProcess:
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(PROGRAM))
    node = roost_process(["run", "--host", "127.0.0.1", *options, str(program)])
    node.wait_ready()
    return node


def test_without_a_trusted_proxy_forwarded_for_is_ignored(roost_process, tmp_path) -> None:
    node = serve(roost_process, tmp_path)
    # Anyone can send the header: a loopback node without a proxy does not believe it.
    status, body = get(f"{node.url}/api/state/hall/temperature", **{"X-Forwarded-For": "192.168.1.50"})
    assert (status, body) == (200, 20.5)


def test_behind_a_trusted_proxy_the_node_is_never_open(roost_process, tmp_path) -> None:
    node = serve(roost_process, tmp_path, "--trusted-proxy", "127.0.0.1")
    for headers in ({"X-Forwarded-For": "192.168.1.50"}, {}):
        status, body = get(f"{node.url}/api/state/hall/temperature", **headers)
        assert status == 401, body
        assert body["error"]["code"] == "unauthenticated"
    # The first start offers the set-up code, as a LAN node does.
    assert (tmp_path / "data" / "setup-code").exists()
    assert "set-up code" in node.output().lower() or "setup" in node.output().lower()


def test_behind_a_trusted_proxy_a_token_reads_and_the_audit_sees_the_client(roost_process, tmp_path) -> None:
    node = serve(roost_process, tmp_path, "--trusted-proxy", "127.0.0.1")
    token = make_token(tmp_path, "admin")
    auth = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "192.168.1.50"}
    # The node picks up a token made from the command line within a tick.
    eventually(lambda: get(f"{node.url}/api/state/hall/temperature", **auth) == (200, 20.5))
    # A failed sign-in through the proxy is audited with the client's address, not the proxy's.
    login = {"name": "mallory", "password": "guess"}
    assert call(f"{node.url}/api/login", login, **{"X-Forwarded-For": "192.168.1.50"})[0] == 401
    status, audit = get(f"{node.url}/api/audit", **auth)
    assert status == 200, audit
    addresses = {entry.get("address") for entry in audit["entries"]}
    assert "192.168.1.50" in addresses, audit


def make_token(tmp_path: Path, scope: str) -> str:
    data_dir = str(tmp_path / "data")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "roost",
            "token",
            "create",
            "--data-dir",
            data_dir,
            "--name",
            scope,
            "--scope",
            scope,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def serve_raspend(roost_process, *options: str) -> RoostProcess:
    # raspend's own default: every interface (reached here on 127.0.0.1 only).
    node = roost_process(["raspend", "--host", "0.0.0.0", *options, str(PROGRAMS / "doorbell.py")])
    node.wait_ready()
    return node


def test_raspend_routes_are_open_to_the_lan_as_raspend_was(roost_process) -> None:
    node = serve_raspend(roost_process)
    status, _ = get(f"{node.url}/data")
    assert status == 200
    # roost's own API on the same LAN node still needs credentials.
    status, body = get(f"{node.url}/api/state")
    assert status == 401 and body["error"]["code"] == "unauthenticated"


def test_raspend_auth_requires_a_token_on_raspends_routes_too(roost_process, tmp_path) -> None:
    node = serve_raspend(roost_process, "--raspend-auth")
    status, body = get(f"{node.url}/data")
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    token = make_token(tmp_path, "read")
    eventually(lambda: get(f"{node.url}/data", Authorization=f"Bearer {token}")[0] == 200)
