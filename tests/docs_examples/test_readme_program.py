"""Testing the README's program (docs/testing.md walks through this file)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roost.testing import Harness, Kit

HOME = Path(__file__).with_name("home.py")  # the program of the README, as it is


@pytest.fixture
async def home(roost_kit: Kit) -> AsyncIterator[Harness]:
    # Saturday 28 November 2026, 06:00 in Berlin; the fake clock moves only when told.
    harness = roost_kit.load(HOME, at="2026-11-28 06:00", timezone="Europe/Berlin")
    harness.module.read_w1 = lambda sensor: 17.8  # no 1-Wire bus here: replace the sensor read
    async with harness:
        yield harness


async def test_the_blinds_open_at_07_30_on_monday_and_not_on_saturday(home: Harness) -> None:
    await home.advance_to("2026-11-28 12:00")  # Saturday morning passes
    assert "bedroom/blinds" not in home.state
    await home.advance_to("2026-11-30 07:29:59")  # Monday, a second before
    assert "bedroom/blinds" not in home.state
    await home.advance(seconds=1)
    assert home.state["bedroom/blinds"] == "open"


async def test_the_basement_is_read_at_start_and_every_minute(home: Harness) -> None:
    assert home.state["basement/party_room"] == 17.8
    await home.advance(minutes=10)
    assert home.runs("basement") == 11


async def test_a_command_changes_the_state(home: Harness) -> None:
    assert await home.call("switch_doorbell", on=True) == "on"
    assert home.state["doorbell/enabled"] is True


async def test_its_http_api_and_live_push_answer(home: Harness) -> None:
    assert await home.command("switch_doorbell", on=False) == "off"  # POST /api/commands/...
    assert await home.get("/api/state/doorbell") == {"enabled": False}
    live = await home.live("doorbell/**")  # a WebSocket on /api/live
    await home.call("switch_doorbell", on=True)
    await live.wait_for(lambda state: state["doorbell"]["enabled"] is True)
