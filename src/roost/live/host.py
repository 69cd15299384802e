"""What the live transports (websocket.py, sse.py) need from the hub that serves them.

A protocol, so that the transports never import `LiveHub` (which imports them
to serve its routes): the seam runs one way.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from roost.live.client import Client, ClientHost
from roost.runtime.commands import CommandRegistry


class LiveHost(ClientHost, Protocol):
    """A client host that admits connections and runs their commands. Loop only."""

    @property
    def boot(self) -> str:
        """Tells this run's seqs from an earlier run's."""
        ...

    @property
    def commands(self) -> CommandRegistry:
        """The commands a WebSocket peer may call."""
        ...

    def admit(self, address: str) -> None:
        """Reserve a connection slot for `address` or raise TooManyRequests/Unavailable."""
        ...

    def release(self, address: str) -> None:
        """Give back the slot `admit()` reserved."""
        ...

    def register(self, client: Client, since: int | None, boot: str | None) -> None:
        """Start feeding `client`."""
        ...

    def track(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a closing handshake in the background."""
        ...
