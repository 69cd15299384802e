"""Alerts and rules over HTTP: rules made and kept, acknowledging and snoozing, bad input, scopes,
and the issue's done-when over real transports: an e-mail channel and a rule, messages at a local SMTP server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from notify_support import SmtpSink, make_app, smtp_server
from roost.core.caller import Caller, Scope
from roost.runtime.routes import Route
from roost.testing import Harness, eventually
from roost.web.server import WebServer, WebSettings

RULE = {
    "label": "Boiler flow too hot",
    "kind": "threshold",
    "path": "boiler/flow",
    "above": 80,
    "hysteresis": 5,
    "for_s": 120,
    "severity": "critical",
    "channels": ["page"],
}


def build(data: Path, **kw: Any) -> Any:
    app = make_app(data, **kw)
    app.meta("boiler/flow", label="Boiler flow", unit="°C", kind="temperature")
    app.alert("program-rule", "boiler/pressure", below=1.0, label="Pressure low")
    return app


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness(build(tmp_path / "data")) as harness:
        yield harness


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


async def call(node: Harness, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    async with node.http.request(method, path, json=body, **kw) as r:
        return r.status, (await r.json()) if r.status != 204 else None


def rules_file(node: Harness) -> Path:
    return node.app.data_dir / "rules.json"


async def fire(node: Harness) -> int:
    node.state["boiler/flow"] = 90.0
    await node.advance(120)
    status, reply = await call(node, "GET", "/api/alerts")
    assert status == 200
    [alert] = [a for a in reply["active"] if a["rule"] == "boiler-hot"]
    assert alert["state"] == "firing"
    return int(alert["id"])


async def test_a_rule_put_in_the_page_is_saved_listed_and_runs(node: Harness) -> None:
    status, rule = await call(node, "PUT", "/api/rules/boiler-hot", RULE)
    assert status == 200
    assert rule["name"] == "boiler-hot" and rule["source"] == "page" and rule["above"] == 80
    # The page sends back what GET gave it, read-only fields and all.
    assert (await call(node, "PUT", "/api/rules/boiler-hot", rule))[1] == rule
    names = [r["name"] for r in (await call(node, "GET", "/api/rules"))[1]["rules"]]
    assert names == ["program-rule", "boiler-hot"]
    assert (await call(node, "GET", "/api/rules/program-rule"))[1]["source"] == "program"
    doc = json.loads(rules_file(node).read_text())
    assert doc["schema"] == 1 and doc["rules"]["boiler-hot"]["path"] == "boiler/flow"
    alert_id = await fire(node)
    assert node.state["alerts/firing"] == [
        {"id": alert_id, "label": "Boiler flow too hot", "severity": "critical"}
    ]
    status, alert = await call(node, "GET", f"/api/alerts/{alert_id}")
    assert status == 200 and alert["value"] == 90.0 and alert["unit"] == "°C"


async def test_acknowledge_and_snooze_over_http(node: Harness) -> None:
    await call(node, "PUT", "/api/rules/boiler-hot", {**RULE, "repeat_s": 600})
    alert_id = await fire(node)
    status, alert = await call(node, "POST", f"/api/alerts/{alert_id}/snooze", {"minutes": 30})
    assert status == 200 and alert["snoozed_until"] == pytest.approx(node.clock.time() + 1800)
    assert node.state["alerts/firing"] == []
    status, alert = await call(node, "POST", f"/api/alerts/{alert_id}/snooze", {"until": None})
    assert status == 200 and alert["snoozed_until"] is None
    status, alert = await call(node, "POST", f"/api/alerts/{alert_id}/ack")
    assert status == 200 and alert["state"] == "acknowledged" and alert["acked_at"] is not None
    assert "via http" in alert["acked_by"]
    # Acknowledging again changes nothing.
    assert (await call(node, "POST", f"/api/alerts/{alert_id}/ack", {}))[1] == alert
    node.state["boiler/flow"] = 60.0
    await node.advance(1)
    status, reply = await call(node, "GET", "/api/alerts")
    assert reply["active"] == [] and reply["recent"][0]["id"] == alert_id
    status, reply = await call(node, "POST", f"/api/alerts/{alert_id}/ack")
    assert status == 409 and reply["error"]["code"] == "conflict" and "resolved" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RULE, "above": "hot"}, "above"),
        ({**RULE, "below": 3}, "above"),
        ({**RULE, "above": None}, "threshold"),
        ({**RULE, "path": "/boiler//flow"}, "path"),
        ({**RULE, "path": "alerts/firing"}, "path"),
        ({**RULE, "kind": "volcano"}, "kind"),
        ({**RULE, "kind": "program"}, "kind"),
        ({**RULE, "severity": "apocalyptic"}, "severity"),
        ({**RULE, "for_s": -1}, "for_s"),
        ({**RULE, "repeat_s": 5}, "repeat_s"),
        ({**RULE, "channels": ["nowhere"]}, "channels"),
        ({**RULE, "channels": "page"}, "channels"),
        ({**RULE, "escalate_after": 2, "repeat_s": 600}, "escalate_to"),
        ({**RULE, "enabled": "yes"}, "enabled"),
        ({**RULE, "colour": "red"}, "colour"),
        ({**RULE, "name": "other"}, "name"),
        ({**RULE, "kind": "equals", "equals": None}, "equals"),
        ({**RULE, "kind": "stale", "stale_s": 0}, "stale_s"),
        ({**RULE, "kind": "health", "path": "boiler/flow"}, "path"),
    ],
)
async def test_a_bad_rule_is_a_422_naming_its_field_and_changes_nothing(
    node: Harness, body: dict[str, Any], field: str
) -> None:
    await call(node, "PUT", "/api/rules/boiler-hot", RULE)
    before = rules_file(node).read_bytes()
    status, reply = await call(node, "PUT", "/api/rules/boiler-hot", body)
    assert status == 422, reply
    assert reply["error"]["code"] == "invalid_arguments" and reply["error"]["argument"] == field
    assert rules_file(node).read_bytes() == before
    assert (await call(node, "GET", "/api/rules/boiler-hot"))[1]["above"] == 80


async def test_bad_requests_get_clear_json_errors(node: Harness) -> None:
    await call(node, "PUT", "/api/rules/boiler-hot", RULE)
    before = rules_file(node).read_bytes()
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("PUT", "/api/rules/bad name!", {"json": RULE}, 422, "invalid_arguments"),
        ("PUT", "/api/rules/boiler-hot", {"data": b"{not json"}, 400, "malformed_json"),
        ("PUT", "/api/rules/boiler-hot", {"json": [1, 2]}, 422, "invalid_arguments"),
        ("PUT", "/api/rules/boiler-hot", {"data": b"{" + b" " * 20000 + b"}"}, 413, "payload_too_large"),
        ("PUT", "/api/rules/program-rule", {"json": RULE}, 409, "conflict"),
        ("DELETE", "/api/rules/program-rule", {}, 409, "conflict"),
        ("DELETE", "/api/rules/nothing", {}, 404, "not_found"),
        ("GET", "/api/rules/nothing", {}, 404, "not_found"),
        ("GET", "/api/alerts/999", {}, 404, "not_found"),
        ("POST", "/api/alerts/999/ack", {}, 404, "not_found"),
        ("POST", "/api/alerts/abc/snooze", {"json": {"minutes": 5}}, 404, "not_found"),
    ]
    for method, path, kw, want, code in cases:
        async with node.http.request(method, path, **kw) as r:
            reply = await r.json()
        assert r.status == want and reply["error"]["code"] == code, (method, path, reply)
    assert rules_file(node).read_bytes() == before
    alert_id = await fire(node)
    for body in [
        {},
        {"minutes": "ten"},
        {"minutes": -5},
        {"until": 1.0},
        {"minutes": 99999999},
        {"hours": 1},
    ]:
        status, reply = await call(node, "POST", f"/api/alerts/{alert_id}/snooze", body)
        assert status == 422 and reply["error"]["code"] == "invalid_arguments", body
    status, reply = await call(node, "POST", f"/api/alerts/{alert_id}/ack", {"note": 1})
    assert status == 200  # an acknowledgement's extra fields are read and ignored
    status, alert = await call(node, "GET", f"/api/alerts/{alert_id}")
    assert alert["snoozed_until"] is None


async def test_a_pending_alert_cannot_be_acknowledged_or_snoozed(node: Harness) -> None:
    await call(node, "PUT", "/api/rules/boiler-hot", RULE)
    node.state["boiler/flow"] = 90.0
    await node.advance(10)
    [alert] = (await call(node, "GET", "/api/alerts"))[1]["active"]
    assert alert["state"] == "pending"
    assert alert["fires_at"] == alert["since"] + RULE["for_s"]  # when it fires if it holds
    assert (await call(node, "GET", f"/api/alerts/{alert['id']}"))[1]["fires_at"] == alert["fires_at"]
    for action, body in (("ack", {}), ("snooze", {"minutes": 5})):
        status, reply = await call(node, "POST", f"/api/alerts/{alert['id']}/{action}", body)
        assert status == 409 and "pending" in reply["error"]["message"]


async def test_deleting_a_rule_resolves_its_alert_quietly_and_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with Harness(build(data)) as node:
        await call(node, "PUT", "/api/rules/boiler-hot", RULE)
        await call(
            node, "PUT", "/api/rules/cellar-cold", {**RULE, "path": "cellar/t", "above": None, "below": 5}
        )
        alert_id = await fire(node)
        notices = len(node.state["alerts/notices"])
        assert (await call(node, "DELETE", "/api/rules/boiler-hot"))[0] == 204
        reply = (await call(node, "GET", "/api/alerts"))[1]
        assert reply["active"] == [] and reply["recent"][0]["message"] == "its rule was deleted"
        assert len(node.state["alerts/notices"]) == notices  # no message: nothing in the world changed
    async with Harness(build(data)) as node:
        names = [r["name"] for r in (await call(node, "GET", "/api/rules"))[1]["rules"]]
        assert names == ["program-rule", "cellar-cold"]
        assert (await call(node, "GET", "/api/alerts"))[1]["recent"][0]["id"] == alert_id


async def test_an_unreadable_rules_file_is_kept_and_writes_wait(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "rules.json").write_text('{"schema": 99, "rules": {}}')
    async with Harness(build(data)) as node:
        status, reply = await call(node, "PUT", "/api/rules/boiler-hot", RULE)
        assert status == 503 and "newer roost" in reply["error"]["message"]
        health = (await call(node, "GET", "/healthz"))[1]
        assert health["components"]["alerts"]["ok"] is False
        assert (await call(node, "GET", "/api/rules"))[1]["rules"][0]["name"] == "program-rule"
    assert (data / "rules.json").read_text() == '{"schema": 99, "rules": {}}'


def caller_by_header(request: web.Request, route: Route | None) -> Caller:
    return Caller(
        "http", request.remote or "", "tester", Scope.parse(request.headers.get("X-Test-Scope", "read"))
    )


async def test_each_route_needs_its_scope(tmp_path: Path) -> None:
    async with Harness(build(tmp_path / "data"), serve=False) as node:
        await node.app.alerts.put_rule("boiler-hot", {**RULE, "for_s": 0})
        node.state["boiler/flow"] = 90.0
        await node.advance(1)
        alert_id = node.app.alerts.describe()["active"][0]["id"]
        server = WebServer(node.app.hub, WebSettings(port=0), identify=caller_by_header)
        await server.start()
        needs = [
            ("GET", "/api/alerts", None, "read"),
            ("GET", f"/api/alerts/{alert_id}", None, "read"),
            ("GET", "/api/rules", None, "read"),
            ("GET", "/api/rules/boiler-hot", None, "read"),
            ("POST", f"/api/alerts/{alert_id}/snooze", {"minutes": 5}, "control"),
            ("POST", f"/api/alerts/{alert_id}/ack", None, "control"),
            ("PUT", "/api/rules/other", RULE, "admin"),
            ("DELETE", "/api/rules/boiler-hot", None, "admin"),
        ]
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:
                for method, path, body, scope in needs:
                    below = {"read": [], "control": ["read"], "admin": ["read", "control"]}[scope]
                    for weaker in below:
                        async with http.request(
                            method, path, json=body, headers={"X-Test-Scope": weaker}
                        ) as r:
                            reply = await r.json()
                        assert r.status == 403 and reply["error"]["code"] == "forbidden", (path, weaker)
                    async with http.request(method, path, json=body, headers={"X-Test-Scope": scope}) as r:
                        assert r.status in (200, 204), (path, scope, await r.text())
        finally:
            await server.stop()


async def test_another_site_is_refused(tmp_path: Path) -> None:
    async with Harness(build(tmp_path / "data", auth=True)) as node:
        headers = {"Origin": "http://evil.example"}
        for method, path in (
            ("PUT", "/api/rules/x"),
            ("DELETE", "/api/rules/x"),
            ("POST", "/api/alerts/1/ack"),
        ):
            async with node.http.request(method, path, json=RULE, headers=headers) as r:
                reply = await r.json()
            assert r.status == 403 and reply["error"]["code"] == "cross_site"
        assert not rules_file(node).exists()


async def test_done_when_an_email_channel_and_a_rule_over_http_reach_a_local_smtp_server(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    async with Harness(build(tmp_path / "data")) as node:
        node.app.notifications.link = "http://roost.test:8080/"
        status, _ = await call(node, "PUT", "/api/channels/email", {"url": smtp.url()})
        assert status == 200
        assert (await call(node, "POST", "/api/channels/email/test"))[0] == 200
        await eventually(lambda: len(smtp.mails) == 1)
        assert "Test message for channel email" in str(smtp.mails[0]["Subject"])
        status, _ = await call(node, "PUT", "/api/rules/boiler-hot", {**RULE, "channels": ["page", "email"]})
        assert status == 200
        # A value hovering at 80 °C: one alert, not a storm.
        for value in [79.0, 81.0, 80.5, 82.0, 79.5, 81.5, 83.4, 80.2, 81.0]:
            node.state["boiler/flow"] = value
            await node.advance(30)
        await eventually(lambda: len(smtp.mails) == 2)
        mail = smtp.mails[1]
        assert str(mail["Subject"]).startswith("[FIRING] Boiler flow too hot")
        body = smtp.bodies()[1]
        assert "Boiler flow" in body and "°C, above 80 °C for 2 min" in body
        assert "http://roost.test:8080/#alerts/" in body
        node.state["boiler/flow"] = 70.0
        await node.advance(1)
        await eventually(lambda: len(smtp.mails) == 3)
        assert str(smtp.mails[2]["Subject"]).startswith("[RESOLVED] Boiler flow too hot")
        await node.advance(600)
        assert len(smtp.mails) == 3
