"""raspend's HTTP interface on roost's server: `/data`, `/cmds`, `/cmd` and `POST /`.

The JSON shapes are raspend 2.0.4's (see docs/raspend.md); its failure modes are
not. Every error is roost's JSON error object with a 4xx/5xx status, never an
HTML page or a dropped connection; `/data` serves the state tree from its cached
encoding, without a lock, so no worker can stall a reader.

Unlike raspend, no answer carries `Access-Control-Allow-Origin: *`: that let any
web page a user visited read the dict and run commands through the user's
browser. A raspend front end served from another origin is allowed by naming it
(`--allow-origin`, `App(cors_origins=[...])`); the web server then answers its
preflights and adds the CORS headers for it alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from roost.compat.raspend.commands import describe
from roost.core import codec
from roost.core.caller import Scope
from roost.core.errors import BadRequest, InvalidArguments, RoostError
from roost.runtime.hub import Hub
from roost.runtime.routes import Route, caller_of

Handler = Callable[[web.Request], Awaitable[web.Response]]
_USAGE = 'expected {"Command": {"Name": "object.method", "Args": {...}}}'


class UnsupportedMediaType(RoostError):
    """A POST whose body is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"


def json_reply(value: Any, status: int = 200) -> web.Response:
    """Return `value` as JSON with raspend's content type."""
    return web.Response(
        body=codec.dumps(value), status=status, content_type="application/json", charset="utf-8"
    )


def _with_charset(handler: Handler) -> Handler:
    # Errors in raspend's content type too (the error middleware would answer without charset).
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except RoostError as exc:
            return json_reply(exc.to_json(), exc.status)

    return wrapped


class RaspendApi:
    """The route handlers. `order` lists the program's commands in the order it added them."""

    def __init__(self, hub: Hub, order: list[str], read_timeout_s: float = 10.0) -> None:
        self.hub = hub
        self.order = order
        self.read_timeout_s = read_timeout_s

    def routes(self) -> list[Route]:
        """Return raspend's routes: reading needs `read`, calling `control`.

        Named `raspend.*`: authentication keeps them as open to the LAN as raspend
        had them (unless --raspend-auth), but never to other web sites.
        """
        return [
            Route("GET", "/data", _with_charset(self.get_data), name="raspend.data"),
            Route("GET", "/data/{path:.*}", _with_charset(self.get_data_path), name="raspend.data_path"),
            Route("GET", "/cmds", _with_charset(self.list_commands), name="raspend.cmds"),
            Route("GET", "/cmd", _with_charset(self.call_get), Scope.CONTROL, "raspend.cmd"),
            Route("POST", "/", _with_charset(self.call_post), Scope.CONTROL, "raspend.call"),
        ]

    async def get_data(self, request: web.Request) -> web.Response:
        """Return the whole shared dict (the state tree), encoded once per change."""
        _, body = self.hub.state.encoded()
        return web.Response(body=body, content_type="application/json", charset="utf-8")

    async def get_data_path(self, request: web.Request) -> web.Response:
        """Return the value at `/data/a/b`, or a 404 error where raspend answered the whole dict."""
        return json_reply(self.hub.state.node(request.match_info["path"]))

    async def list_commands(self, request: web.Request) -> web.Response:
        """Return `{"Commands": [{"Command": {"Name", "Args", "URL"}}, ...]}`, the program's first."""
        specs = {spec.name: spec for spec in self.hub.commands.specs()}
        names = [n for n in dict.fromkeys(self.order) if n in specs]
        names += [n for n in specs if n not in set(names)]
        return json_reply({"Commands": [describe(specs[n]) for n in names]})

    async def call_get(self, request: web.Request) -> web.Response:
        """Call `/cmd?name=x&arg=value` and return the result as JSON."""
        query = request.query
        name = query.get("name")
        if name is None:
            raise BadRequest("missing query parameter 'name': use /cmd?name=COMMAND&ARG=VALUE")
        args: dict[str, Any] = {}
        for key, value in query.items():
            # As raspend's parse_qs: blank values are left out (so the parameter's
            # default applies), and the first of repeated parameters counts.
            if key != "name" and value != "":
                args.setdefault(key, value)
        return json_reply(await self.hub.commands.acall(name, args, caller_of(request)))

    async def call_post(self, request: web.Request) -> web.Response:
        """Call the command in `{"Command": {"Name", "Args"}}`; answer the same JSON plus `Result`."""
        if request.content_type != "application/json":
            raise UnsupportedMediaType("invalid media type; expecting 'application/json'")
        try:
            async with asyncio.timeout(self.read_timeout_s):
                body = await request.read()
        except TimeoutError:
            raise BadRequest(f"request body not received within {self.read_timeout_s:g} s") from None
        payload = codec.loads(body)
        command = payload.get("Command") if isinstance(payload, dict) else None
        if not isinstance(command, dict) or "Name" not in command:
            raise BadRequest(_USAGE)
        name = command["Name"]
        if not isinstance(name, str):
            raise BadRequest(f'"Name" must be a string; {_USAGE}')
        args = command.get("Args")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise InvalidArguments('"Args" must be a JSON object of arguments')
        command["Result"] = await self.hub.commands.acall(name, args, caller_of(request))
        return json_reply(payload)

    def openapi_paths(self) -> dict[str, Any]:
        """Describe the raspend routes for /api/openapi.json."""
        json_ok = {"description": "JSON", "content": {"application/json": {"schema": {}}}}
        error = {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        return {
            "/data": {"get": {"summary": "raspend: the whole shared dict", "responses": {"200": json_ok}}},
            "/data/{path}": {
                "get": {
                    "summary": "raspend: the value at a path of the shared dict",
                    "parameters": [
                        {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": json_ok, "400": error, "404": error},
                }
            },
            "/cmds": {"get": {"summary": "raspend: every command", "responses": {"200": json_ok}}},
            "/cmd": {
                "get": {
                    "summary": "raspend: call a command with query parameters",
                    "parameters": [
                        {"name": "name", "in": "query", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": json_ok,
                        **{str(s): error for s in (400, 404, 422, 500, 504)},
                    },
                }
            },
            "/": {
                "post": {
                    "summary": 'raspend: call {"Command": {"Name", "Args"}}; answered with "Result" added',
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": json_ok,
                        **{str(s): error for s in (400, 404, 413, 415, 422, 500, 504)},
                    },
                }
            },
        }
