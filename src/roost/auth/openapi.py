"""OpenAPI path items of the authentication routes."""

from __future__ import annotations

from typing import Any

_JSON = {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}
_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _op(summary: str, *errors: int, body: bool = False, ok: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: _JSON, **{str(e): _ERROR for e in errors}}}
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return op


def auth_paths() -> dict[str, Any]:
    """Return the path items of the sign-in, set-up, ticket, token and audit routes."""
    return {
        "/api/login": {
            "post": _op(
                "sign in with {name, password}; sets the session cookie", 400, 401, 403, 429, body=True
            )
        },
        "/api/logout": {"post": _op("end the session", 403)},
        "/api/me": {"get": _op("who the caller is, whether sign-in is required, the session's CSRF token")},
        "/api/setup": {
            "post": _op("create the first admin with {code, name, password}", 400, 403, 422, 429, body=True)
        },
        "/api/tickets": {"post": _op("a single-use ticket for a stream URL (?ticket=)", 401, 403)},
        "/api/tokens": {
            "get": _op("list API tokens (admin)", 401, 403),
            "post": _op(
                "create an API token {name, scope, expires?}; the secret is shown once",
                401,
                403,
                422,
                body=True,
                ok="201",
            ),
        },
        "/api/tokens/{id}": {
            "delete": {
                **_op("revoke an API token (admin)", 401, 403, 404),
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            }
        },
        "/api/audit": {
            "get": _op("the audit log, newest first (admin): ?limit&before&kind&since", 400, 401, 403)
        },
    }
