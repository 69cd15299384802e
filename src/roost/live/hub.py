"""LiveHub: fans the state tree's change stream out to WebSocket and SSE clients.

The hub's "live" consumer of the change stream (`hub.consume`) hands this a
batch at most once per `batch_window_s`; the batch goes to every client
(client.py decides between writing it at once and folding it into a backlog).
Writers never wait: the consumer's bounded buffer only appends. Clients that
lag are polled until their socket drains; one that takes nothing for
`stuck_timeout_s` (on the hub's clock) is closed.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Coroutine, Sequence
from typing import Any

from aiohttp import web

from roost.core import codec
from roost.core.errors import TooManyRequests, Unavailable
from roost.core.metrics import Metric
from roost.live.batch import Batch
from roost.live.client import Client
from roost.live.counters import LiveCounters
from roost.live.messages import snapshot_message
from roost.live.openapi import live_paths
from roost.live.settings import LiveSettings
from roost.live.sse import serve_events
from roost.live.subscription import Subscription
from roost.live.websocket import serve_websocket
from roost.runtime.clock import Clock
from roost.runtime.commands import CommandRegistry
from roost.runtime.component import Component
from roost.runtime.consumer import Consumer
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.runtime.state import Change, StateTree

log = logging.getLogger(__name__)

# asyncio tells only the transport's own protocol (aiohttp's) when a socket
# drains, so lagging clients are looked at this often instead.
DRAIN_POLL_S = 0.05
TICK_S = 1.0
SHUTDOWN_GRACE_S = 2.0
# Changes waiting within one batch window; past it they are coalesced (clients get
# the newest value of each path anyway).
MAX_PENDING_CHANGES = 4096


class LiveHub(Component):
    """Serves `GET /api/live` (WebSocket) and `GET /api/events` (SSE). Loop only, except `settings`."""

    name = "live"

    def __init__(self, hub: Hub, settings: LiveSettings | None = None) -> None:
        self.hub = hub
        self.settings = settings or LiveSettings()
        self.counters = LiveCounters()
        # Tells this run's seqs from an earlier run's: they start over on restart.
        self.boot = os.urandom(4).hex()
        self._clients: dict[Client, None] = {}
        self._lagging: dict[Client, None] = {}
        self._admitted = 0
        self._per_address: Counter[str] = Counter()
        self._consumer: Consumer | None = None
        self._drain_handle: asyncio.TimerHandle | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._unlisten: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def state(self) -> StateTree:
        """The state tree being served."""
        return self.hub.state

    @property
    def clock(self) -> Clock:
        """The hub's clock: stall and ping timing read it."""
        return self.hub.clock

    @property
    def commands(self) -> CommandRegistry:
        """The commands WebSocket peers call."""
        return self.hub.commands

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Follow the change stream. Loop only."""
        if self._consumer is None:
            self._consumer = self.hub.consume(
                self.name,
                self._on_batch,
                max_pending=MAX_PENDING_CHANGES,
                coalesce=True,
                window_s=self.settings.batch_window_s,
            )
        if self._unlisten is None:
            self._unlisten = self.hub.credentials.listen(self._on_revoked)
        self._schedule_tick()

    async def stop(self) -> None:
        """Close every client and stop following the stream. Loop only."""
        await self.close_all("shutdown")
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for handle in (self._drain_handle, self._tick_handle):
            if handle is not None:
                handle.cancel()
        self._drain_handle = self._tick_handle = None

    async def close_all(self, reason: str) -> None:
        """Send what is batched, then close every client and wait briefly for graceful closes. Loop only."""
        if self._consumer is not None:
            self._consumer.flush()
        for client in list(self._clients):
            client.close(reason)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE_S)

    def routes(self) -> list[Route]:
        """Return the live routes: reading the stream needs `read`; each call checks its command's scope."""
        return [
            Route("GET", "/api/live", self._serve_websocket),
            Route("GET", "/api/events", self._serve_events),
        ]

    def openapi_paths(self) -> dict[str, Any]:
        """Return the OpenAPI path items of the live routes."""
        return live_paths()

    async def close_connections(self) -> None:
        """Close every live client as the web server shuts down. Loop only."""
        await self.close_all("shutdown")

    async def _serve_websocket(self, request: web.Request) -> web.StreamResponse:
        return await serve_websocket(self, request)

    async def _serve_events(self, request: web.Request) -> web.StreamResponse:
        return await serve_events(self, request)

    # -- clients -------------------------------------------------------------

    def admit(self, address: str) -> None:
        """Reserve a connection slot for `address` or raise; `release()` it when the connection ends."""
        s = self.settings
        if self._admitted >= s.max_clients:
            self.counters.refused["max_clients"] += 1
            raise Unavailable(f"too many live clients; the limit is {s.max_clients}")
        if self._per_address[address] >= s.max_connections_per_address:
            self.counters.refused["per_address"] += 1
            raise TooManyRequests(
                f"too many live connections from {address}; the limit is {s.max_connections_per_address}"
            )
        self._admitted += 1
        self._per_address[address] += 1

    def release(self, address: str) -> None:
        """Give back the slot `admit()` reserved."""
        self._admitted -= 1
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]

    def register(self, client: Client, since: int | None, boot: str | None) -> None:
        """Start feeding `client`: the changes after `since` (same boot, still buffered), else a snapshot."""
        self._clients[client] = None
        self.counters.accepted[client.kind] += 1
        if boot is not None and boot != self.boot:
            since = None
        client.start(since)

    def forget(self, client: Client) -> None:
        """Stop feeding a closing client and count why it closed."""
        if client in self._clients:
            del self._clients[client]
            self.counters.closes[client.close_reason or "client"] += 1
        self._lagging.pop(client, None)

    def _on_revoked(self, keys: frozenset[str]) -> None:
        # A revoked token, an expired or signed-out session: its streams end now.
        for client in list(self._clients):
            if client.credential is not None and client.credential in keys:
                client.close("revoked")

    def track(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a closing handshake in the background; shutdown waits for it briefly."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def snapshot_payload(self, subscription: Subscription | None) -> tuple[int, bytes]:
        """Return `(seq, snapshot message)` of the current tree, filtered by `subscription`."""
        if subscription is None:
            seq, data = self.hub.state.encoded()  # encoded once per change, shared
        else:
            snap = self.hub.state.snapshot()
            seq, data = snap.seq, codec.dumps(subscription.filter_tree(snap.root))
        return seq, snapshot_message(seq, self.boot, data)

    def client_counts(self) -> dict[str, int]:
        """Return connected clients by transport."""
        counts = {"ws": 0, "sse": 0}
        for client in self._clients:
            counts[client.kind] = counts.get(client.kind, 0) + 1
        return counts

    # -- the change stream ---------------------------------------------------

    def _on_batch(self, changes: Sequence[Change]) -> None:
        # The consumer throttles: the first change after a quiet window comes at once,
        # those within the window together at its end.
        if not self._clients:
            return  # a client that connects later starts from a snapshot or the ring buffer
        batch = Batch(list(changes))
        self.counters.coalesced_batch += batch.coalesced
        for client in list(self._clients):
            client.offer(batch)

    # -- lagging clients and housekeeping ------------------------------------

    def watch(self, client: Client) -> None:
        """Retry `client` when its socket drains; close it if it stays stuck."""
        if client.closed:
            return
        self._lagging[client] = None
        if self._drain_handle is None:
            self._drain_handle = asyncio.get_running_loop().call_later(DRAIN_POLL_S, self._drain)

    def _drain(self) -> None:
        self._drain_handle = None
        now = self.hub.clock.monotonic()
        for client in list(self._lagging):
            if client.closed:
                self._lagging.pop(client, None)
            elif client.writable():
                self._lagging.pop(client, None)
                client.unstalled()
                client.flush()
            elif client.stalled(now):
                client.close("stuck")
        if self._lagging:
            self._drain_handle = asyncio.get_running_loop().call_later(DRAIN_POLL_S, self._drain)

    def _schedule_tick(self) -> None:
        interval = min(TICK_S, self.settings.ping_interval_s / 4)
        self._tick_handle = asyncio.get_running_loop().call_later(interval, self._tick)

    def _tick(self) -> None:
        now = self.hub.clock.monotonic()
        for client in list(self._clients):
            client.tick(now)
        self._schedule_tick()

    # -- observability -------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Return clients, messages, coalesced and dropped updates, closes by reason."""
        return self.counters.health(self.client_counts(), len(self._lagging))

    def metrics(self) -> list[Metric]:
        """Return the live metric families."""
        return self.counters.metrics(self.client_counts(), len(self._lagging))
