"""HTTP routes of alerts and rules.

Reading alerts and rules needs `read`; acknowledging and snoozing `control`;
creating, changing and deleting rules `admin`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from roost.core.caller import Caller, Scope
from roost.rules.channel_routes import error_docs, json_doc, read_body, reply
from roost.runtime.routes import Route, caller_of


class AlertApi(Protocol):
    """What the routes need of the alert engine."""

    def describe(self) -> dict[str, Any]: ...
    def find(self, alert_id: str) -> Any: ...
    def describe_alert(self, alert_id: str) -> dict[str, Any]: ...
    def acknowledge(self, alert_id: str, caller: Caller) -> dict[str, Any]: ...
    def snooze(self, alert_id: str, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]: ...
    def describe_rules(self) -> list[dict[str, Any]]: ...
    def describe_rule(self, name: str) -> dict[str, Any]: ...
    async def put_rule(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]: ...
    async def delete_rule(self, name: str) -> None: ...


def routes(alerts: AlertApi) -> list[Route]:
    """Return the routes that serve `alerts`."""

    async def list_alerts(request: web.Request) -> web.Response:
        return reply(alerts.describe())

    async def get_alert(request: web.Request) -> web.Response:
        return reply(alerts.describe_alert(request.match_info["id"]))

    async def ack(request: web.Request) -> web.Response:
        alert_id = request.match_info["id"]
        alerts.find(alert_id)  # 404 before reading a body meant for nothing
        await read_body(request, empty_ok=True, what="an acknowledgement's fields")
        return reply(alerts.acknowledge(alert_id, caller_of(request)))

    async def snooze(request: web.Request) -> web.Response:
        alert_id = request.match_info["id"]
        alerts.find(alert_id)
        body = await read_body(request, what="a snooze's fields")
        return reply(alerts.snooze(alert_id, body, caller_of(request)))

    async def list_rules(request: web.Request) -> web.Response:
        return reply({"rules": alerts.describe_rules()})

    async def get_rule(request: web.Request) -> web.Response:
        return reply(alerts.describe_rule(request.match_info["name"]))

    async def put_rule(request: web.Request) -> web.Response:
        body = await read_body(request, what="a rule's fields")
        return reply(await alerts.put_rule(request.match_info["name"], body))

    async def delete_rule(request: web.Request) -> web.Response:
        await alerts.delete_rule(request.match_info["name"])
        return web.Response(status=204)

    return [
        Route("GET", "/api/alerts", list_alerts, Scope.READ, "alerts.list"),
        Route("GET", "/api/alerts/{id}", get_alert, Scope.READ, "alerts.get"),
        Route("POST", "/api/alerts/{id}/ack", ack, Scope.CONTROL, "alerts.ack"),
        Route("POST", "/api/alerts/{id}/snooze", snooze, Scope.CONTROL, "alerts.snooze"),
        Route("GET", "/api/rules", list_rules, Scope.READ, "rules.list"),
        Route("GET", "/api/rules/{name}", get_rule, Scope.READ, "rules.get"),
        Route("PUT", "/api/rules/{name}", put_rule, Scope.ADMIN, "rules.put"),
        Route("DELETE", "/api/rules/{name}", delete_rule, Scope.ADMIN, "rules.delete"),
    ]


_NUM_OR_NULL = {"type": ["number", "null"]}
_ALERT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "rule": {"type": "string"},
        "state": {"enum": ["pending", "firing", "acknowledged", "resolved"]},
        "severity": {"enum": ["info", "warning", "critical"]},
        "label": {"type": "string"},
        "path": {"type": "string"},
        "value": {},
        "unit": {"type": "string"},
        "message": {"type": "string"},
        "since": {"type": "number", "description": "when the condition turned bad (epoch seconds)"},
        "fired_at": _NUM_OR_NULL,
        "acked_at": _NUM_OR_NULL,
        "acked_by": {"type": ["string", "null"]},
        "snoozed_until": _NUM_OR_NULL,
        "repeats": {"type": "integer"},
        "last_sent": _NUM_OR_NULL,
        "escalated": {"type": "boolean"},
        "resolved_at": _NUM_OR_NULL,
        "fires_at": {"type": "number", "description": "pending only: when it fires if it holds"},
    },
}
_RULE = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
        "label": {"type": "string"},
        "kind": {"enum": ["threshold", "equals", "stale", "health", "program"]},
        "path": {
            "type": "string",
            "description": "a state path; for health: workers/NAME, consumers/NAME, components/NAME or *",
        },
        "above": _NUM_OR_NULL,
        "below": _NUM_OR_NULL,
        "hysteresis": {
            "type": "number",
            "minimum": 0,
            "description": "a firing threshold rule clears this far past it",
        },
        "equals": {"type": ["string", "number", "boolean", "null"]},
        "stale_s": _NUM_OR_NULL,
        "for_s": {"type": "number", "minimum": 0},
        "clear_for_s": {"type": "number", "minimum": 0},
        "severity": {"enum": ["info", "warning", "critical"]},
        "channels": {"type": "array", "items": {"type": "string"}},
        "repeat_s": {"type": "number", "description": "0, or at least 60: reminders until acknowledged"},
        "escalate_after": {"type": "integer", "minimum": 0},
        "escalate_to": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"},
        "source": {"enum": ["program", "page"], "description": "read-only"},
    },
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_NAME = {"name": "name", "in": "path", "required": True, "schema": _RULE["properties"]["name"]}  # type: ignore[index]


def openapi_paths() -> dict[str, Any]:
    """Return the OpenAPI path items of the alert and rule routes."""
    return {
        "/api/alerts": {
            "get": {
                "summary": "Open alerts (firing, acknowledged, pending) and the recently resolved",
                "responses": {
                    "200": json_doc(
                        "the alerts",
                        {
                            "type": "object",
                            "properties": {
                                "active": {"type": "array", "items": _ALERT},
                                "recent": {"type": "array", "items": _ALERT},
                            },
                        },
                    ),
                    **error_docs(403),
                },
            }
        },
        "/api/alerts/{id}": {
            "get": {
                "summary": "One alert, open or recent",
                "parameters": [_ID],
                "responses": {"200": json_doc("the alert", _ALERT), **error_docs(403, 404)},
            }
        },
        "/api/alerts/{id}/ack": {
            "post": {
                "summary": "Acknowledge a firing alert: its reminders and escalation stop (control)",
                "parameters": [_ID],
                "responses": {"200": json_doc("the alert", _ALERT), **error_docs(403, 404, 409, 413)},
            }
        },
        "/api/alerts/{id}/snooze": {
            "post": {
                "summary": 'Hold reminders: {"minutes": N}, {"until": epoch} or {"until": null} (control)',
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"minutes": {"type": "number"}, "until": _NUM_OR_NULL},
                            }
                        }
                    },
                },
                "responses": {
                    "200": json_doc("the alert", _ALERT),
                    **error_docs(400, 403, 404, 409, 413, 422),
                },
            }
        },
        "/api/rules": {
            "get": {
                "summary": "Every alert rule, the program's and the page's",
                "responses": {
                    "200": json_doc(
                        "the rules",
                        {"type": "object", "properties": {"rules": {"type": "array", "items": _RULE}}},
                    ),
                    **error_docs(403),
                },
            }
        },
        "/api/rules/{name}": {
            "get": {
                "summary": "One alert rule",
                "parameters": [_NAME],
                "responses": {"200": json_doc("the rule", _RULE), **error_docs(403, 404)},
            },
            "put": {
                "summary": "Create or replace a rule of the page (admin)",
                "parameters": [_NAME],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _RULE}}},
                "responses": {"200": json_doc("the rule", _RULE), **error_docs(400, 403, 409, 413, 422, 503)},
            },
            "delete": {
                "summary": "Delete a rule of the page; its open alert resolves quietly (admin)",
                "parameters": [_NAME],
                "responses": {"204": {"description": "deleted"}, **error_docs(403, 404, 409, 503)},
            },
        },
    }
