"""One live connection: what it holds, what it still needs, and a backlog that cannot grow.

A client that keeps up gets each batch as shared, pre-framed bytes written
straight to its transport. One that does not (its socket buffer is full) gets
nothing more written: new updates fold into `pending`, one entry per path with
the latest value, and go out as one message when the socket drains. If even that
backlog passes `max_pending_paths`, it is dropped for a fresh snapshot. So a slow
client costs a bounded dict, never a queue that grows, and never a wait for
anyone else.

Sequence numbers: every change up to `seq` is either sent or in `pending`; the
client holds the state as of `sent_seq`. A change message says `since` (the
client's `sent_seq`) and `seq`, so a client can check that nothing is missing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from roost.core.tree import Json
from roost.live.batch import coalesce_into, select
from roost.live.counters import LiveCounters
from roost.live.messages import change_message
from roost.live.settings import LiveSettings
from roost.runtime.clock import Clock
from roost.runtime.state import Change, StateTree

if TYPE_CHECKING:
    from roost.live.batch import Batch
    from roost.live.subscription import Subscription

log = logging.getLogger(__name__)

# Replies waiting for a client that does not read. Past this it is only flooding us.
MAX_CONTROL_BACKLOG = 256


class ClientHost(Protocol):
    """What a client needs from the hub that serves it."""

    settings: LiveSettings
    counters: LiveCounters

    @property
    def state(self) -> StateTree: ...

    @property
    def clock(self) -> Clock: ...

    def snapshot_payload(self, subscription: Subscription | None) -> tuple[int, bytes]: ...

    def watch(self, client: Client) -> None: ...

    def forget(self, client: Client) -> None: ...


class Client:
    """A connection's place in the change stream. Loop only.

    Subclasses frame messages for their transport and know how to end it.
    """

    kind: ClassVar[str] = "client"

    def __init__(
        self,
        host: ClientHost,
        transport: asyncio.Transport,
        address: str,
        subscription: Subscription | None,
    ) -> None:
        self.host = host
        self.transport = transport
        self.address = address
        self.subscription = subscription
        self.seq = -1
        self.sent_seq = -1
        self.pending: dict[str, Json] = {}
        self.needs_snapshot = False
        self.control: deque[tuple[bytes, str]] = deque()
        self.close_reason: str | None = None
        # The session or token that opened this stream (runtime.credentials); None on an open node.
        self.credential: str | None = None
        self.last_write_s = host.clock.monotonic()
        self._stalled_since: float | None = None
        self._stalled_size = 0
        if host.settings.send_buffer_bytes is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, host.settings.send_buffer_bytes)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.address} seq={self.seq}>"

    # -- what subclasses provide -------------------------------------------------

    def frame_data(self, payload: bytes, seq: int) -> bytes:
        """Return a snapshot or change message framed for this transport."""
        raise NotImplementedError

    def frame_control(self, payload: bytes) -> bytes:
        """Return a reply (result, error, pong) framed for this transport."""
        raise NotImplementedError

    def _finish(self, abort: bool) -> None:
        """End the connection: gracefully, or at once (`abort`) when the peer cannot take more."""
        raise NotImplementedError

    def tick(self, now: float) -> None:
        """Housekeeping, about once a second: pings, finding peers that left."""

    # -- feeding -----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is ending; nothing more is written."""
        return self.close_reason is not None

    def start(self, since: int | None) -> None:
        """Send a snapshot, or the changes after `since` if they are still buffered."""
        changes = None if since is None else self.host.state.changes_since(since)
        if changes is None:
            self.needs_snapshot = True
        else:
            assert since is not None
            self.seq = self.sent_seq = since
            self._fold(changes)
        self.flush()

    def offer(self, batch: Batch) -> None:
        """Take a batch of changes: write it now if the client keeps up, else fold it into the backlog."""
        if self.close_reason is not None or self.needs_snapshot or batch.last <= self.seq:
            return  # a snapshot to come, or one already sent, covers it
        if batch.first > self.seq and not self.pending and not self.control and self.writable():
            framed = batch.frame(self.kind, self.subscription, self.sent_seq, self.frame_data)
            self.seq = batch.last
            if framed is not None:
                self._write(framed, "change")
                self.sent_seq = batch.last
            return
        if batch.first > self.seq:
            self._merge(batch.selected(self.subscription))
            self.seq = batch.last
        else:  # a snapshot or resume was taken in the middle of this batch
            self._fold(batch.changes)
        self.flush()

    def resubscribe(self, subscription: Subscription | None) -> None:
        """Switch to other patterns; a snapshot of what they match follows."""
        self.subscription = subscription
        self.pending = {}
        self.needs_snapshot = True
        self.flush()

    def send_control(self, payload: bytes, kind: str) -> None:
        """Queue a reply; it goes out before any waiting data."""
        if self.close_reason is not None:
            return
        self.control.append((payload, kind))
        if len(self.control) > MAX_CONTROL_BACKLOG:
            self.close("overflow")
            return
        self.flush()

    def flush(self) -> None:
        """Write what waits if the socket takes it now; otherwise ask the host to retry on drain."""
        if self.close_reason is not None or not (self.control or self.needs_snapshot or self.pending):
            return
        if not self.writable():
            self.host.watch(self)
            return
        while self.control:
            payload, kind = self.control.popleft()
            self._write(self.frame_control(payload), kind)
        if self.needs_snapshot:
            seq, payload = self.host.snapshot_payload(self.subscription)
            self.needs_snapshot = False
            self.pending = {}
            self.seq = self.sent_seq = seq
            self._write(self.frame_data(payload, seq), "snapshot")
        elif self.pending:
            message = change_message(self.seq, self.sent_seq, self.pending)
            self.pending = {}
            if message is not None:
                self._write(self.frame_data(message, self.seq), "change")
                self.sent_seq = self.seq

    def _fold(self, changes: Sequence[Change]) -> None:
        updates: dict[str, Json] = {}
        coalesce_into(updates, changes, after_seq=self.seq)
        self._merge(select(updates, self.subscription))
        if changes:
            self.seq = max(self.seq, changes[-1].seq)

    def _merge(self, updates: Mapping[str, Json]) -> None:
        pending = self.pending
        before = len(pending)
        pending.update(updates)
        self.host.counters.coalesced_client += before + len(updates) - len(pending)
        if len(pending) > self.host.settings.max_pending_paths:
            self.host.counters.dropped += len(pending)
            self.pending = {}
            self.needs_snapshot = True

    # -- the socket --------------------------------------------------------------

    def writable(self) -> bool:
        """Return True if the socket has taken everything written so far."""
        t = self.transport
        return not t.is_closing() and t.get_write_buffer_size() == 0

    def _write(self, data: bytes, kind: str) -> None:
        self.transport.write(data)
        self.last_write_s = self.host.clock.monotonic()
        self.host.counters.sent(self.kind, kind, len(data))

    def stalled(self, now: float) -> bool:
        """Return True if the peer has taken no data for `stuck_timeout_s` while data waited."""
        size = self.transport.get_write_buffer_size()
        if self._stalled_since is None or size < self._stalled_size:
            self._stalled_since = now  # first look, or the peer read something: progress
        self._stalled_size = size
        return now - self._stalled_since >= self.host.settings.stuck_timeout_s

    def unstalled(self) -> None:
        """Forget stall tracking; the socket drained."""
        self._stalled_since = None

    def close(self, reason: str) -> None:
        """End the connection for `reason` (a label of roost_live_closes_total); idempotent."""
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self.pending = {}
        self.control.clear()
        self.host.forget(self)
        if reason in ("stuck", "overflow"):
            log.info("closing live client %s (%s): %s", self.address, self.kind, reason)
        self._finish(abort=reason in ("stuck", "overflow"))
