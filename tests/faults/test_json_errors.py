"""Faults 6 and 7: every error is JSON, even those aiohttp's parser answers, and no reply names versions."""

from __future__ import annotations

import contextlib
import json
import socket
import textwrap
import threading
from collections.abc import Iterator

import pytest

from support import RoostProcess, http_call

PROGRAM = """
    from roost import App

    app = App("errors", history=False)
    app.run()
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoostProcess]:
    """One node for every request of this module: none of them changes it."""
    tmp = tmp_path_factory.mktemp("errors")
    (tmp / "program.py").write_text(textwrap.dedent(PROGRAM))
    proc = RoostProcess(["run", str(tmp / "program.py")], tmp)
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def raw_request(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; return the status, the headers (lower-case names) and the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        # Sent from a thread while this one reads: the server answers and closes long
        # before a 100 KB header is all sent, and the rest of it would reset the reply.
        sender = threading.Thread(target=send_quietly, args=(s, request))
        sender.start()
        reply = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(65536):
                reply += chunk
        sender.join()
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def send_quietly(s: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        s.sendall(data)


BAD_REQUESTS = {
    "url over 8,190 bytes": b"GET /api/state/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "a 100 KB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n",
    "1,000 headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    + b"\r\n",
    "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
}


@pytest.mark.parametrize("what", sorted(BAD_REQUESTS))
def test_requests_the_parser_refuses_get_a_json_error(node: RoostProcess, what: str) -> None:
    status, headers, body = raw_request(node.port, BAD_REQUESTS[what])
    assert 400 <= status < 500
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] and error["message"].startswith("bad request")
    assert "python" not in headers.get("server", "").lower()
    assert http_call("GET", node.url + "/healthz")[0] == 200  # and the node serves on


@pytest.mark.parametrize("path", ["/static/missing.js", "/static/../pyproject.toml", "/static/dist/nope.css"])
def test_a_missing_static_file_is_a_json_404(node: RoostProcess, path: str) -> None:
    status, body, headers = http_call("GET", node.url + path)
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"]["code"] == "not_found"


def test_static_files_are_still_served(node: RoostProcess) -> None:
    status, _, headers = http_call("GET", node.url + "/static/roost-live.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/api/state"),
        ("GET", "/nope"),
        ("GET", "/static/roost-live.js"),
        ("POST", "/api/commands/x"),
    ],
)
def test_no_reply_names_the_python_or_aiohttp_version(node: RoostProcess, method: str, path: str) -> None:
    _, _, headers = http_call(method, node.url + path, b"{}" if method == "POST" else None)
    assert headers["Server"] == "roost"
