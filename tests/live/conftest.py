"""Live test fixtures: a served app with chosen LiveSettings, and real WebSocket, SSE and raw clients.

Every probe keeps a `View`: the tree rebuilt from the messages it got, checked
on each message the way a careful client would (each change batch starts where
the last message ended, so a gap or a duplicate fails at once).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from roost import App
from roost.core.tree import apply_diff
from roost.live import LiveSettings

WAIT_S = 10.0  # a bound on waiting for something that must happen, not a performance target


class View:
    """The state as a client rebuilds it from snapshot and change messages."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}
        self.seq = -1
        self.boot: str | None = None
        self.snapshots = 0
        self.changes = 0

    def apply(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "snapshot":
            self.tree, self.seq, self.boot = msg["state"], msg["seq"], msg["boot"]
            self.snapshots += 1
        elif msg["type"] == "change":
            assert msg["since"] == self.seq, f"batch starts at {msg['since']}, client holds {self.seq}"
            assert msg["seq"] > self.seq
            self.tree = apply_diff(self.tree, msg["changes"], msg.get("removed", []))
            self.seq = msg["seq"]
            self.changes += 1


class Probe:
    """A live client under test: `next()` returns the next message, `until_seq()` reads up to a seq."""

    def __init__(self) -> None:
        self.view = View()
        self.messages: list[dict[str, Any]] = []

    async def _receive(self) -> dict[str, Any]:
        raise NotImplementedError

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_S):
            msg = await self._receive()
        self.messages.append(msg)
        if msg["type"] in ("snapshot", "change"):
            self.view.apply(msg)
        return msg

    async def until_seq(self, seq: int) -> None:
        while self.view.seq < seq:
            await self.next()

    async def close(self) -> None:
        raise NotImplementedError


class WsProbe(Probe):
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__()
        self.ws = ws

    async def _receive(self) -> dict[str, Any]:
        msg = await self.ws.receive()
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg!r}"
        return dict(json.loads(msg.data))

    async def send(self, obj: Any) -> None:
        await self.ws.send_str(obj if isinstance(obj, str) else json.dumps(obj))

    async def close(self) -> None:
        await self.ws.close()


class SseProbe(Probe):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        super().__init__()
        self.response = response
        self.last_event_id: str | None = None
        self.comments: list[str] = []
        self.retry_ms: int | None = None

    async def _receive(self) -> dict[str, Any]:
        data: list[str] = []
        while True:
            raw = await self.response.content.readline()
            if not raw:
                raise ConnectionError("the event stream ended")
            line = raw.decode().rstrip("\n")
            if line == "":
                if data:
                    return dict(json.loads("\n".join(data)))
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                self.comments.append(value)
            elif field == "id":
                self.last_event_id = value
            elif field == "data":
                data.append(value)
            elif field == "retry":
                self.retry_ms = int(value)

    async def close(self) -> None:
        self.response.close()


class RawWsProbe(Probe):
    """A WebSocket client on a bare socket with a tiny receive buffer, which reads only when asked.

    aiohttp's client keeps reading into its own buffers; this one stops dead,
    as a frozen phone or a stalled network does.
    """

    def __init__(self, sock: socket.socket, rest: bytes) -> None:
        super().__init__()
        self.sock = sock
        self.buffer = rest

    @classmethod
    async def connect(cls, url: str, rcvbuf: int) -> RawWsProbe:
        key = base64.b64encode(os.urandom(16)).decode()
        headers = f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        sock, head, rest = await raw_get(url, rcvbuf, headers + "Sec-WebSocket-Version: 13\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(sock, rest)

    async def _read(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        while len(self.buffer) < n:
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    async def _receive(self) -> dict[str, Any]:
        while True:
            b0, b1 = await self._read(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self._read(8))
            payload = await self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x1:
                return dict(json.loads(payload))
            if opcode == 0x8:
                raise ConnectionError(f"close frame {payload!r}")
            # ping frames: never answered, as a frozen peer would not

    async def wait_closed(self) -> None:
        """Read and discard until the server ends the connection."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(WAIT_S):
            with contextlib.suppress(ConnectionError):
                while await loop.sock_recv(self.sock, 65536):
                    pass

    async def close(self) -> None:
        self.sock.close()


async def raw_get(url: str, rcvbuf: int, headers: str = "") -> tuple[socket.socket, bytes, bytes]:
    """Send a GET on a bare socket with a small receive buffer; return it, the response head and the rest."""
    loop = asyncio.get_running_loop()
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, port = host_port.rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    request = f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\n{headers}\r\n"
    await loop.sock_sendall(sock, request.encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = await loop.sock_recv(sock, 4096)
        assert chunk, "closed before the response head"
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    return sock, head, rest


class Probes:
    """Opens probes against a served app and closes them after the test."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.opened: list[Probe] = []
        self.sockets: list[socket.socket] = []

    async def ws(self, app: App, query: str = "") -> WsProbe:
        ws = await self.session.ws_connect(f"{app.url}/api/live{query}")
        probe = WsProbe(ws)
        self.opened.append(probe)
        return probe

    async def sse(self, app: App, query: str = "", last_event_id: str | None = None) -> SseProbe:
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        response = await self.session.get(f"{app.url}/api/events{query}", headers=headers)
        assert response.status == 200, await response.text()
        probe = SseProbe(response)
        self.opened.append(probe)
        return probe

    async def raw_ws(self, app: App, query: str = "", rcvbuf: int = 4096) -> RawWsProbe:
        probe = await RawWsProbe.connect(f"{app.url}/api/live{query}", rcvbuf)
        self.opened.append(probe)
        return probe

    async def stalled_sse(self, app: App, rcvbuf: int = 4096) -> socket.socket:
        """Open an event stream on a bare socket that is never read."""
        sock, head, _ = await raw_get(f"{app.url}/api/events", rcvbuf)
        assert head.startswith(b"HTTP/1.1 200"), head
        self.sockets.append(sock)
        return sock

    async def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        for probe in self.opened:
            with contextlib.suppress(Exception):
                await probe.close()


@pytest.fixture
async def start_live(app: App) -> AsyncIterator[Callable[..., Awaitable[App]]]:
    """`await start_live(**settings)`: serve `app` with those LiveSettings; stopped after the test."""
    started = False

    async def start(**settings: Any) -> App:
        nonlocal started
        app.live.settings = LiveSettings(**settings)
        await app.start(host="127.0.0.1", port=0)
        started = True
        return app

    yield start
    if started:
        await app.stop()


@pytest.fixture
async def probes() -> AsyncIterator[Probes]:
    """Open WebSocket, SSE and raw probes; all are closed after the test."""
    async with aiohttp.ClientSession() as session:
        opened = Probes(session)
        yield opened
        await opened.close()
