"""The aiohttp server: one port for the API, live push and the page, with hard limits."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from roost import __version__
from roost.runtime.hub import Hub
from roost.web.api import CoreApi
from roost.web.openapi import build_openapi
from roost.web.responses import MAX_BODY_BYTES, Handler, error_middleware, json_response

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How the server listens and what it tolerates."""

    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1 << 20
    # Also the limit for a connection that never finishes its request headers:
    # aiohttp arms the keep-alive timer when the connection opens.
    idle_timeout_s: float = 15.0
    read_timeout_s: float = 10.0
    cors_origins: Sequence[str] = field(default_factory=tuple)


class WebServer:
    """Serves the hub over HTTP between `start()` and `stop()`."""

    def __init__(self, hub: Hub, settings: WebSettings) -> None:
        self.hub = hub
        self.settings = settings
        self.api = CoreApi(hub, settings.read_timeout_s)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def build(self) -> web.Application:
        """Return the aiohttp application with every route of the core and the components."""
        middlewares = [self._count_middleware, error_middleware]
        if self.settings.cors_origins:
            middlewares.insert(0, _cors_middleware(tuple(self.settings.cors_origins)))
        app = web.Application(client_max_size=self.settings.max_body_bytes, middlewares=middlewares)
        app[MAX_BODY_BYTES] = self.settings.max_body_bytes
        self.api.add_routes(app)
        app.router.add_get("/api/openapi.json", self.openapi)
        for component in self.hub.components:
            add_routes = getattr(component, "add_routes", None)
            if add_routes is not None:
                add_routes(app)
        if not any(r.resource and r.resource.canonical == "/" for r in app.router.routes()):
            app.router.add_get("/", self.index)
        app.router.add_static("/static", STATIC_DIR, append_version=False)
        return app

    async def start(self) -> None:
        """Bind and serve; raise OSError if the port is taken. Loop only."""
        runner = web.AppRunner(
            self.build(),
            handle_signals=False,
            access_log=None,
            keepalive_timeout=self.settings.idle_timeout_s,
            shutdown_timeout=2.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port, backlog=1024, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _bound_port(runner, self.settings.port)
        log.info("serving on http://%s:%d", self.settings.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close connections. Loop only."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def index(self, request: web.Request) -> web.FileResponse:
        """Serve the page."""
        return web.FileResponse(STATIC_DIR / "index.html")

    async def openapi(self, request: web.Request) -> web.Response:
        """Return the OpenAPI description of every route and command."""
        extra: dict[str, Any] = {}
        for component in self.hub.components:
            describe = getattr(component, "openapi_paths", None)
            if describe is not None:
                extra.update(describe())
        doc = build_openapi(f"roost node {self.hub.name}", __version__, self.hub.commands.specs(), extra)
        return json_response(doc)

    @web.middleware
    async def _count_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        self.api.count(route, request.method, response.status)
        log.debug(
            "%s %s %d %.1f ms",
            request.method,
            request.path,
            response.status,
            (time.perf_counter() - started) * 1e3,
        )
        return response


def _bound_port(runner: web.AppRunner, fallback: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return fallback


def _cors_middleware(origins: tuple[str, ...]) -> Any:
    allow_all = "*" in origins

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and (allow_all or origin in origins)
        if request.method == "OPTIONS" and allowed and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
        if allowed and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Last-Event-ID"
        return response

    return cors
