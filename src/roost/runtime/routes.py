"""The typed seam through which features declare HTTP routes for `web/` to mount.

A component that serves HTTP returns `Route`s from `routes()` (and may describe
them in `openapi_paths()`); the web server mounts them, and its one security
middleware checks each route's `scope` before the handler runs and puts the
request's `Caller` where `caller_of()` finds it. Features never import `web/`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from roost.core.caller import Caller, Scope, Transport

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Set by the web server's middleware on every request before a handler runs.
CALLER = web.RequestKey("roost_caller", Caller)
# The page marks its own requests with this header (or `?client=page` where a
# browser cannot set headers: WebSocket, EventSource). It only labels the caller's
# transport for logs and listeners; it grants nothing.
CLIENT_HEADER = "X-Roost-Client"


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP route: method, path (aiohttp syntax, `{name}` parts), handler and needed scope.

    `method` "*" serves every method; `cross_site` lets foreign origins call an
    unsafe method on it (only raspend's routes, and only when the user says so).
    """

    method: str
    path: str
    handler: Handler
    scope: Scope = Scope.READ
    name: str = ""
    cross_site: bool = False


@runtime_checkable
class RouteProvider(Protocol):
    """A feature that serves HTTP routes."""

    def routes(self) -> Sequence[Route]:
        """Return the routes to mount."""
        ...


@runtime_checkable
class OpenApiProvider(Protocol):
    """A feature that describes its routes in `/api/openapi.json`."""

    def openapi_paths(self) -> dict[str, Any]:
        """Return OpenAPI path items keyed by path."""
        ...


def caller_of(request: web.Request) -> Caller:
    """Return who made `request` (set by the web server's middleware)."""
    try:
        return request[CALLER]
    except KeyError:
        # A request that reached a handler without the middleware (an app a test built
        # by hand): treat it as the least-trusted caller there can be.
        return Caller("http", request.remote or "", "", Scope.READ)


def transport_of(request: web.Request) -> Transport:
    """Return how `request` came: `page` when the page marked it, `ws`, `sse`, or `http`.

    For whatever builds the request's Caller (the web server's open-node builder,
    authentication's guard).
    """
    headers = request.headers
    if headers.get(CLIENT_HEADER) == "page":
        return "page"
    # Parse the query only when it may hold the mark: this runs for every request.
    if "client=page" in request.query_string and request.query.get("client") == "page":
        return "page"
    upgrade = headers.get("Upgrade")
    if upgrade is not None and upgrade.lower() == "websocket":
        return "ws"
    accept = headers.get("Accept")
    if accept is not None and "text/event-stream" in accept:
        return "sse"
    return "http"
