"""The seam between authentication and long-lived streams: which credential opened a stream, and its end.

Authentication puts an opaque key of the session or token that authenticated a
request under `CREDENTIAL`; a feature that keeps a connection open (the live
hub's WebSocket and SSE clients) remembers it and listens to `hub.credentials`.
When a token is revoked or a session ends, authentication calls `revoke()` and
every stream opened with those keys is closed. Neither side imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

# Set by authentication on requests made with a session or token; absent on an open node.
CREDENTIAL = web.RequestKey("roost_credential", str)

RevokeListener = Callable[[frozenset[str]], None]


class Credentials:
    """Tells listeners which credentials ended. Loop only."""

    def __init__(self) -> None:
        self._listeners: list[RevokeListener] = []

    def listen(self, listener: RevokeListener) -> Callable[[], None]:
        """Call `listener(keys)` whenever credentials end; return a function that stops it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def revoke(self, keys: Iterable[str]) -> None:
        """Announce that the credentials `keys` are no longer valid. Loop only."""
        ended = frozenset(keys)
        if not ended:
            return
        for listener in list(self._listeners):
            listener(ended)


def credential_of(request: web.Request) -> str | None:
    """Return the key of the credential that authenticated `request`, if any."""
    return request.get(CREDENTIAL)
