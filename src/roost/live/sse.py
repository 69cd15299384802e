"""`GET /api/events`: the change stream as Server-Sent Events, resumable by `Last-Event-ID`."""

from __future__ import annotations

import asyncio
import random

from aiohttp import HttpVersion11, web

from roost.core.errors import BadRequest
from roost.live.client import Client
from roost.live.framing import sse_comment, sse_event
from roost.live.host import LiveHost
from roost.live.params import event_id, parse_params
from roost.runtime.credentials import credential_of

# EventSource reconnects by itself after this long (ms). The spread keeps a
# restarted server from being hit by every browser in the same instant.
RETRY_MS = (1000, 3000)


class EventStreamClient(Client):
    """An SSE peer: events with `id: boot:seq`; comment lines as pings."""

    kind = "sse"

    def __init__(self, host: LiveHost, transport: asyncio.Transport, address: str):
        super().__init__(host, transport, address, None)
        self.boot = host.boot
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def frame_data(self, payload: bytes, seq: int) -> bytes:
        """Return an event whose id resumes the stream after `seq`."""
        return sse_event(payload, event_id(self.boot, seq))

    def frame_control(self, payload: bytes) -> bytes:
        """Return an event without an id."""
        return sse_event(payload)

    def _finish(self, abort: bool) -> None:
        if abort or not self.writable():
            # The end of the stream would queue behind what the peer is not reading.
            self.transport.abort()
        if not self.done.done():
            self.done.set_result(None)

    def tick(self, now: float) -> None:
        """Notice a peer that left (nothing else would: we never read from it); ping when idle."""
        if self.transport.is_closing():
            self.close("client")
        elif now - self.last_write_s >= self.host.settings.ping_interval_s:
            if self.writable():
                self._write(sse_comment("ping"), "ping")
            else:
                self.host.watch(self)  # so that a peer that stopped reading is found stuck


async def serve_events(host: LiveHost, request: web.Request) -> web.StreamResponse:
    """Stream a snapshot or the missed changes, then every change, until the peer leaves."""
    settings = host.settings
    query = request.query
    params = parse_params(
        query.get("since"),
        query.get("boot"),
        request.headers.get("Last-Event-ID"),
        query.getall("paths", []),
        settings.max_patterns,
    )
    if request.version < HttpVersion11:
        raise BadRequest("/api/events needs HTTP/1.1")
    address = request.remote or "unknown"
    host.admit(address)
    try:
        response = web.StreamResponse(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        response.content_type = "text/event-stream"
        response.enable_chunked_encoding()
        await response.prepare(request)
        # The first bytes go through aiohttp, so its headers and chunking are settled
        # before the hub writes framed chunks to the transport itself.
        await response.write(b"retry: %d\n\n" % random.randint(*RETRY_MS))
        transport = request.transport
        if transport is None:
            return response
        client = EventStreamClient(host, transport, address)
        client.credential = credential_of(request)
        client.subscription = params.subscription
        host.register(client, params.since, params.boot)
        try:
            await client.done
        finally:
            client.close("client")
    finally:
        host.release(address)
    return response
