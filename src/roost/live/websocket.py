"""`GET /api/live`: the change stream over WebSocket, plus commands and subscriptions by message."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from roost.core.caller import Caller
from roost.core.errors import BadRequest, RoostError, TooManyRequests
from roost.live.client import Client
from roost.live.framing import websocket_text
from roost.live.host import LiveHost
from roost.live.messages import (
    BadMessage,
    Call,
    Ping,
    Subscribe,
    error_message,
    parse_message,
    pong_message,
    result_message,
)
from roost.live.params import parse_params
from roost.live.subscription import parse_subscription
from roost.runtime.credentials import credential_of
from roost.runtime.routes import caller_of

log = logging.getLogger(__name__)

# How long a graceful close waits for the peer's close frame.
CLOSE_TIMEOUT_S = 3.0


class WebSocketClient(Client):
    """A WebSocket peer: data and replies as text frames; calls run as tasks of their own."""

    kind = "ws"

    def __init__(
        self,
        host: LiveHost,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        address: str,
        caller: Caller,
    ):
        super().__init__(host, transport, address, None)
        self.live = host
        self.ws = ws
        # Who opened the connection; each of its calls runs as this caller.
        self.caller = caller
        self.calls: set[asyncio.Task[None]] = set()

    def frame_data(self, payload: bytes, seq: int) -> bytes:
        """Return a text frame."""
        return websocket_text(payload)

    def frame_control(self, payload: bytes) -> bytes:
        """Return a text frame."""
        return websocket_text(payload)

    def _finish(self, abort: bool) -> None:
        for task in self.calls:
            task.cancel()
        if abort or not self.writable():
            # A close frame would queue behind what the peer is not reading.
            self.transport.abort()
        elif self.ws.closed:
            pass
        elif self.close_reason == "revoked":
            # 1008 policy violation: the client should not reconnect with the same credential.
            message = b"credentials revoked or expired"
            self.live.track(self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=message))
        else:
            self.live.track(self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down"))

    def receive(self, data: str | bytes) -> None:
        """Act on one message from the peer; a bad one gets an error reply, never a close."""
        try:
            message = parse_message(data)
        except BadMessage as exc:
            self.send_control(error_message(exc.id, exc.error), "error")
            return
        if isinstance(message, Call):
            if len(self.calls) >= self.host.settings.max_calls_per_client:
                limit = self.host.settings.max_calls_per_client
                error = TooManyRequests(f"too many calls in flight on this connection; the limit is {limit}")
                self.send_control(error_message(message.id, error), "error")
                return
            task = asyncio.get_running_loop().create_task(self._call(message))
            self.calls.add(task)
            task.add_done_callback(self.calls.discard)
        elif isinstance(message, Subscribe):
            try:
                subscription = parse_subscription(message.paths, self.host.settings.max_patterns)
            except RoostError as exc:
                self.send_control(error_message(message.id, exc), "error")
                return
            self.resubscribe(subscription)
        elif isinstance(message, Ping):
            self.send_control(pong_message(message.id), "pong")

    async def _call(self, call: Call) -> None:
        try:
            result = await self.live.commands.acall(call.command, call.args, self.caller)
            reply, kind = result_message(call.id, result), "result"
        except RoostError as exc:
            reply, kind = error_message(call.id, exc), "error"
        except Exception:
            log.exception("live call of %r failed", call.command)
            internal = RoostError("internal error; the server log has the details")
            reply, kind = error_message(call.id, internal), "error"
        self.send_control(reply, kind)


async def serve_websocket(host: LiveHost, request: web.Request) -> web.StreamResponse:
    """Upgrade to WebSocket, send a snapshot or the missed changes, then stream and answer calls."""
    settings = host.settings
    query = request.query
    params = parse_params(
        query.get("since"), query.get("boot"), None, query.getall("paths", []), settings.max_patterns
    )
    ws = web.WebSocketResponse(
        heartbeat=settings.ping_interval_s,
        max_msg_size=settings.max_message_bytes,
        # Frames are written pre-built and shared between clients (see framing.py),
        # which per-connection compression contexts would make impossible.
        compress=False,
        timeout=CLOSE_TIMEOUT_S,
    )
    if not ws.can_prepare(request).ok:
        raise BadRequest("/api/live speaks WebSocket; plain HTTP clients can read /api/events (SSE)")
    address = request.remote or "unknown"
    host.admit(address)
    try:
        await ws.prepare(request)
        transport = request.transport
        if transport is None:  # gone during the handshake
            return ws
        client = WebSocketClient(host, ws, transport, address, caller_of(request))
        client.credential = credential_of(request)
        client.subscription = params.subscription
        host.register(client, params.since, params.boot)
        reason = "client"
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                    client.receive(msg.data)
                elif msg.type is WSMsgType.ERROR:
                    reason = _error_reason(msg.data)
                    break
        except Exception:
            log.exception("live WebSocket %s failed", address)
            reason = "error"
        finally:
            client.close(reason)
    finally:
        host.release(address)
    return ws


def _error_reason(error: object) -> str:
    if isinstance(error, WebSocketError) and error.code == WSCloseCode.MESSAGE_TOO_BIG:
        return "message_too_big"
    if isinstance(error, TimeoutError):  # aiohttp's heartbeat got no pong in time
        return "no_pong"
    return "client"
