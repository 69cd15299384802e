"""Idle, half-sent and slow connections never delay other clients."""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.request
from pathlib import Path

import aiohttp

from roost import App
from support import RoostProcess


async def test_100_idle_and_half_sent_sockets_do_not_delay_a_request(served: App) -> None:
    port = served.port
    assert port is not None
    writers = []
    for i in range(100):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        if i % 2:  # half of them stop in the middle of their request headers
            writer.write(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            await writer.drain()
        writers.append(writer)
    try:
        started = time.monotonic()
        async with (
            aiohttp.ClientSession() as s,
            s.get(served.url + "/api/state", timeout=aiohttp.ClientTimeout(total=5)) as r,
        ):
            assert r.status == 200
        assert time.monotonic() - started < 5
    finally:
        for w in writers:
            w.close()


async def test_half_sent_request_is_closed_after_the_idle_timeout(tmp_path: object) -> None:
    app = App("idle", data_dir=str(tmp_path), idle_timeout_s=0.3)
    await app.start(host="127.0.0.1", port=0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
        writer.write(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await writer.drain()
        # The server closes the connection: read returns EOF instead of hanging.
        data = await asyncio.wait_for(reader.read(), timeout=5)
        assert data == b""
        writer.close()
    finally:
        await app.stop()


async def test_slow_body_gets_a_json_error(tmp_path: object) -> None:
    app = App("slow", data_dir=str(tmp_path))

    @app.command
    def noop() -> None: ...

    await app.start(host="127.0.0.1", port=0)
    assert app.server is not None
    app.server.api.read_timeout_s = 0.3
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
        writer.write(b"POST /api/commands/noop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        assert head.startswith(b"HTTP/1.1 400")
        assert b"application/json" in head
        writer.close()
    finally:
        await app.stop()


def test_made_up_methods_do_not_grow_the_request_counters(
    roost_process: type[RoostProcess], tmp_path: Path
) -> None:
    # Without its C extension (no wheel for the board) aiohttp's parser takes any
    # token as a method; each one must not become a metrics label of its own.
    program = tmp_path / "bare.py"
    program.write_text("from roost import App\napp = App('bare', history=False)\n")
    proc = roost_process(["run", str(program)], env={"AIOHTTP_NO_EXTENSIONS": "1"})
    proc.wait_ready()
    for i in range(3):
        with socket.create_connection(("127.0.0.1", proc.port), timeout=5) as s:
            s.sendall(f"MADEUP{i} /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            reply = s.makefile("rb").read()
        assert reply.startswith(b"HTTP/1.1 405")
    with urllib.request.urlopen(proc.url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    assert "MADEUP" not in text
    assert 'roost_http_requests_total{route="unmatched",method="other",status="405"} 3' in text
