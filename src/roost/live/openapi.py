"""OpenAPI path items of the live routes, merged into /api/openapi.json."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}

_COMMON_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "Resume: send only the changes after this seq (a snapshot if they are gone).",
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "boot",
        "in": "query",
        "required": False,
        "description": "The boot id of the snapshot `since` came from; a different one means a snapshot.",
        "schema": {"type": "string"},
    },
    {
        "name": "paths",
        "in": "query",
        "required": False,
        "description": "A path pattern to subscribe to (`basement/*`, `plugs/**`); repeat for more.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
]


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for s in statuses
    }


def live_paths() -> dict[str, Any]:
    """Return the path items of `/api/live` and `/api/events`."""
    return {
        "/api/live": {
            "get": {
                "summary": "Live state over WebSocket: a snapshot, then change batches; calls commands",
                "description": "Messages are described in docs/live.md.",
                "parameters": _COMMON_PARAMETERS,
                "responses": {
                    "101": {"description": "switching to the WebSocket protocol"},
                    **_errors(400, 429, 503),
                },
            }
        },
        "/api/events": {
            "get": {
                "summary": "Live state as Server-Sent Events: the same messages, resumable",
                "description": "Resume with the Last-Event-ID header (an event id is `boot:seq`).",
                "parameters": [
                    *_COMMON_PARAMETERS,
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "an endless event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **_errors(400, 429, 503),
                },
            }
        },
    }
