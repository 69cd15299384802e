"""Where a connecting client wants to start: `since`/`boot` or `Last-Event-ID`, and its patterns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from roost.core.errors import BadRequest
from roost.live.subscription import Subscription, parse_subscription


@dataclass(frozen=True, slots=True)
class ConnectParams:
    """A client's starting point. `since` None means "send a snapshot"."""

    since: int | None
    boot: str | None
    subscription: Subscription | None


def event_id(boot: str, seq: int) -> str:
    """Return the SSE event id of `seq`: the server's boot id and the seq, `3f9a0c1e:42`."""
    return f"{boot}:{seq}"


def parse_params(
    since: str | None,
    boot: str | None,
    last_event_id: str | None,
    paths: Sequence[str],
    max_patterns: int,
) -> ConnectParams:
    """Check the query (`since`, `boot`, `paths`) and the `Last-Event-ID` header, which wins."""
    if last_event_id:
        # Seq numbers start over when the server restarts; the boot id in our event
        # ids tells an old seq from a current one. A bare seq is taken as it is.
        head, sep, tail = last_event_id.strip().rpartition(":")
        boot, since = (head, tail) if sep else (None, tail)
    seq: int | None = None
    if since is not None and since != "":
        try:
            seq = int(since)
        except ValueError:
            raise BadRequest(f"since must be a sequence number, not {since[:40]!r}") from None
        if seq < 0:
            raise BadRequest("since must not be negative")
    return ConnectParams(seq, boot or None, parse_subscription(list(paths), max_patterns))
