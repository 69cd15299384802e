"""JSON replies and the error middleware that makes every failure a JSON error object."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from roost.core import codec
from roost.core.errors import RoostError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The body limit, for the 413 message (an AppKey: plain string keys warn since aiohttp 3.9).
MAX_BODY_BYTES = web.AppKey("max_body_bytes", int)

_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Return `value` encoded as a JSON response."""
    return web.Response(
        body=codec.dumps(value), status=status, content_type="application/json", headers=headers
    )


def error_response(status: int, code: str, message: str, **details: Any) -> web.Response:
    """Return the JSON error object of DESIGN.md."""
    return json_response({"error": {"code": code, "message": message, **details}}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every exception a handler raises into a JSON error reply."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 413:
            message = f"request body too large; the limit is {request.app[MAX_BODY_BYTES]} bytes"
        else:
            message = _message(exc)
        response = error_response(exc.status, _CODES.get(exc.status, "http_error"), message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except RoostError as exc:
        return json_response(exc.to_json(), status=exc.status)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", "internal server error; the server log has the details")


def _message(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "no such route"
    if exc.status == 405:
        return f"method not allowed; use {exc.headers.get('Allow', 'another method')}"
    text = exc.text or ""
    default = f"{exc.status}: {HTTPStatus(exc.status).phrase}"
    return text if text and text != default else HTTPStatus(exc.status).phrase.lower()
