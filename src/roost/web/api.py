"""The core JSON API: state, metadata, commands, health, metrics."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from aiohttp import web

from roost.core import codec
from roost.core.caller import Scope
from roost.core.errors import BadRequest, InvalidArguments
from roost.core.metrics import Metric, render
from roost.runtime.hub import Hub
from roost.runtime.routes import Route, caller_of
from roost.web.responses import json_response

# Distinguishes this process's ETags from an earlier run's, whose seqs start over.
_BOOT = os.urandom(4).hex()
# Methods counted by name; aiohttp's pure-Python parser takes any token as a method,
# and each made-up one would otherwise be a counter (and a metrics label) for good.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})


class CoreApi:
    """Handlers for the routes of issue 2; the HTTP request counters live here too."""

    def __init__(self, hub: Hub, read_timeout_s: float) -> None:
        self.hub = hub
        self.read_timeout_s = read_timeout_s
        self.requests: dict[tuple[str, str, int], int] = {}

    def routes(self) -> list[Route]:
        """Return the core routes: reading needs `read`, calling a command `control`."""
        return [
            Route("GET", "/api/state", self.get_state),
            Route("GET", "/api/state/{path:.+}", self.get_state_path),
            Route("GET", "/api/meta", self.get_meta),
            Route("GET", "/api/commands", self.list_commands),
            # The command's own scope is checked again by the registry (admin commands).
            Route("POST", "/api/commands/{name}", self.call_command, Scope.CONTROL),
            Route("GET", "/healthz", self.healthz),
            Route("GET", "/metrics", self.metrics),
        ]

    async def get_state(self, request: web.Request) -> web.Response:
        """Return the whole tree, encoded once per change, with an ETag for cheap polling."""
        seq, body = self.hub.state.encoded()
        etag = f'"{_BOOT}-{seq}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/json", headers={"ETag": etag})

    async def get_state_path(self, request: web.Request) -> web.Response:
        """Return the value or subtree at a path, or a 404 error."""
        node = self.hub.state.node(request.match_info["path"])
        return web.Response(body=codec.dumps(node), content_type="application/json")

    async def get_meta(self, request: web.Request) -> web.Response:
        """Return every leaf's metadata and when it was last written."""
        state = self.hub.state
        paths: dict[str, Any] = {}
        for path, _ in state.leaves():
            entry = self.hub.meta(path).to_json()
            entry["last_seen"] = state.last_seen(path)
            paths[path] = entry
        return json_response({"seq": state.seq, "paths": paths})

    async def list_commands(self, request: web.Request) -> web.Response:
        """List every command with its arguments' names, types and defaults."""
        return json_response({"commands": [s.describe() for s in self.hub.commands.specs()]})

    async def call_command(self, request: web.Request) -> web.Response:
        """Call a command with the JSON object in the body (and/or the query string)."""
        name = request.match_info["name"]
        self.hub.commands.get(name)  # 404 before reading a body meant for nothing
        args: dict[str, Any] = dict(request.query)
        try:
            async with asyncio.timeout(self.read_timeout_s):
                body = await request.read()
        except TimeoutError:
            raise BadRequest(f"request body not received within {self.read_timeout_s:g} s") from None
        if body.strip():
            parsed = codec.loads(body)
            if not isinstance(parsed, dict):
                raise InvalidArguments("the body must be a JSON object of arguments")
            args.update(parsed)
        result = await self.hub.commands.acall(name, args, caller_of(request))
        return json_response({"result": result})

    async def healthz(self, request: web.Request) -> web.Response:
        """Return liveness and the state of every worker and component."""
        return json_response(self.hub.health(detail=shows_details(request)))

    async def metrics(self, request: web.Request) -> web.Response:
        """Return Prometheus text."""
        families = [*self.hub.metrics(), self._request_metric()]
        return web.Response(
            text=render(families),
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    def count(self, route: str, method: str, status: int) -> None:
        """Count one finished request."""
        key = (route, method if method in _METHODS else "other", status)
        self.requests[key] = self.requests.get(key, 0) + 1

    def _request_metric(self) -> Metric:
        return Metric(
            "roost_http_requests_total",
            "counter",
            "HTTP requests by route, method and status.",
            [
                ({"route": r, "method": m, "status": str(s)}, float(n))
                for (r, m, s), n in sorted(self.requests.items())
            ],
        )


def shows_details(request: web.Request) -> bool:
    """Return True when the caller may see full error texts (paths and all): a signed-in admin.

    An open node's local callers have the admin scope too, but nobody signed in:
    they get what everyone gets, the exception's type and message without paths.
    """
    caller = caller_of(request)
    return caller.scope >= Scope.ADMIN and bool(caller.principal)
