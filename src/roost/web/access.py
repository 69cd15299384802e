"""Who is calling, and may they: every request gets its `Caller`, and its route's scope is checked, here.

`caller_on_open_node` is the one function that decides who a request comes
from; authentication replaces it. `Access.middleware` runs it for every
request, stores the caller under `routes.CALLER` (handlers read it with
`routes.caller_of`), and refuses a caller whose scope is below the matched
route's with a 403 JSON error before the handler runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from roost.core.caller import Caller, Scope, Transport
from roost.core.errors import Forbidden
from roost.runtime.routes import CALLER, Handler, Route, transport_of

# Decides who a request comes from, given the route it matched (None for the page,
# its assets and unmatched paths); may raise a RoostError to refuse it outright.
# Authentication brings its own.
Identify = Callable[[web.Request, Route | None], Caller]


def caller_on_open_node(request: web.Request, route: Route | None = None) -> Caller:
    """Return who made `request` on a node without authentication: anyone who reaches it may do anything."""
    return _open_caller(transport_of(request), request.remote or "")


@functools.lru_cache(maxsize=1024)
def _open_caller(transport: Transport, address: str) -> Caller:
    # Callers are immutable: one per transport and address serves every request from it.
    return Caller(transport, address, "", Scope.ADMIN)


class Access:
    """The scope each mounted route needs, and the middleware that enforces it."""

    def __init__(self, identify: Identify = caller_on_open_node) -> None:
        self.identify = identify
        self._routes: dict[AbstractRoute, Route] = {}

    def mount(self, app: web.Application, route: Route, *, head: bool) -> None:
        """Add `route` to `app`'s router (with HEAD beside a GET when `head`) and remember its scope."""
        resource = app.router.add_resource(route.path, name=route.name or None)
        self._routes[resource.add_route(route.method, route.handler)] = route
        if head and route.method == "GET":
            self._routes[resource.add_route("HEAD", route.handler)] = route

    def mounted(self) -> list[Route]:
        """Return every mounted route (once each, in mounting order)."""
        return list(dict.fromkeys(self._routes.values()))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Put the request's Caller where `caller_of` finds it; refuse it below the route's scope."""
        # The page and its assets are not Routes: they hold no data and need no scope.
        route = self._routes.get(request.match_info.route)
        caller = self.identify(request, route)
        request[CALLER] = caller
        if route is not None and not caller.allows(route.scope):
            raise Forbidden(
                f"{request.method} {route.path} needs the {route.scope.label} scope; "
                f"this caller has {caller.scope.label}",
                route.scope.label,
            )
        return await handler(request)
