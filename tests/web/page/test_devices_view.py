"""The Devices view in Chromium: a card per device with the confirmed switch, lock, chips, schedule toggle."""

from __future__ import annotations

from typing import Any

import pytest

from roost import App

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000


def card(page: Any, device_id: str) -> Any:
    return page.locator(f'.device-card[data-device="{device_id}"]')


async def test_device_cards_switch_lock_and_schedule(served: App, browser: Any, shot: Any, axe: Any) -> None:
    await served.devices.settle()
    await served.devices.switch("lamp", False, 3600)  # where the test starts, whatever the hour
    page = await browser.open(served.url + "/#devices")
    lamp, fridge, tv = card(page, "lamp"), card(page, "fridge"), card(page, "tv")
    await expect(lamp).to_have_attribute("data-category", "light", timeout=WAIT_MS)
    await expect(lamp.locator(".device-name")).to_have_text("Floor lamp")
    await expect(lamp.locator(".chip").first).to_contain_text("off by hand")
    toggle = lamp.locator('[role="switch"]')
    await expect(toggle).to_have_attribute("aria-checked", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
    assert served.state["devices/lamp/on"] is True
    assert served.devices.events("lamp")[0]["cause"] == "caller"

    # Always on: the lock shows, and a click switches nothing off.
    await expect(fridge.locator(".lock-note")).to_be_visible()
    await fridge.locator('[role="switch"]').click(force=True)  # force: it says it is disabled
    await page.wait_for_timeout(300)
    assert served.state["devices/fridge/on"] is True

    # The schedule toggle: the TV's schedule off, and the setting says so.
    schedule = tv.locator('input[type="checkbox"]')
    await expect(schedule).to_be_checked()
    await expect(tv.locator(".schedule-label")).to_have_text("schedule tv-evenings")
    await schedule.uncheck()
    await expect(schedule).not_to_be_checked()
    await page.wait_for_timeout(300)
    assert (served.devices.describe("tv"))["schedule_enabled"] is False
    assert not await axe(page)
    await shot(page, "devices-desktop")
    phone = await browser.open(served.url + "/#devices", width=360, height=780)
    await expect(card(phone, "tv")).to_be_visible(timeout=WAIT_MS)
    await shot(phone, "devices-phone")
