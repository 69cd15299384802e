"""Adding and removing devices over HTTP (POST/DELETE /api/devices), the driver types, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devices_support import Build
from roost.devices.storage import EVENTS_FILE, SETTINGS_FILE
from roost.testing import Harness

HALL = {
    "name": "Hall light",
    "location": "Hall",
    "category": "light",
    "driver": {"type": "simulated", "on_w": 12},
}


async def send(
    home: Harness, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": raw} if raw is not None else {} if body is None else {"json": body}
    async with home.http.request(method, path, **kwargs) as r:
        return r.status, (await r.json()) if r.status != 204 else None


def stored(home: Harness) -> dict[str, Any]:
    return json.loads((home.app.data_dir / SETTINGS_FILE).read_text())  # type: ignore[no-any-return]


async def test_a_device_added_runs_persists_and_survives_a_restart(node: Build) -> None:
    async with Harness(node()) as home:
        await home.app.devices.settle()
        status, body = await send(home, "POST", "/api/devices", HALL)
        assert status == 201 and body["id"] == "hall-light" and body["location"] == "Hall"
        assert body["state"]["online"] is True and home.state["devices/hall-light/on"] is False
        on = await home.post("/api/devices/hall-light/switch", {"on": True})
        assert on["state"]["on"] is True
        entry = stored(home)["devices"]["hall-light"]  # on disk before the 201
        assert entry["source"] == "config" and entry["driver"]["on_w"] == 12
    async with Harness(node()) as home:
        await home.app.devices.settle()
        again = await home.get("/api/devices/hall-light")
        assert (again["name"], again["category"], again["driver"]["type"]) == (
            "Hall light",
            "light",
            "simulated",
        )
        assert home.app.devices.events("hall-light")[0]["cause"] == "caller"


@pytest.mark.parametrize(
    ("body", "made"),
    [
        ({"name": "Lamp"}, "lamp-2"),  # "lamp" is taken
        ({"name": "  Désk  Lamp!! "}, "d-sk-lamp"),
        ({"name": "Drivers"}, "drivers-2"),  # reserved for /api/devices/drivers
        ({"id": "porch", "name": "Porch light"}, "porch"),
        ({"id": "attic"}, "attic"),
    ],
)
async def test_the_id_is_made_from_the_name_unless_given(
    home: Harness, body: dict[str, Any], made: str
) -> None:
    status, reply = await send(home, "POST", "/api/devices", {**body, "driver": {"type": "simulated"}})
    assert status == 201 and reply["id"] == made


async def test_an_always_on_device_is_switched_on_when_added(home: Harness) -> None:
    body = {"name": "Freezer", "always_on": True, "driver": {"type": "simulated", "on_w": 70}}
    await send(home, "POST", "/api/devices", body)
    await home.app.devices.settle()
    assert home.state["devices/freezer/on"] is True
    assert home.app.devices.events("freezer")[0]["cause"] == "always_on"


@pytest.mark.parametrize(
    ("body", "raw", "status", "argument", "fragment"),
    [
        (None, b"{not json", 400, None, "malformed JSON"),
        (None, b"", 400, None, "JSON object"),
        (None, b'["x"]', 422, None, "JSON object"),
        (
            None,
            b'{"name": "x", "driver": {"type": "simulated"}, "pad": "' + b"x" * 20_000 + b'"}',
            413,
            None,
            "larger",
        ),
        ({"name": "x", "driver": {"type": "simulated"}, "colour": "red"}, None, 422, "colour", "not a field"),
        ({"name": 5, "driver": {"type": "simulated"}}, None, 422, "name", "name must be"),
        ({"driver": {"type": "simulated"}}, None, 422, "name", "needs a name"),
        ({"id": "Bad Id", "driver": {"type": "simulated"}}, None, 422, "id", "slug"),
        ({"id": "drivers", "driver": {"type": "simulated"}}, None, 422, "id", "reserved"),
        ({"id": 7, "driver": {"type": "simulated"}}, None, 422, "id", "slug"),
        ({"name": "x"}, None, 422, "driver", "which driver"),
        ({"name": "x", "driver": "simulated"}, None, 422, "driver", "JSON object"),
        ({"name": "x", "driver": {"type": "toaster"}}, None, 422, "driver", "no driver type 'toaster'"),
        ({"name": "x", "driver": {"type": "simulated", "on_w": "lots"}}, None, 422, "driver.on_w", "number"),
        ({"name": "x", "driver": {"type": "simulated", "on_w": True}}, None, 422, "driver.on_w", "number"),
        ({"name": "x", "driver": {"type": "simulated", "on_w": -5}}, None, 422, "driver", "0 or more"),
        ({"name": "x", "driver": {"type": "simulated", "ip": "1.2.3.4"}}, None, 422, "driver.ip", "takes"),
        (
            {"name": "x", "category": "toaster", "driver": {"type": "simulated"}},
            None,
            422,
            "category",
            "one of",
        ),
        (
            {"name": "x", "schedule": "nope", "driver": {"type": "simulated"}},
            None,
            422,
            "schedule",
            "no schedule",
        ),
        (
            {"name": "x", "standby_hold_s": "2 min", "driver": {"type": "simulated"}},
            None,
            422,
            "standby_hold_s",
            "",
        ),
    ],
)
async def test_adding_refuses_bad_input_and_changes_nothing(
    home: Harness, body: Any, raw: bytes | None, status: int, argument: str | None, fragment: str
) -> None:
    before = (home.app.devices.ids(), home.app.devices.document(), home.state.get("devices"))
    got, reply = await send(home, "POST", "/api/devices", body, raw)
    assert got == status and fragment in reply["error"]["message"]
    assert reply["error"].get("argument") == argument
    assert (home.app.devices.ids(), home.app.devices.document(), home.state.get("devices")) == before


async def test_a_taken_id_is_a_conflict(home: Harness) -> None:
    status, reply = await send(home, "POST", "/api/devices", {"id": "tv", "driver": {"type": "simulated"}})
    assert status == 409 and "exists" in reply["error"]["message"]
    assert (await home.get("/api/devices/tv"))["driver"]["on_w"] == 92


async def test_removing_takes_settings_events_and_state_with_it(node: Build) -> None:
    async with Harness(node()) as home:
        await home.app.devices.settle()
        await send(home, "POST", "/api/devices", HALL)
        await home.post("/api/devices/hall-light/switch", {"on": True})
        await home.app.devices.flush()
        assert "hall-light" in (home.app.data_dir / EVENTS_FILE).read_text()
        status, _ = await send(home, "DELETE", "/api/devices/hall-light")
        assert status == 204
        assert (await send(home, "GET", "/api/devices/hall-light"))[0] == 404
        assert "hall-light" not in home.state["devices"] and "hall-light" not in stored(home)["devices"]
        assert "hall-light" not in (home.app.data_dir / EVENTS_FILE).read_text()
        # The same id again starts afresh: no events of the old one.
        status, body = await send(home, "POST", "/api/devices", HALL)
        assert status == 201 and body["last_event"] is None
        await send(home, "DELETE", "/api/devices/hall-light")
    async with Harness(node()) as home:
        await home.app.devices.settle()
        assert home.app.devices.ids() == ["fridge", "lamp", "tv"]


async def test_a_device_the_program_declares_cannot_be_removed(home: Harness) -> None:
    status, reply = await send(home, "DELETE", "/api/devices/tv")
    assert status == 409 and "declared in the program" in reply["error"]["message"]
    assert "tv" in home.app.devices.ids() and home.state["devices/tv/online"] is True
    assert (await send(home, "DELETE", "/api/devices/nope"))[0] == 404


async def test_the_driver_types_and_their_fields(home: Harness) -> None:
    drivers = {d["type"]: d for d in (await home.get("/api/devices/drivers"))["drivers"]}
    fields = {f["name"]: f for f in drivers["simulated"]["fields"]}
    assert fields["on_w"] == {
        "name": "on_w",
        "type": "number",
        "doc": "watts while it runs",
        "required": False,
        "default": 60.0,
    }
    assert fields["on"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/api/devices", {**HALL, "name": "Porch"}), ("DELETE", "/api/devices/hall-light", None)],
)
async def test_another_site_cannot_add_or_remove(home: Harness, method: str, path: str, body: Any) -> None:
    await send(home, "POST", "/api/devices", HALL)
    before = home.app.devices.document()
    async with home.http.request(method, path, json=body, headers={"Origin": "http://evil.example"}) as r:
        reply = await r.json()
    assert r.status == 403 and reply["error"]["code"] == "cross_site"
    assert home.app.devices.document() == before
    assert home.app.devices.ids() == ["fridge", "hall-light", "lamp", "tv"]


async def test_add_remove_drivers_and_energy_are_in_openapi(home: Harness) -> None:
    paths = (await home.get("/api/openapi.json"))["paths"]
    assert {"get", "post"} <= set(paths["/api/devices"]) and "delete" in paths["/api/devices/{id}"]
    assert "get" in paths["/api/devices/drivers"] and "get" in paths["/api/devices/{id}/energy"]
    schema = paths["/api/devices"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["driver"] and "standby_hold_s" in schema["properties"]
