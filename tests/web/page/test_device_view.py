"""One device's view in Chromium, in the page alone: switch with a hold, why it switched, settings, restart.

Also adding a device from the Devices view and removing it again, and the
view's look at phone and desktop width, light and dark (axe, screenshots).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from roost import App
from roost.devices import SimulatedPlug

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000


async def open_tv(page: Any) -> Any:
    """From the Devices view, open the TV's own view by its name; return the view."""
    await page.locator('.device-card[data-device="tv"] a.device-name').click()
    view = page.locator('.device-view[data-device="tv"]')
    await expect(view.locator(".device-view-name")).to_have_text("TV", timeout=WAIT_MS)
    return view


async def test_switch_see_why_edit_and_find_it_all_after_a_restart(
    make_demo: Callable[[], App], browser: Any, axe: Any
) -> None:
    app = make_demo()
    await app.start(host="127.0.0.1", port=0)
    try:
        await app.devices.settle()
        page = await browser.open(app.url + "/#devices")
        view = await open_tv(page)
        toggle = view.locator('[role="switch"]')
        was = await toggle.get_attribute("aria-checked")
        now = "false" if was == "true" else "true"
        await view.locator("select.hold").select_option("3600")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-checked", now, timeout=WAIT_MS)
        assert app.state["devices/tv/on"] is (now == "true")
        first = view.locator(".events .event").first
        await expect(first).to_have_attribute("data-cause", "caller", timeout=WAIT_MS)
        await expect(first.locator(".event-cause")).to_have_text("by hand")
        await expect(first.locator(".event-text")).to_contain_text("held until")
        await expect(view.locator(".device-chips .chip").first).to_contain_text("by hand until")

        # A bad value: marked inline, nothing saved; then a good one is saved.
        hold = view.locator('input[name="standby_hold_s"]')
        await hold.fill("-5")
        await view.locator('form button[type="submit"]').click()
        await expect(hold).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
        await expect(view.locator("#device-tv-standby_hold_s-error")).to_contain_text(
            "standby_hold_s must be"
        )
        assert app.devices.describe("tv")["standby_hold_s"] == 60
        await hold.fill("90")
        await view.locator('input[name="location"]').fill("Den")
        await view.locator('form button[type="submit"]').click()
        await expect(view.locator("form output")).to_have_text("Saved.", timeout=WAIT_MS)
        await expect(hold).not_to_have_attribute("aria-invalid", "true")
        assert (app.devices.describe("tv")["standby_hold_s"], app.devices.describe("tv")["location"]) == (
            90,
            "Den",
        )
        assert not await axe(page)
    finally:
        await app.stop()

    # The same data directory, a new process's node: everything is where it was.
    again = make_demo()
    await again.start(host="127.0.0.1", port=0)
    try:
        await again.devices.settle()
        page = await browser.open(again.url + "/#devices/tv")
        view = page.locator('.device-view[data-device="tv"]')
        await expect(view.locator('input[name="standby_hold_s"]')).to_have_value("90", timeout=WAIT_MS)
        await expect(view.locator('input[name="location"]')).to_have_value("Den")
        await expect(view.locator('[role="switch"]')).to_have_attribute("aria-checked", now, timeout=WAIT_MS)
        await expect(view.locator('.events .event[data-cause="caller"]').first).to_contain_text("held until")
        await expect(view.locator(".device-chips .chip").first).to_contain_text("by hand until")
    finally:
        await again.stop()


async def test_add_a_device_then_remove_it(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/#devices")
    add = page.locator("details.add-device")
    await add.locator("summary").click()
    await add.locator('input[name="name"]').fill("Hall light")
    await add.locator('select[name="category"]').select_option("light")
    await expect(add.locator('select[name="driver"] option[value="simulated"]')).to_be_attached(
        timeout=WAIT_MS
    )
    await add.locator('select[name="driver"]').select_option("simulated")
    on_w = add.locator("#add-device-driver-on_w")
    await expect(on_w).to_be_visible(timeout=WAIT_MS)  # the simulated driver's fields
    await on_w.fill("lots")
    await add.locator('button[type="submit"]').click()
    await expect(on_w).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
    await expect(add.locator("#add-device-driver-on_w-error")).to_contain_text("number")
    assert "hall-light" not in served.devices.ids()

    await on_w.fill("12")
    await add.locator('button[type="submit"]').click()
    view = page.locator('.device-view[data-device="hall-light"]')
    await expect(view.locator(".device-view-name")).to_have_text("Hall light", timeout=WAIT_MS)
    driver = served.devices.describe("hall-light")["driver"]
    assert (driver["type"], driver["on_w"]) == ("simulated", 12.0)
    await view.locator('[role="switch"]').click()
    await expect(view.locator('[role="switch"]')).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)

    await view.locator('button[data-action="remove"]').click()
    await expect(view.locator(".confirm")).to_contain_text("Remove Hall light for good?")
    await view.locator('button[data-action="confirm-remove"]').click()
    await expect(page.locator('.device-card[data-device="tv"]')).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator('.device-card[data-device="hall-light"]')).to_have_count(0)
    assert "hall-light" not in served.devices.ids() and "hall-light" not in served.state["devices"]


async def test_a_device_of_the_program_says_where_to_remove_it(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/#devices/fridge")
    view = page.locator('.device-view[data-device="fridge"]')
    await expect(view.locator(".device-remove")).to_contain_text(
        "declared in the node's program", timeout=WAIT_MS
    )
    await expect(view.locator('button[data-action="remove"]')).to_have_count(0)
    # Always on: the lock says so once, and no chip repeats it.
    await expect(view.locator(".lock-note")).to_be_visible()
    await expect(view.locator(".device-chips")).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_device_view_fits_passes_axe_and_is_saved_for_review(
    served: App, browser: Any, shot: Any, axe: Any, scheme: str
) -> None:
    await served.devices.settle()
    await served.devices.switch("tv", True, 3600)
    findings: dict[str, list[str]] = {}
    for width, name in [(360, "phone"), (1280, "desktop")]:
        page = await browser.open(served.url + "/#devices/tv", width=width, height=780, scheme=scheme)
        view = page.locator('.device-view[data-device="tv"]')
        await expect(view.locator(".events .event").first).to_be_visible(timeout=WAIT_MS)
        await expect(view.locator(".device-chart .plot canvas")).to_be_attached(timeout=WAIT_MS)
        overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the device view at {width} px is {overflow} px too wide"
        findings[f"{name} {scheme}"] = await axe(page)
        await shot(page, f"device-{name}-{scheme}")
        await page.goto(served.url + "/#devices")
        await page.locator("details.add-device summary").click()
        await expect(page.locator("#add-device-driver-hint")).not_to_be_empty(timeout=WAIT_MS)
        findings[f"add {name} {scheme}"] = await axe(page)
        await shot(page, f"devices-add-{name}-{scheme}")
    assert not any(findings.values()), {k: v for k, v in findings.items() if v}


async def test_a_standby_slot_painted_in_the_editor_and_the_killer_cutting_the_tv(
    make_demo: Callable[[], App], browser: Any
) -> None:
    app = make_demo()
    app.devices.poll_s = 0.5  # readings twice a second: the killer's short hold is watched closely
    await app.start(host="127.0.0.1", port=0)
    try:
        await app.devices.settle()
        # Short killer settings, in the device view.
        page = await browser.open(app.url + "/#devices/tv")
        view = page.locator('.device-view[data-device="tv"]')
        await view.locator('input[name="standby_hold_s"]').fill("1", timeout=WAIT_MS)
        await view.locator('input[name="start_grace_s"]').fill("0")
        await view.locator('form button[type="submit"]').click()
        await expect(view.locator("form output")).to_have_text("Saved.", timeout=WAIT_MS)

        # In the editor: this hour of every day a standby slot at 8 W, saved.
        now = datetime.now(app.hub.tz)
        slot = (now.hour * 60 + now.minute) // 15
        await page.goto(app.url + "/#schedules/tv-evenings")
        await expect(page.locator(".week-grid")).to_be_visible(timeout=WAIT_MS)
        await page.check('.palette input[value="standby"]')
        await page.fill(".palette input.watts", "8")
        await drag(page, grid_cell(page, 0, max(slot - 1, 0)), grid_cell(page, 6, min(slot + 3, 95)))
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.locator(".sched-status")).to_contain_text("Saved", timeout=WAIT_MS)

        # The schedule switches the TV on; its remote sends it to standby; the killer cuts it.
        await page.goto(app.url + "/#devices/tv")
        toggle = view.locator('[role="switch"]')
        await expect(toggle).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
        await expect(view.locator(".device-chips")).to_contain_text("standby killer armed (< 8 W)")
        driver = app.devices._devices["tv"].driver
        assert isinstance(driver, SimulatedPlug)
        driver.press(False)
        await expect(toggle).to_have_attribute("aria-checked", "false", timeout=WAIT_MS)
        first = view.locator(".events .event").first
        await expect(first).to_have_attribute("data-cause", "standby_killer", timeout=WAIT_MS)
        await expect(first.locator(".event-cause")).to_have_text("standby killer")
        await expect(first.locator(".event-text")).to_contain_text("below 8 W")
        await expect(view.locator('.events .event[data-cause="schedule"]').first).to_be_visible()
    finally:
        await app.stop()


def grid_cell(page: Any, day: int, slot: int) -> Any:
    return page.locator(f'.week-grid .wg-cell[data-day="{day}"][data-slot="{slot}"]')


async def drag(page: Any, start: Any, end: Any) -> None:
    """Press the mouse on `start`, move to `end` in steps, release (a stroke of the editor's brush)."""
    a, b = await start.bounding_box(), await end.bounding_box()
    await page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    await page.mouse.up()
