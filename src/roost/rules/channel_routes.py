"""HTTP routes of the notification channels: list, read, create or replace, delete, send a test.

All need the admin scope, GET too: a channel URL holds a password or a token,
and even masked it says where a person is reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from roost.core import codec
from roost.core.caller import Scope
from roost.core.errors import BadRequest, InvalidArguments, PayloadTooLarge
from roost.runtime.routes import Route

READ_TIMEOUT_S = 10.0
# A channel's settings are a URL of at most 2 KiB and two small fields.
MAX_BODY_BYTES = 16 * 1024


class ChannelApi(Protocol):
    """What the routes need of the notifications component."""

    def describe(self, name: str) -> dict[str, Any]: ...
    def describe_all(self) -> list[dict[str, Any]]: ...
    async def put(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]: ...
    async def delete(self, name: str) -> None: ...
    async def test(self, name: str) -> None: ...


def reply(value: Any, status: int = 200) -> web.Response:
    """Return `value` as a JSON response."""
    return web.Response(body=codec.dumps(value), status=status, content_type="application/json")


async def read_body(
    request: web.Request, *, empty_ok: bool = False, what: str = "a channel's settings"
) -> dict[str, Any]:
    """Return the JSON object in `request`'s body, at most MAX_BODY_BYTES; raise a clear error."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"{what} are at most {MAX_BODY_BYTES} bytes")
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            raw = await request.content.read(MAX_BODY_BYTES + 1)
    except TimeoutError:
        raise BadRequest(f"request body not received within {READ_TIMEOUT_S:g} s") from None
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"{what} are at most {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        if empty_ok:
            return {}
        raise BadRequest("the body must be a JSON object")
    parsed = codec.loads(raw)
    if not isinstance(parsed, dict):
        raise InvalidArguments("the body must be a JSON object")
    return parsed


def routes(channels: ChannelApi) -> list[Route]:
    """Return the routes that serve `channels`."""

    async def list_channels(request: web.Request) -> web.Response:
        return reply({"channels": channels.describe_all()})

    async def get_channel(request: web.Request) -> web.Response:
        return reply(channels.describe(request.match_info["name"]))

    async def put_channel(request: web.Request) -> web.Response:
        return reply(await channels.put(request.match_info["name"], await read_body(request)))

    async def delete_channel(request: web.Request) -> web.Response:
        await channels.delete(request.match_info["name"])
        return web.Response(status=204)

    async def test_channel(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        channels.describe(name)  # 404 before reading a body meant for nothing
        body = await read_body(request, empty_ok=True)
        if body:
            raise InvalidArguments(f"a test takes no fields, not {sorted(body)[0]!r}", sorted(body)[0])
        await channels.test(name)
        return reply({"ok": True})

    return [
        Route("GET", "/api/channels", list_channels, Scope.ADMIN, "channels.list"),
        Route("GET", "/api/channels/{name}", get_channel, Scope.ADMIN, "channels.get"),
        Route("PUT", "/api/channels/{name}", put_channel, Scope.ADMIN, "channels.put"),
        Route("DELETE", "/api/channels/{name}", delete_channel, Scope.ADMIN, "channels.delete"),
        Route("POST", "/api/channels/{name}/test", test_channel, Scope.ADMIN, "channels.test"),
    ]


def json_doc(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI response of JSON (an object unless `schema` says otherwise)."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def error_docs(*statuses: int) -> dict[str, Any]:
    """OpenAPI responses of the error object, one per status."""
    return {str(s): json_doc("error", {"$ref": "#/components/schemas/Error"}) for s in statuses}


_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
}
_QUIET = {
    "type": ["object", "null"],
    "description": "local wall time; may span midnight; notices are held and sent as one digest after",
    "properties": {
        "from": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "to": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
    },
}
_CHANNEL = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "url": {
            "type": "string",
            "description": "an apprise URL (mailto://, ntfy://, tgram://, json://...), secrets as ****",
        },
        "quiet_hours": _QUIET,
        "enabled": {"type": "boolean"},
        "builtin": {"type": "boolean", "description": '"page" and "log": no URL, never deleted'},
        "failures": {"type": "integer"},
        "last_error": {"type": ["string", "null"]},
        "last_sent": {"type": ["number", "null"]},
    },
}
_PUT = {
    "type": "object",
    "properties": {
        "url": {
            "type": "string",
            "description": "**** where GET showed it keeps the stored secret",
        },
        "quiet_hours": _QUIET,
        "enabled": {"type": "boolean"},
    },
}


def openapi_paths() -> dict[str, Any]:
    """Return the OpenAPI path items of the channel routes."""
    return {
        "/api/channels": {
            "get": {
                "summary": "Every notification channel, URLs masked (admin)",
                "responses": {
                    "200": json_doc(
                        "the channels",
                        {"type": "object", "properties": {"channels": {"type": "array", "items": _CHANNEL}}},
                    ),
                    **error_docs(403),
                },
            }
        },
        "/api/channels/{name}": {
            "get": {
                "summary": "One channel, its URL masked (admin)",
                "parameters": [_NAME],
                "responses": {"200": json_doc("the channel", _CHANNEL), **error_docs(403, 404)},
            },
            "put": {
                "summary": "Create or replace a channel (admin)",
                "parameters": [_NAME],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _PUT}}},
                "responses": {
                    "200": json_doc("the channel", _CHANNEL),
                    **error_docs(400, 403, 413, 422, 503),
                },
            },
            "delete": {
                "summary": "Delete a channel; the built-in page and log cannot be (admin)",
                "parameters": [_NAME],
                "responses": {"204": {"description": "deleted"}, **error_docs(403, 404, 409, 503)},
            },
        },
        "/api/channels/{name}/test": {
            "post": {
                "summary": "Send a test message on the channel now (admin)",
                "parameters": [_NAME],
                "responses": {
                    "200": json_doc(
                        "the channel took it", {"type": "object", "properties": {"ok": {"const": True}}}
                    ),
                    **error_docs(403, 404, 422, 502),
                },
            }
        },
    }
