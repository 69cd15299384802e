"""The device and schedule routes over real HTTP: replies, and a JSON error for every bad input."""

from __future__ import annotations

from typing import Any

import pytest

from devices_support import TV_EVENINGS
from roost.testing import Harness


async def send(
    home: Harness, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": raw} if raw is not None else {} if body is None else {"json": body}
    async with home.http.request(method, path, **kwargs) as r:
        return r.status, (await r.json()) if r.status != 204 else None


async def test_listing_and_reading_devices(home: Harness) -> None:
    status, body = await send(home, "GET", "/api/devices")
    assert status == 200 and [d["id"] for d in body["devices"]] == ["fridge", "lamp", "tv"]
    tv = await home.get("/api/devices/tv")
    assert tv["category"] == "media" and tv["schedule"] == "tv-evenings" and tv["schedule_enabled"] is True
    assert tv["state"] | {"on": False, "online": True} == tv["state"]
    assert tv["next_change"]["at"] == "2026-12-01T18:00:00+01:00" and tv["next_change"]["value"] == 8
    assert tv["driver"]["type"] == "simulated"
    assert (await home.get("/api/devices/fridge"))["chips"] == ["always on"]


async def test_patch_changes_settings_and_keeps_them(home: Harness) -> None:
    status, body = await send(home, "PATCH", "/api/devices/lamp", {"name": "Desk lamp", "location": "Study"})
    assert status == 200 and body["name"] == "Desk lamp"
    assert home.app.hub.meta("devices/lamp/on").label == "Desk lamp"
    await home.app.devices.flush()
    doc = home.app.devices.document()
    assert doc["devices"]["lamp"]["settings"] == {"location": "Study", "name": "Desk lamp"}


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        ({"category": "toaster"}, 422, "invalid_arguments", "category must be one of"),
        ({"name": 5}, 422, "invalid_arguments", "name must be"),
        ({"name": "x\ny"}, 422, "invalid_arguments", "single line"),
        ({"always_on": "yes"}, 422, "invalid_arguments", "true or false"),
        ({"standby_hold_s": -1}, 422, "invalid_arguments", "standby_hold_s must be"),
        ({"start_grace_s": "15 min"}, 422, "invalid_arguments", "start_grace_s"),
        ({"schedule": "nope"}, 422, "invalid_arguments", "no schedule named"),
        ({"schedule": "a b"}, 422, "invalid_arguments", "schedule must be"),
        ({"id": "other"}, 422, "invalid_arguments", "not a setting"),
        ({"skip_next": "yes"}, 422, "invalid_arguments", "skip_next"),
        ([1, 2], 422, "invalid_arguments", "JSON object"),
    ],
)
async def test_patch_refuses_bad_settings(
    home: Harness, body: Any, status: int, code: str, fragment: str
) -> None:
    before = await home.get("/api/devices/lamp")
    got, reply = await send(home, "PATCH", "/api/devices/lamp", body)
    assert (got, reply["error"]["code"]) == (status, code)
    assert fragment in reply["error"]["message"]
    assert await home.get("/api/devices/lamp") == before  # nothing changed


async def test_skipping_on_a_device_without_schedule_is_a_conflict(home: Harness) -> None:
    status, reply = await send(home, "PATCH", "/api/devices/lamp", {"skip_next": True})
    assert status == 409 and "no schedule" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/devices/nope", None),
        ("PATCH", "/api/devices/nope", {"name": "x"}),
        ("POST", "/api/devices/nope/switch", {"on": True}),
        ("GET", "/api/devices/nope/events", None),
        ("GET", "/api/devices/nope/preview", None),
        ("GET", "/api/schedules/nope", None),
        ("DELETE", "/api/schedules/nope", None),
    ],
)
async def test_unknown_devices_and_schedules_are_404(
    home: Harness, method: str, path: str, body: Any
) -> None:
    status, reply = await send(home, method, path, body)
    assert status == 404 and reply["error"]["code"] in ("unknown_device", "unknown_schedule")
    assert "nope" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("body", "raw", "status", "fragment"),
    [
        ({}, None, 422, '"on"'),
        ({"on": "yes"}, None, 422, "on must be true or false"),
        ({"on": 1}, None, 422, "on must be true or false"),
        ({"on": True, "hold": "later"}, None, 422, "hold must be"),
        ({"on": True, "hold": 0}, None, 422, "hold must be"),
        ({"on": True, "hold": 10**9}, None, 422, "hold must be"),
        ({"on": True, "hold": True}, None, 422, "hold must be"),
        ({"on": True, "extra": 1}, None, 422, "unknown field"),
        (None, b"{not json", 400, "malformed JSON"),
        (None, b"", 400, "JSON object"),
        (None, b"[true]", 422, "JSON object"),
    ],
)
async def test_switch_refuses_bad_bodies(
    home: Harness, body: Any, raw: bytes | None, status: int, fragment: str
) -> None:
    got, reply = await send(home, "POST", "/api/devices/lamp/switch", body, raw)
    assert got == status and fragment in reply["error"]["message"]
    assert home.state["devices/lamp/on"] is False and home.app.devices.events("lamp") == []


async def test_switching_over_http_records_the_caller(home: Harness) -> None:
    body = await home.post("/api/devices/lamp/switch", {"on": True})
    assert body["state"]["on"] is True
    event = (await home.get("/api/devices/lamp/events"))["events"][0]
    assert event["cause"] == "caller" and event["detail"]["transport"] == "http"
    assert event["text"].startswith("by ") and "http" in event["text"]


async def test_switch_is_also_a_command(home: Harness) -> None:
    result = await home.command("switch_device", id="lamp", on=True, hold=600)
    assert result["state"]["on"] is True and result["chips"] == ["on by hand until 18:00"]
    status, reply = await send(home, "POST", "/api/commands/switch_device", {"id": "nope", "on": True})
    assert status == 404 and reply["error"]["code"] == "unknown_device"


@pytest.mark.parametrize(
    ("query", "fragment"), [("?hours=0", "hours must be"), ("?hours=x", "number"), ("?hours=1000", "hours")]
)
async def test_preview_refuses_bad_hours(home: Harness, query: str, fragment: str) -> None:
    status, reply = await send(home, "GET", "/api/devices/tv/preview" + query)
    assert status == 400 and fragment in reply["error"]["message"]


async def test_preview_of_the_next_24_hours(home: Harness) -> None:
    preview = await home.get("/api/devices/tv/preview", hours=24)
    assert [(s["from"][11:16], s["on"], s["standby_w"]) for s in preview["segments"]] == [
        ("17:50", False, None),
        ("18:00", True, 8.0),
        ("23:30", False, None),
    ]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=x", "?limit=100000"])
async def test_events_refuse_bad_limits(home: Harness, query: str) -> None:
    status, reply = await send(home, "GET", "/api/devices/tv/events" + query)
    assert status == 400 and "limit" in reply["error"]["message"]


async def test_schedules_put_get_list_delete(home: Harness) -> None:
    week = [[0] * 96 for _ in range(7)]
    week[0][28:32] = [-1] * 4
    status, body = await send(
        home, "PUT", "/api/schedules/weekday.mornings", {"description": "d", "week": week}
    )
    assert status == 200 and body["name"] == "weekday.mornings" and body["devices"] == []
    assert (await home.get("/api/schedules/weekday.mornings"))["week"] == week
    names = [s["name"] for s in (await home.get("/api/schedules"))["schedules"]]
    assert names == ["mornings", "tv-evenings", "weekday.mornings"]
    assert (await send(home, "DELETE", "/api/schedules/weekday.mornings"))[0] == 204
    assert (await send(home, "GET", "/api/schedules/weekday.mornings"))[0] == 404


async def test_a_bad_cell_names_its_day_and_slot(home: Harness) -> None:
    week = [[0] * 96 for _ in range(7)]
    week[2][37] = -5
    status, reply = await send(home, "PUT", "/api/schedules/x", {"week": week})
    assert status == 422 and reply["error"]["code"] == "invalid_schedule"
    assert (reply["error"]["day"], reply["error"]["slot"]) == (2, 37)
    assert "wed 09:15" in reply["error"]["message"]
    assert (await send(home, "GET", "/api/schedules/x"))[0] == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/api/schedules/a%20b", {"week": [[0] * 96] * 7}, 422, "name"),
        ("/api/schedules/x", {"week": [[0] * 96] * 6}, 422, "7 days"),
        ("/api/schedules/x", {"name": "y", "week": [[0] * 96] * 7}, 422, "names 'y'"),
        ("/api/schedules/x", {"week": [[0] * 96] * 7, "rules": [{"type": "moon"}]}, 422, "rule 0"),
        ("/api/schedules/x", {"week": [[0] * 96] * 7, "description": 5}, 422, "description"),
        ("/api/schedules/x", {"rules": []}, 422, "7 days"),
    ],
)
async def test_put_schedule_refuses_bad_input(
    home: Harness, path: str, body: Any, status: int, fragment: str
) -> None:
    got, reply = await send(home, "PUT", path, body)
    assert got == status and fragment in reply["error"]["message"]
    assert [s["name"] for s in (await home.get("/api/schedules"))["schedules"]] == ["mornings", "tv-evenings"]


async def test_deleting_a_schedule_in_use_names_the_devices(home: Harness) -> None:
    status, reply = await send(home, "DELETE", f"/api/schedules/{TV_EVENINGS.name}")
    assert status == 409 and reply["error"]["devices"] == ["tv"]
    assert "used by tv" in reply["error"]["message"]


async def test_every_route_is_in_openapi(home: Harness) -> None:
    doc = await home.get("/api/openapi.json")
    for path, methods in {
        "/api/devices": {"get"},
        "/api/devices/{id}": {"get", "patch"},
        "/api/devices/{id}/switch": {"post"},
        "/api/devices/{id}/events": {"get"},
        "/api/devices/{id}/preview": {"get"},
        "/api/schedules": {"get"},
        "/api/schedules/{name}": {"get", "put", "delete"},
    }.items():
        assert methods <= set(doc["paths"][path]), path


async def test_a_command_call_passes_its_caller_to_the_switch_event(home: Harness) -> None:
    live = await home.live()
    await live.call("switch_device", id="lamp", on=True)
    event = home.app.devices.events("lamp")[0]
    assert event["cause"] == "caller" and event["detail"]["transport"] == "ws"
    assert event["text"].startswith("by anonymous via ws from 127.0.0.1")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/devices/lamp/switch", {"on": True}),
        ("PATCH", "/api/devices/lamp", {"name": "x"}),
        ("PUT", "/api/schedules/x", {"week": [[0] * 96] * 7}),
        ("DELETE", "/api/schedules/mornings", None),
    ],
)
async def test_another_site_is_refused(home: Harness, method: str, path: str, body: Any) -> None:
    before = home.app.devices.document()
    async with home.http.request(method, path, json=body, headers={"Origin": "http://evil.example"}) as r:
        reply = await r.json()
    assert r.status == 403 and reply["error"]["code"] == "cross_site"
    assert home.app.devices.document() == before and home.state["devices/lamp/on"] is False
