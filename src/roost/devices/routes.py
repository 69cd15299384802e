"""HTTP routes of the devices component: devices, switching, events, preview, schedules."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from roost.core import codec
from roost.core.caller import Caller, Scope
from roost.core.errors import BadRequest, InvalidArguments, InvalidValue
from roost.runtime.routes import Route, caller_of

READ_TIMEOUT_S = 10.0
MAX_PREVIEW_HOURS = 168


class DeviceApi(Protocol):
    """What the routes need of the devices component (`Devices` is one)."""

    events_per_device: int

    def describe(self, device_id: str) -> dict[str, Any]: ...
    def describe_all(self) -> list[dict[str, Any]]: ...
    def events(self, device_id: str, limit: int = 100) -> list[dict[str, Any]]: ...
    def preview(self, device_id: str, hours: float = 24.0) -> dict[str, Any]: ...
    def schedules(self) -> list[dict[str, Any]]: ...
    def schedule_json(self, name: str) -> dict[str, Any]: ...
    async def update(self, device_id: str, patch: Mapping[str, Any], caller: Caller) -> dict[str, Any]: ...
    async def switch(self, device_id: str, on: bool, hold: Any, caller: Caller) -> dict[str, Any]: ...
    async def put_schedule(self, name: str, body: Any) -> dict[str, Any]: ...
    async def delete_schedule(self, name: str) -> None: ...


def _reply(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=codec.dumps(value), status=status, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            raw = await request.read()
    except TimeoutError:
        raise BadRequest(f"request body not received within {READ_TIMEOUT_S:g} s") from None
    if not raw.strip():
        raise BadRequest("the body must be a JSON object")
    parsed = codec.loads(raw)
    if not isinstance(parsed, dict):
        raise InvalidArguments("the body must be a JSON object")
    return parsed


def _number(request: web.Request, name: str, default: float, low: float, high: float) -> float:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidValue(f"{name} must be a number, not {text!r}", parameter=name) from None
    if not low <= value <= high:
        raise InvalidValue(f"{name} must be from {low:g} to {high:g}", parameter=name)
    return value


def device_routes(devices: DeviceApi) -> list[Route]:
    """Return the routes that serve `devices`."""

    async def list_devices(request: web.Request) -> web.Response:
        return _reply({"devices": devices.describe_all()})

    async def get_device(request: web.Request) -> web.Response:
        return _reply(devices.describe(request.match_info["id"]))

    async def patch_device(request: web.Request) -> web.Response:
        device_id = request.match_info["id"]
        devices.describe(device_id)  # 404 before reading a body meant for nothing
        return _reply(await devices.update(device_id, await _body(request), caller_of(request)))

    async def switch(request: web.Request) -> web.Response:
        device_id = request.match_info["id"]
        devices.describe(device_id)
        body = await _body(request)
        unknown = set(body) - {"on", "hold"}
        if unknown:
            raise InvalidArguments(
                f"unknown field {sorted(unknown)[0]!r}; send on and hold", sorted(unknown)[0]
            )
        if "on" not in body:
            raise InvalidArguments('say "on": true or false', "on")
        return _reply(await devices.switch(device_id, body["on"], body.get("hold"), caller_of(request)))

    async def events(request: web.Request) -> web.Response:
        device_id = request.match_info["id"]
        limit = int(_number(request, "limit", 100, 1, devices.events_per_device))
        return _reply({"id": device_id, "events": devices.events(device_id, limit)})

    async def device_preview(request: web.Request) -> web.Response:
        hours = _number(request, "hours", 24, 1, MAX_PREVIEW_HOURS)
        return _reply(devices.preview(request.match_info["id"], hours))

    async def list_schedules(request: web.Request) -> web.Response:
        return _reply({"schedules": devices.schedules()})

    async def get_schedule(request: web.Request) -> web.Response:
        return _reply(devices.schedule_json(request.match_info["name"]))

    async def put_schedule(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return _reply(await devices.put_schedule(name, await _body(request)))

    async def delete_schedule(request: web.Request) -> web.Response:
        await devices.delete_schedule(request.match_info["name"])
        return web.Response(status=204)

    return [
        Route("GET", "/api/devices", list_devices, Scope.READ, "devices.list"),
        Route("GET", "/api/devices/{id}", get_device, Scope.READ, "devices.get"),
        Route("PATCH", "/api/devices/{id}", patch_device, Scope.ADMIN, "devices.patch"),
        Route("POST", "/api/devices/{id}/switch", switch, Scope.CONTROL, "devices.switch"),
        Route("GET", "/api/devices/{id}/events", events, Scope.READ, "devices.events"),
        Route("GET", "/api/devices/{id}/preview", device_preview, Scope.READ, "devices.preview"),
        Route("GET", "/api/schedules", list_schedules, Scope.READ, "schedules.list"),
        Route("GET", "/api/schedules/{name}", get_schedule, Scope.READ, "schedules.get"),
        Route("PUT", "/api/schedules/{name}", put_schedule, Scope.ADMIN, "schedules.put"),
        Route("DELETE", "/api/schedules/{name}", delete_schedule, Scope.ADMIN, "schedules.delete"),
    ]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json("error", _ref("Error")) for s in statuses}


_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
}
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
}
_WEEK = {
    "type": "array",
    "minItems": 7,
    "maxItems": 7,
    "description": "7 days, Monday first, of 96 quarter-hours of local time: -1 on, 0 off, W > 0 on with "
    "the standby killer at W watts",
    "items": {"type": "array", "minItems": 96, "maxItems": 96, "items": {"type": "number"}},
}
_SCHEDULE = {
    "type": "object",
    "required": ["week"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "week": _WEEK,
        "rules": {
            "type": "array",
            "description": 'sun rules {"type": "sun", "from": "sunset-30m", "to": "23:00", "value": -1, '
            '"days": "daily"}, {"type": "holidays", "dates": [...], "as": "sun"}, '
            '{"type": "vacation", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "schedule": NAME}',
            "items": {"type": "object"},
        },
    },
}


def openapi_paths() -> dict[str, Any]:
    """Return the OpenAPI path items of the device routes."""
    return {
        "/api/devices": {
            "get": {
                "summary": "Every device with settings, live state and chips",
                "responses": {"200": _json("the devices")},
            }
        },
        "/api/devices/{id}": {
            "get": {
                "summary": "One device",
                "parameters": [_ID],
                "responses": {"200": _json("the device"), **_errors(404)},
            },
            "patch": {
                "summary": "Change a device's settings (admin); skip_next: true skips the next switch",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": _json("the device"), **_errors(400, 404, 409, 422)},
            },
        },
        "/api/devices/{id}/switch": {
            "post": {
                "summary": "Switch by hand (control): holds until the next change or for hold seconds",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["on"],
                                "properties": {
                                    "on": {"type": "boolean"},
                                    "hold": {"oneOf": [{"const": "next"}, {"type": "number", "minimum": 1}]},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json("the device, confirmed"), **_errors(400, 404, 409, 422, 503, 504)},
            }
        },
        "/api/devices/{id}/events": {
            "get": {
                "summary": "Why the device switched: its newest switch events",
                "parameters": [
                    _ID,
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {"200": _json("the events, newest first"), **_errors(400, 404)},
            }
        },
        "/api/devices/{id}/preview": {
            "get": {
                "summary": "What the device will do over the next hours",
                "parameters": [
                    _ID,
                    {
                        "name": "hours",
                        "in": "query",
                        "schema": {"type": "number", "minimum": 1, "maximum": MAX_PREVIEW_HOURS},
                    },
                ],
                "responses": {"200": _json("segments with their reason"), **_errors(400, 404)},
            }
        },
        "/api/schedules": {
            "get": {"summary": "Every schedule", "responses": {"200": _json("the schedules")}}
        },
        "/api/schedules/{name}": {
            "get": {
                "summary": "One schedule",
                "parameters": [_NAME],
                "responses": {"200": _json("the schedule", _SCHEDULE), **_errors(404)},
            },
            "put": {
                "summary": "Create or replace a schedule (admin); a bad cell: 422 naming day and slot",
                "parameters": [_NAME],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _SCHEDULE}}},
                "responses": {"200": _json("the schedule", _SCHEDULE), **_errors(400, 422)},
            },
            "delete": {
                "summary": "Delete a schedule (admin); 409 naming the devices that use it",
                "parameters": [_NAME],
                "responses": {"204": {"description": "deleted"}, **_errors(404, 409)},
            },
        },
    }
