"""LiveClient: a WebSocket client of `/api/live` that keeps the state it was pushed."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp

from roost.core.tree import Json, apply_diff
from roost.testing.eventually import DEFAULT_TIMEOUT_S, eventually


class LiveError(AssertionError):
    """The server answered a call over the live connection with an error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


class LiveClient:
    """One live connection: every message it got, and the tree they add up to. Loop only.

    `state` is the pushed tree (snapshot, then each change applied); `messages`
    every message in order. Wait for what a test expects with `wait_for`.
    """

    state: dict[str, Json]
    seq: int
    messages: list[dict[str, Any]]

    def __init__(self, session: aiohttp.ClientSession, patterns: Sequence[str] = ()) -> None:
        self._session = session
        self._patterns = list(patterns)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.state: dict[str, Json] = {}
        self.seq = -1

    async def connect(self) -> None:
        """Connect and wait for the snapshot."""
        params = [("paths", pattern) for pattern in self._patterns]
        self._ws = await self._session.ws_connect("/api/live", params=params)
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="roost-testing-live")
        await self.wait_for(lambda _: self.seq >= 0, message="the live snapshot")

    async def close(self) -> None:
        """Close the connection."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def __aenter__(self) -> LiveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get(self, path: str, default: Json = None) -> Json:
        """Return the pushed value at `path` (`/`-separated), or `default`."""
        node: Any = self.state
        for key in path.strip("/").split("/"):
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Json]], Any],
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        message: str | None = None,
    ) -> Any:
        """Wait until `predicate(state)` holds for the pushed state; return its value."""
        value = await eventually(lambda: predicate(self.state), timeout_s, message=message)
        return value

    async def call(self, command: str, /, **args: Any) -> Any:
        """Call a command over the WebSocket; return its result or raise LiveError."""
        if self._ws is None:
            raise RuntimeError("not connected")
        message_id = next(self._ids)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[message_id] = reply
        await self._ws.send_json({"type": "call", "id": message_id, "command": command, "args": args})
        try:
            return await asyncio.wait_for(reply, DEFAULT_TIMEOUT_S)
        finally:
            self._replies.pop(message_id, None)

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message: dict[str, Any] = frame.json()
            self.messages.append(message)
            kind = message.get("type")
            if kind == "snapshot":
                self.state = message["state"]
                self.seq = message["seq"]
            elif kind == "change":
                self.state = apply_diff(self.state, message["changes"], tuple(message.get("removed", ())))
                self.seq = message["seq"]
            elif kind in ("result", "error"):
                reply = self._replies.get(message.get("id"))  # type: ignore[arg-type]
                if reply is not None and not reply.done():
                    if kind == "result":
                        reply.set_result(message.get("result"))
                    else:
                        reply.set_exception(LiveError(message.get("error") or {}))
