"""What the live hub counts, for /metrics and /healthz."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from roost.core.metrics import Metric

# Why a connection ended; each is a label value of roost_live_closes_total.
CLOSE_REASONS = (
    "client",  # the peer closed or went away
    "no_pong",  # WebSocket heartbeat unanswered: a dead peer or a frozen tab
    "stuck",  # accepted no data for stuck_timeout_s while data waited
    "overflow",  # too many replies waiting for a client that does not read
    "message_too_big",  # sent a message over max_message_bytes (close code 1009)
    "shutdown",  # the server stops
    "error",  # an unexpected failure, logged with its traceback
)


@dataclass(slots=True)
class LiveCounters:
    """Counters of one live hub. Loop only."""

    messages: Counter[tuple[str, str]] = field(default_factory=Counter)  # (transport, type)
    bytes_sent: Counter[str] = field(default_factory=Counter)  # by transport
    accepted: Counter[str] = field(default_factory=Counter)  # by transport
    refused: Counter[str] = field(default_factory=Counter)  # by reason
    closes: Counter[str] = field(default_factory=Counter)  # by reason
    coalesced_batch: int = 0  # a path changed again within one batch window
    coalesced_client: int = 0  # a path changed again while a lagging client's backlog held it
    dropped: int = 0  # backlog updates discarded because a snapshot replaced them

    def sent(self, transport: str, kind: str, size: int) -> None:
        """Count one message written to a client."""
        self.messages[(transport, kind)] += 1
        self.bytes_sent[transport] += size

    def health(self, clients: dict[str, int], lagging: int) -> dict[str, Any]:
        """Return the /healthz entry."""
        return {
            "ok": True,
            "clients": clients,
            "lagging": lagging,
            "messages_sent": sum(self.messages.values()),
            "updates_coalesced": self.coalesced_batch + self.coalesced_client,
            "updates_dropped": self.dropped,
            "closes": dict(sorted(self.closes.items())),
            "refused": dict(sorted(self.refused.items())),
        }

    def metrics(self, clients: dict[str, int], lagging: int) -> list[Metric]:
        """Return the metric families."""
        return [
            Metric(
                "roost_live_clients",
                "gauge",
                "Connected live clients by transport.",
                [({"transport": t}, float(n)) for t, n in sorted(clients.items())],
            ),
            Metric.single(
                "roost_live_lagging_clients",
                "gauge",
                "Clients whose socket is full, so that updates wait in their backlog.",
                lagging,
            ),
            Metric(
                "roost_live_connections_total",
                "counter",
                "Live connections accepted by transport.",
                [({"transport": t}, float(n)) for t, n in sorted(self.accepted.items())],
            ),
            Metric(
                "roost_live_messages_total",
                "counter",
                "Live messages sent by transport and message type.",
                [({"transport": t, "type": k}, float(n)) for (t, k), n in sorted(self.messages.items())],
            ),
            Metric(
                "roost_live_sent_bytes_total",
                "counter",
                "Bytes of live messages sent by transport.",
                [({"transport": t}, float(n)) for t, n in sorted(self.bytes_sent.items())],
            ),
            Metric(
                "roost_live_updates_coalesced_total",
                "counter",
                "Updates merged into a later value of the same path before being sent.",
                [
                    ({"stage": "batch"}, float(self.coalesced_batch)),
                    ({"stage": "client"}, float(self.coalesced_client)),
                ],
            ),
            Metric.single(
                "roost_live_updates_dropped_total",
                "counter",
                "Backlog updates of lagging clients replaced by a fresh snapshot.",
                self.dropped,
            ),
            Metric(
                "roost_live_closes_total",
                "counter",
                "Live connections ended, by reason.",
                [({"reason": r}, float(self.closes[r])) for r in CLOSE_REASONS],
            ),
            Metric(
                "roost_live_refused_total",
                "counter",
                "Live connections refused, by reason.",
                [({"reason": r}, float(n)) for r, n in sorted(self.refused.items())],
            ),
        ]
