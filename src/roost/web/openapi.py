"""The OpenAPI 3.1 description of the HTTP API, commands included."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from roost.core.commands import CommandSpec
from roost.runtime.routes import Route

_ERROR = {"$ref": "#/components/schemas/Error"}


def _reply(
    description: str, schema: dict[str, Any] | None = None, media: str = "application/json"
) -> dict[str, Any]:
    content = {media: {"schema": schema or {}}}
    return {"description": description, "content": content}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _reply("error", _ERROR) for s in statuses}


def build_openapi(
    title: str,
    version: str,
    commands: Iterable[CommandSpec],
    extra_paths: dict[str, Any],
    routes: Sequence[Route] = (),
) -> dict[str, Any]:
    """Return the OpenAPI document for this node's routes and commands.

    Each operation of a mounted `Route` says the scope it needs in `x-roost-scope`;
    each command's, the command's own scope.
    """
    paths: dict[str, Any] = {
        "/api/state": {
            "get": {
                "summary": "The whole state tree",
                "responses": {"200": _reply("the tree", {"type": "object"})},
            }
        },
        "/api/state/{path}": {
            "get": {
                "summary": "The value or subtree at a path",
                "parameters": [
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _reply("the value"), **_errors(400, 404)},
            }
        },
        "/api/meta": {
            "get": {
                "summary": "Metadata and last write time of every leaf",
                "responses": {"200": _reply("metadata", {"type": "object"})},
            }
        },
        "/api/commands": {
            "get": {
                "summary": "Every command with its arguments",
                "responses": {"200": _reply("the commands", {"type": "object"})},
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness, workers, components and change-stream consumers",
                "responses": {"200": _reply("health", {"type": "object"})},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": _reply("metrics", {"type": "string"}, "text/plain")},
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _reply("OpenAPI 3.1", {"type": "object"})},
            }
        },
    }
    for spec in commands:
        paths[f"/api/commands/{spec.name}"] = {
            "post": {
                "summary": spec.doc.splitlines()[0] if spec.doc else f"Call {spec.name}",
                "description": spec.doc,
                "operationId": f"command_{spec.name}",
                "x-roost-scope": spec.scope.label,
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": spec.args_schema()}},
                },
                "responses": {
                    "200": _reply("the command's result", {"type": "object", "properties": {"result": {}}}),
                    **_errors(400, 403, 404, 413, 422, 500, 504),
                },
            }
        }
    paths.update(extra_paths)
    for route in routes:
        operation = paths.get(_openapi_path(route.path), {}).get(route.method.lower())
        if isinstance(operation, dict):
            operation.setdefault("x-roost-scope", route.scope.label)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                        }
                    },
                }
            }
        },
    }


def _openapi_path(path: str) -> str:
    # aiohttp's `{path:.+}` is OpenAPI's `{path}`.
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)
