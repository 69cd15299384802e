"""The aiohttp server: one port for the API, live push and the page, with hard limits."""

from __future__ import annotations

import asyncio
import gzip
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from roost.core.version import __version__
from roost.runtime.clock import SystemClock
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.web.access import Access, Identify, caller_on_open_node
from roost.web.api import CoreApi
from roost.web.apidocs import ApiDocs
from roost.web.openapi import build_openapi
from roost.web.responses import MAX_BODY_BYTES, Handler, error_reply, error_response, json_response

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
# The built page (frontend/, `make page`): index.html and content-hashed assets.
PAGE_DIR = STATIC_DIR / "dist"
# A hashed asset never changes under its name; index.html names the current ones and
# is revalidated on every visit (a 304 when nothing changed).
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_REVALIDATE = {"Cache-Control": "no-cache"}
# What every reply says in `Server:`: not the Python and aiohttp versions a scanner looks for.
SERVER_HEADER = "roost"


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
    # HTTPS with this certificate chain and key (PEM files); HSTS is sent only then.
    tls_cert: str | None = None
    tls_key: str | None = None

    @property
    def scheme(self) -> str:
        """`https` when serving TLS, else `http`."""
        return "https" if self.tls_cert else "http"


class WebServer:
    """Serves the hub over HTTP between `start()` and `stop()`."""

    def __init__(self, hub: Hub, settings: WebSettings, identify: Identify = caller_on_open_node) -> None:
        self.hub = hub
        self.settings = settings
        self.identify = identify
        self.api = CoreApi(hub, settings.read_timeout_s)
        self.docs = ApiDocs(PAGE_DIR)
        self.access = Access(identify)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def build(self) -> web.Application:
        """Return the aiohttp application with every route of the core and the components."""
        self.access = Access(self.identify)
        middlewares = [self._middleware, self.access.middleware]
        cors = _cors(tuple(self.settings.cors_origins)) if self.settings.cors_origins else None
        if cors is not None:
            middlewares.insert(0, cors[0])
        app = web.Application(client_max_size=self.settings.max_body_bytes, middlewares=middlewares)
        app.on_response_prepare.append(_name_server)
        if not isinstance(self.hub.clock, SystemClock):
            # The page takes "now" from the Date header: on a test's fake clock it must be that clock's.
            app.on_response_prepare.append(self._date_from_clock)
        if cors is not None:
            app.on_response_prepare.append(cors[1])
        if self.settings.tls_cert:
            app.on_response_prepare.append(_hsts)
        app[MAX_BODY_BYTES] = self.settings.max_body_bytes
        routes = self.routes()
        # aiohttp answers HEAD beside every GET, unless a route takes HEAD itself.
        own_head = {r.path for r in routes if r.method == "HEAD"}
        for route in routes:
            self.access.mount(app, route, head=route.path not in own_head)
        # Before aiohttp waits for handlers to finish, or live streams would hold it up.
        app.on_shutdown.append(self._close_connections)
        # The page and its assets are public (no Route, no scope): they hold no data.
        # Only a GET of its own replaces the page: raspend's compat layer takes POST /.
        if not any(r.method == "GET" and r.path == "/" for r in routes):
            app.router.add_get("/", self.index)
        # Before the /static prefix, which would otherwise take these too.
        app.router.add_get("/static/dist/{name}", self.page_asset)
        # Our own handler, not add_static: aiohttp's answers a missing file with an
        # empty octet-stream 404 that no middleware sees.
        app.router.add_get("/static/{name:.+}", self.static_file)
        return app

    def routes(self) -> list[Route]:
        """Return the typed routes to mount: the server's own, then each component's."""
        routes = [*self.api.routes(), Route("GET", "/api/openapi.json", self.openapi), *self.docs.routes()]
        for component in self.hub.components:
            routes += component.routes()
        return routes

    async def start(self) -> None:
        """Bind and serve; raise OSError if the port is taken. Loop only."""
        runner = _Runner(
            self.build(),
            handle_signals=False,
            access_log=None,
            keepalive_timeout=self.settings.idle_timeout_s,
            shutdown_timeout=2.0,
        )
        await runner.setup()
        site = web.TCPSite(
            runner,
            self.settings.host,
            self.settings.port,
            backlog=1024,
            reuse_address=True,
            ssl_context=_tls_context(self.settings),
        )
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _bound_port(runner, self.settings.port)
        log.info("serving on %s://%s:%d", self.settings.scheme, self.settings.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close connections. Loop only."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def index(self, request: web.Request) -> web.FileResponse:
        """Serve the page; a placeholder that says how to build it when it is not built."""
        built = PAGE_DIR / "index.html"
        if built.is_file():
            # FileResponse sends index.html.br or .gz instead when the client accepts them.
            return web.FileResponse(built, headers=_REVALIDATE)
        return web.FileResponse(STATIC_DIR / "index.html", headers=_REVALIDATE)

    async def page_asset(self, request: web.Request) -> web.FileResponse:
        """Serve a built asset of the page (precompressed when the client accepts it), cached for good."""
        name = request.match_info["name"]
        path = PAGE_DIR / name
        # aiohttp decodes %2F inside `{name}`: refuse any separator, so that ".." can never
        # climb out of PAGE_DIR through a folder in it. Dot-files are nobody's business.
        if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        headers = _REVALIDATE if name.startswith("index.") else _IMMUTABLE
        return web.FileResponse(path, headers=headers)

    async def static_file(self, request: web.Request) -> web.FileResponse:
        """Serve a file of static/ (roost-live.js and the placeholder page); 404 JSON for anything else."""
        name = request.match_info["name"]
        path = (STATIC_DIR / name).resolve()
        # Nothing outside STATIC_DIR (`..`, %2F), no dot-files, no folders.
        if (
            not path.is_relative_to(STATIC_DIR.resolve())
            or any(part.startswith(".") for part in Path(name).parts)
            or not path.is_file()
        ):
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers=_REVALIDATE)

    async def openapi(self, request: web.Request) -> web.Response:
        """Return the OpenAPI description of every route and command."""
        extra: dict[str, Any] = self.docs.openapi_paths()
        for component in self.hub.components:
            extra.update(component.openapi_paths())
        doc = build_openapi(
            f"roost node {self.hub.name}",
            __version__,
            self.hub.commands.specs(),
            extra,
            self.access.mounted(),
        )
        return json_response(doc)

    async def _close_connections(self, app: web.Application) -> None:
        for component in self.hub.components:
            try:
                await component.close_connections()
            except Exception:
                log.exception("component %s failed to close its connections", component.name)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # One middleware, not two: each layer costs a coroutine per request on the hot path.
        try:
            response = await handler(request)
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:
            response = error_reply(request, exc)
        resource = request.match_info.route.resource
        self.api.count(
            resource.canonical if resource is not None else "unmatched", request.method, response.status
        )
        if isinstance(response, web.Response) and _worth_compressing(request, response):
            await _gzip(response)
        return response

    async def _date_from_clock(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Date"] = formatdate(self.hub.clock.time(), usegmt=True)


async def _name_server(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_HEADER


class _JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering what its parser refuses with roost's JSON error.

    A request line over 8,190 bytes, a header over that, too many headers or a
    malformed request never reach the application or its middlewares: aiohttp's
    protocol answers them itself, in text/plain. This is where it does.
    """

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer `{"error": {...}}` and close the connection; the log gets one line (a 500 its traceback)."""
        if request.writer.output_size > 0:  # a reply was begun: nothing more can be said
            raise ConnectionError("the reply has begun; no error can be sent")
        if status >= 500:
            log.error("error handling a request from %s", request.remote, exc_info=exc)
            response = error_response(
                status, "internal", "internal server error; the server log has the details"
            )
        else:
            said = str(getattr(exc, "message", None) or message or HTTPStatus(status).phrase)
            # aiohttp quotes what it refused (b'aaaa...'); the client knows what it sent.
            said = said.split(": b'")[0].split(": bytearray(")[0].strip().rstrip(".")
            # One line, not aiohttp's traceback: scanners and broken clients send these all day.
            log.info("refused a malformed request from %s: %s", request.remote, said)
            response = error_response(status, "bad_request", f"bad request: {said}")
        response.headers["Server"] = SERVER_HEADER
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds the Server itself and offers no hook for its protocol class: take
        # the one it built, with its state, and make it create our connection handler.
        server.__class__ = _JsonErrorServer
        return server


# Below this a reply fits a few packets and compressing it costs more than it saves.
COMPRESS_MIN_BYTES = 32 * 1024


def _worth_compressing(request: web.Request, response: web.Response) -> bool:
    body = response.body
    return (
        isinstance(body, bytes)
        and len(body) >= COMPRESS_MIN_BYTES
        and response.content_type == "application/json"
        and "gzip" in request.headers.get("Accept-Encoding", "")
        and "Content-Encoding" not in response.headers
    )


async def _gzip(response: web.Response) -> None:
    # Level 1, in a thread: a year chart (1.1 MB of JSON) shrinks to 40% in about 13 ms
    # here, where aiohttp's own compression (level 6) takes 100 ms, several times that
    # on a Raspberry Pi. A phone on Wi-Fi gains far more in transfer time.
    body = response.body
    assert isinstance(body, bytes)
    response.body = await asyncio.to_thread(gzip.compress, body, 1, mtime=0)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"


def _tls_context(settings: WebSettings) -> ssl.SSLContext | None:
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key or None)
    return context


async def _hsts(request: web.Request, response: web.StreamResponse) -> None:
    # Only over HTTPS: a browser ignores it on plain HTTP, and a node that later loses
    # its certificate must not be locked out of browsers for a year by mistake.
    response.headers["Strict-Transport-Security"] = "max-age=31536000"


def _bound_port(runner: web.AppRunner, fallback: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return fallback


def _cors(origins: tuple[str, ...]) -> tuple[Any, Any]:
    """Return the preflight middleware and the response-prepare hook that adds CORS headers."""
    allow_all = "*" in origins

    def allowed_origin(request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        return origin if origin is not None and (allow_all or origin in origins) else None

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.method == "OPTIONS"
            and allowed_origin(request)
            and "Access-Control-Request-Method" in request.headers
        ):
            return web.Response(status=204)
        return await handler(request)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        # On prepare, not after the handler returns: a streamed response (SSE) has
        # sent its headers long before its handler returns.
        origin = allowed_origin(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Last-Event-ID, X-Roost-Client"

    return preflight, add_headers
