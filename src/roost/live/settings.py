"""What the live hub tolerates and how eagerly it batches."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """Limits and timings of live push. Change them before the app starts."""

    # At most one change message per client per window: a change after a quiet
    # window goes out at once, later ones within it together at its end. Long
    # enough to coalesce a busy tree's writes, short enough not to be seen.
    batch_window_s: float = 0.02
    # WebSocket ping frames and SSE comment lines: keep NAT and proxies open and
    # find dead peers (a WebSocket without a pong for half the interval is closed).
    ping_interval_s: float = 20.0
    # A client that accepts no data for this long while data waits is closed.
    stuck_timeout_s: float = 30.0
    # A lagging client's coalesced backlog beyond this many paths is replaced by a snapshot.
    max_pending_paths: int = 2048
    # Largest message a client may send; a bigger one closes the WebSocket with 1009.
    max_message_bytes: int = 64 * 1024
    max_clients: int = 1024
    # Behind a reverse proxy every client has the proxy's address: raise this there.
    max_connections_per_address: int = 64
    max_calls_per_client: int = 16
    max_patterns: int = 64
    # SO_SNDBUF of each live connection; None keeps the kernel's autotuning. A small
    # value bounds the kernel memory a stalled client pins and finds it sooner.
    send_buffer_bytes: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            least = 0 if f.name == "batch_window_s" else 1e-9  # a zero window: every loop iteration
            if value is not None and value < least:
                raise ValueError(f"LiveSettings.{f.name} must be positive, not {value!r}")
