"""Schedules, the standby killer and manual overrides on a fake clock, through the real HTTP API."""

from __future__ import annotations

from devices_support import Build, causes, plug
from roost.testing import Harness


async def test_the_schedule_switches_at_its_slot_boundary_and_says_why(home: Harness) -> None:
    assert home.state["devices/tv/on"] is False
    await home.advance_to("2026-12-01 17:59:50")
    assert home.state["devices/tv/on"] is False
    await home.advance(seconds=10)
    assert home.state["devices/tv/on"] is True and plug(home, "tv").relay
    event = home.app.devices.events("tv")[0]
    assert event["cause"] == "schedule" and event["confirmed"] is True
    assert (
        event["detail"] | {"schedule": "tv-evenings", "day": "tue", "time": "18:00", "value": 8}
        == event["detail"]
    )
    assert event["text"] == "schedule tv-evenings: Tue 18:00 on, standby killer below 8 W"
    await home.advance_to("2026-12-01 23:30")
    assert home.state["devices/tv/on"] is False
    assert causes(home, "tv") == [("schedule", True, "18:00"), ("schedule", False, "23:30")]


async def test_the_standby_killer_cuts_after_the_hold_time_and_names_the_draw(home: Harness) -> None:
    await home.advance_to("2026-12-01 18:20")
    plug(home, "tv").press(False)  # the TV drops to standby: 1.5 W
    await home.advance(seconds=110)
    assert home.state["devices/tv/on"] is True  # below 8 W, but not for 2 min yet
    await home.advance(seconds=20)
    assert home.state["devices/tv/on"] is False
    event = home.app.devices.events("tv")[0]
    assert event["cause"] == "standby_killer" and event["detail"]["power_w"] == 1.5
    assert event["detail"]["threshold_w"] == 8 and event["detail"]["below_s"] >= 120


async def test_the_killer_never_cuts_within_the_start_grace(home: Harness) -> None:
    await home.advance_to("2026-12-01 18:00")
    plug(home, "tv").press(False)  # in standby at once: the grace (15 min) still protects it
    await home.advance_to("2026-12-01 18:14:50")
    assert home.state["devices/tv/on"] is True
    await home.advance(seconds=20)
    assert home.state["devices/tv/on"] is False


async def test_a_draw_above_the_threshold_starts_the_hold_over(home: Harness) -> None:
    await home.advance_to("2026-12-01 18:20")
    tv = plug(home, "tv")
    tv.press(False)
    await home.advance(seconds=90)
    tv.press(True)  # someone picks up the remote
    await home.advance(seconds=20)
    tv.press(False)
    await home.advance(seconds=100)
    assert home.state["devices/tv/on"] is True
    await home.advance(seconds=30)
    assert home.state["devices/tv/on"] is False


async def test_switched_on_by_hand_it_holds_until_the_next_change_with_the_killer_still_armed(
    home: Harness,
) -> None:
    device = await home.post("/api/devices/tv/switch", {"on": True})
    assert device["state"]["on"] is True
    assert device["chips"] == ["on by hand until 18:00"]
    assert device["schedule_enabled"] is True
    await home.advance_to("2026-12-01 18:00")
    device = await home.get("/api/devices/tv")
    assert device["override"] is None and device["chips"] == ["standby killer armed (< 8 W)"]
    plug(home, "tv").press(False)
    await home.advance_to("2026-12-01 18:06")  # the grace began at 17:50, by hand
    assert home.state["devices/tv/on"] is False
    assert [c for c, _, _ in causes(home, "tv")] == ["caller", "standby_killer"]


async def test_switched_off_by_hand_it_stays_off_until_the_schedule_changes(home: Harness) -> None:
    home.app.devices.poll_s = 600
    await home.advance_to("2026-12-01 18:30")
    device = await home.post("/api/devices/tv/switch", {"on": False})
    assert device["chips"][0] == "off by hand until 23:30"
    await home.advance_to("2026-12-02 17:59")
    assert home.state["devices/tv/on"] is False
    await home.advance_to("2026-12-02 18:00")
    assert home.state["devices/tv/on"] is True
    assert causes(home, "tv")[-2:] == [("caller", False, "18:30"), ("schedule", True, "18:00")]


async def test_a_timed_hold_goes_back_to_the_slot_when_it_ends(home: Harness) -> None:
    await home.advance_to("2026-12-01 18:30")
    await home.post("/api/devices/tv/switch", {"on": False, "hold": 600})
    await home.advance_to("2026-12-01 18:39:50")
    assert home.state["devices/tv/on"] is False
    await home.advance(seconds=10)
    assert home.state["devices/tv/on"] is True
    assert causes(home, "tv")[-1] == ("override_expired", True, "18:40")


async def test_a_timed_hold_without_a_schedule_goes_back_to_what_was(home: Harness) -> None:
    await home.post("/api/devices/lamp/switch", {"on": True, "hold": 900})
    assert (await home.get("/api/devices/lamp"))["chips"] == ["on by hand until 18:05"]
    await home.advance(minutes=15)
    assert home.state["devices/lamp/on"] is False
    assert causes(home, "lamp") == [("caller", True, "17:50"), ("override_expired", False, "18:05")]


async def test_reenabling_the_schedule_applies_the_current_slot(home: Harness) -> None:
    async with home.http.patch("/api/devices/tv", json={"schedule_enabled": False}) as r:
        assert r.status == 200
    await home.advance_to("2026-12-01 18:10")
    assert home.state["devices/tv/on"] is False
    async with home.http.patch("/api/devices/tv", json={"schedule_enabled": True}) as r:
        assert (await r.json())["standby"]["threshold_w"] == 8
    await home.app.devices.settle()
    assert home.state["devices/tv/on"] is True
    assert causes(home, "tv") == [("schedule", True, "18:10")]


async def test_skipping_the_next_switch(home: Harness) -> None:
    home.app.devices.poll_s = 600  # a day on the fake clock: no need for a reading every 10 s
    async with home.http.patch("/api/devices/tv", json={"skip_next": True}) as r:
        assert (await r.json())["chips"][0] == "next switch skipped, off until 23:30"
    await home.advance_to("2026-12-01 18:30")
    assert home.state["devices/tv/on"] is False
    await home.advance_to("2026-12-02 18:00")
    assert home.state["devices/tv/on"] is True


async def test_always_on_refuses_off_is_restored_and_never_scheduled(node: Build) -> None:
    app = node()
    fridge = app.devices._devices["fridge"].driver
    fridge.switch(False)  # type: ignore[union-attr]  # found off at start
    async with Harness(app) as home:
        await home.app.devices.settle()
        assert home.state["devices/fridge/on"] is True
        assert causes(home, "fridge") == [("always_on", True, "17:50")]
        async with home.http.post("/api/devices/fridge/switch", json={"on": False}) as r:
            body = await r.json()
        assert r.status == 409 and body["error"]["code"] == "conflict"
        assert "Fridge is always on and cannot be switched off" in body["error"]["message"]
        async with home.http.patch(
            "/api/devices/fridge", json={"schedule": "mornings", "schedule_enabled": True}
        ):
            pass
        await home.advance_to("2026-12-02 08:30")  # mornings would have switched it off at 00:00
        assert home.state["devices/fridge/on"] is True and len(causes(home, "fridge")) == 1


async def test_a_switch_without_confirmation_says_so(home: Harness) -> None:
    async with home.http.patch("/api/devices/lamp", json={"confirm_timeout_s": 0.2}):
        pass
    plug(home, "lamp").respond = False
    async with home.http.post("/api/devices/lamp/switch", json={"on": True}) as r:
        body = await r.json()
    assert r.status == 504 and body["error"]["code"] == "no_confirmation"
    assert "no confirmation in time" in body["error"]["message"]
    assert home.state["devices/lamp/on"] is False  # the confirmed state, not the wish
    assert "no confirmation in time" in home.state["devices/lamp/error"]
    assert home.app.devices.events("lamp")[0]["outcome"] == "timeout"
    plug(home, "lamp").respond = True
    await home.post("/api/devices/lamp/switch", {"on": True})
    assert home.state["devices/lamp/error"] == "" and home.state["devices/lamp/on"] is True


async def test_after_a_restart_every_device_follows_its_schedule_and_override(node: Build) -> None:
    async with Harness(node()) as home:
        await home.app.devices.settle()
        await home.post("/api/devices/lamp/switch", {"on": True, "hold": 7200})
        await home.advance_to("2026-12-01 18:30")
        await home.post("/api/devices/tv/switch", {"on": False})
    # Back at 19:00: the TV's override (off until 23:30) still holds; the lamp's (until 19:50) too.
    async with Harness(node("2026-12-01 19:00")) as home:
        await home.app.devices.settle()
        assert home.state["devices/tv/on"] is False and home.state["devices/lamp/on"] is True
        assert causes(home, "lamp")[-1] == ("restart", True, "19:00")
        assert (await home.get("/api/devices/tv"))["chips"][0] == "off by hand until 23:30"
        assert len(causes(home, "tv")) == 2  # the events from before the restart, kept
    # Back the next evening: the override is over, the standby slot brings the TV on, killer armed.
    async with Harness(node("2026-12-02 20:00")) as home:
        await home.app.devices.settle()
        tv = await home.get("/api/devices/tv")
        assert tv["state"]["on"] is True and tv["override"] is None
        assert tv["standby"]["armed"] is True and tv["standby"]["threshold_w"] == 8
        assert causes(home, "tv")[-1] == ("restart", True, "20:00")
        plug(home, "tv").press(False)
        await home.advance(minutes=16)  # after the start grace
        assert home.state["devices/tv/on"] is False


async def test_the_autumn_repeated_hour_switches_each_time_and_no_more(node: Build) -> None:
    app = node("2026-10-25 01:30")
    async with Harness(app) as home:
        await home.app.devices.settle()
        week = [[0] * 96 for _ in range(7)]
        week[6][8] = -1  # Sunday 02:00-02:15, a quarter-hour that happens twice that day
        await home.http.put("/api/schedules/fold", json={"week": week})
        async with home.http.patch("/api/devices/lamp", json={"schedule": "fold", "schedule_enabled": True}):
            pass
        await home.advance(hours=3)
        assert [(c, on) for c, on, _ in causes(home, "lamp")] == [
            ("schedule", True),
            ("schedule", False),
            ("schedule", True),
            ("schedule", False),
        ]
