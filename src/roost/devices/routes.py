"""HTTP routes of the devices component: devices (add, edit, remove), switching, events, energy, schedules."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from aiohttp import web

from roost.core import codec
from roost.core.caller import Caller, Scope
from roost.core.errors import BadRequest, InvalidArguments, InvalidValue, PayloadTooLarge
from roost.runtime.routes import Route, caller_of

READ_TIMEOUT_S = 10.0
MAX_PREVIEW_HOURS = 168
MAX_DEVICE_BODY_BYTES = 16 * 1024  # a device's settings and driver spec fit many times over
MAX_ENERGY_BUCKETS = {"day": 366, "month": 120}


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
    async def create(self, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]: ...
    async def remove(self, device_id: str, caller: Caller) -> None: ...
    def drivers(self) -> list[dict[str, Any]]: ...
    async def energy(self, device_id: str, by: Literal["day", "month"], count: int) -> dict[str, Any]: ...


def _reply(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=codec.dumps(value), status=status, content_type="application/json")


async def _body(request: web.Request, max_bytes: int | None = None) -> dict[str, Any]:
    if max_bytes is not None and (request.content_length or 0) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            raw = await request.read()
    except TimeoutError:
        raise BadRequest(f"request body not received within {READ_TIMEOUT_S:g} s") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
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

    async def create_device(request: web.Request) -> web.Response:
        body = await _body(request, MAX_DEVICE_BODY_BYTES)
        return _reply(await devices.create(body, caller_of(request)), 201)

    async def delete_device(request: web.Request) -> web.Response:
        await devices.remove(request.match_info["id"], caller_of(request))
        return web.Response(status=204)

    async def list_drivers(request: web.Request) -> web.Response:
        return _reply({"drivers": devices.drivers()})

    async def device_energy(request: web.Request) -> web.Response:
        by = request.query.get("by", "day")
        if by not in ("day", "month"):
            raise InvalidValue(f"by must be day or month, not {by!r}", parameter="by")
        count = int(_number(request, "count", 0, 0, MAX_ENERGY_BUCKETS[by]))
        unit: Literal["day", "month"] = "day" if by == "day" else "month"
        return _reply(await devices.energy(request.match_info["id"], unit, count))

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
        Route("POST", "/api/devices", create_device, Scope.ADMIN, "devices.create"),
        # Before /api/devices/{id}, which would take it ("drivers" is a reserved id).
        Route("GET", "/api/devices/drivers", list_drivers, Scope.READ, "devices.drivers"),
        Route("GET", "/api/devices/{id}", get_device, Scope.READ, "devices.get"),
        Route("DELETE", "/api/devices/{id}", delete_device, Scope.ADMIN, "devices.delete"),
        Route("GET", "/api/devices/{id}/energy", device_energy, Scope.READ, "devices.energy"),
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


_SETTINGS = {
    "name": {"type": "string", "maxLength": 80},
    "location": {"type": "string", "maxLength": 80},
    "category": {"enum": ["light", "media", "kitchen", "heating", "solar", "other"]},
    "always_on": {"type": "boolean"},
    "production": {"type": "boolean"},
    "record": {"type": "boolean"},
    "schedule": {"type": "string"},
    "schedule_enabled": {"type": "boolean"},
    "standby_hold_s": {"type": "number", "minimum": 0, "maximum": 86400},
    "start_grace_s": {"type": "number", "minimum": 0, "maximum": 86400},
    "confirm_timeout_s": {"type": "number", "minimum": 0.1, "maximum": 120},
}
_NEW_DEVICE = {
    "type": "object",
    "required": ["driver"],
    "additionalProperties": False,
    "description": 'e.g. {"name": "Desk lamp", "category": "light", '
    '"driver": {"type": "simulated", "on_w": 9}}; a name or an id is needed; '
    "a bad field answers 422 naming it (driver.FIELD for a field of the spec)",
    "properties": {
        "id": {
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$",
            "description": "default: made from the name",
        },
        "driver": {
            "type": "object",
            "required": ["type"],
            "description": "a driver spec: its type and the fields GET /api/devices/drivers lists for it",
            "properties": {"type": {"type": "string"}},
        },
        **_SETTINGS,
    },
}
_DRIVERS = {
    "type": "object",
    "properties": {
        "drivers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "doc": {"type": "string"},
                    "fields": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "type": {"enum": ["number", "string", "boolean"]},
                                "doc": {"type": "string"},
                                "required": {"type": "boolean"},
                                "default": {},
                            },
                        },
                    },
                },
            },
        }
    },
}


def openapi_paths() -> dict[str, Any]:
    """Return the OpenAPI path items of the device routes."""
    return {
        "/api/devices": {
            "get": {
                "summary": "Every device with settings, live state and chips",
                "responses": {"200": _json("the devices")},
            },
            "post": {
                "summary": "Add a device (admin): a driver spec, a name and settings; the id is made "
                "from the name unless given",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _NEW_DEVICE}}},
                "responses": {
                    "201": _json("the device, added and running"),
                    **_errors(400, 403, 409, 413, 422),
                },
            },
        },
        "/api/devices/drivers": {
            "get": {
                "summary": "The driver types this node can build, with the fields their spec takes",
                "responses": {"200": _json("the driver types", _DRIVERS)},
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
            "delete": {
                "summary": "Remove a device added in the page or imported (admin), with its settings, events "
                "and state; a device the program declares: 409",
                "parameters": [_ID],
                "responses": {"204": {"description": "removed"}, **_errors(403, 404, 409)},
            },
        },
        "/api/devices/{id}/energy": {
            "get": {
                "summary": "Energy per local day or month: the recorded counter's rise per bucket, "
                "a counter reset counted as a rise from 0",
                "parameters": [
                    _ID,
                    {"name": "by", "in": "query", "schema": {"enum": ["day", "month"], "default": "day"}},
                    {
                        "name": "count",
                        "in": "query",
                        "description": "days (default 30) or months (default 12), up to the current one",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
                "responses": {
                    "200": _json("buckets [{start: YYYY-MM-DD or YYYY-MM, kwh: number or null}]"),
                    **_errors(400, 404, 503),
                },
            }
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
