"""The schedule editor in Chromium: paint by mouse and by touch, save, reload, undo, revert, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from roost import App
from roost.testing import eventually

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000
ON, OFF = -1, 0


def cell(page: Any, day: int, slot: int) -> Any:
    return page.locator(f'.week-grid .wg-cell[data-day="{day}"][data-slot="{slot}"]')


async def open_editor(browser: Any, served: App, name: str, **kw: Any) -> Any:
    page = await browser.open(served.url + f"/#schedules/{name}", **kw)
    await expect(page.locator(f'.sched-editor[data-schedule="{name}"] .week-grid')).to_be_visible(
        timeout=WAIT_MS
    )
    return page


async def drag(page: Any, start: Any, end: Any) -> None:
    """Press the mouse on `start`, move to `end` in steps, release."""
    a, b = await start.bounding_box(), await end.bounding_box()
    await page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    await page.mouse.up()


async def values(page: Any, day: int, slots: range) -> list[str]:
    return [await cell(page, day, s).get_attribute("data-v") for s in slots]


def saved_week(served: App, name: str) -> list[list[float]]:
    return served.devices.schedule_json(name)["week"]  # type: ignore[no-any-return]


async def test_paint_by_mouse_undo_save_reload_and_revert(served: App, browser: Any) -> None:
    page = await open_editor(browser, served, "tv-evenings")
    assert await values(page, 0, range(32, 40)) == ["0"] * 8
    await page.check('.palette input[value="on"]')
    # Monday 08:00 to Tuesday 09:45: a rectangle of two days x eight quarters.
    await drag(page, cell(page, 0, 32), cell(page, 1, 39))
    assert await values(page, 0, range(31, 41)) == ["0", *["-1"] * 8, "0"]
    assert await values(page, 1, range(32, 40)) == ["-1"] * 8
    assert await page.get_attribute(".week-grid", "data-pointer") == "mouse"
    await expect(page.locator(".dirty")).to_be_visible()

    # Undo by key, redo by button, then a second stroke undone by the button.
    await page.keyboard.press("Control+z")
    assert await values(page, 0, range(32, 40)) == ["0"] * 8
    await expect(page.locator(".dirty")).to_be_hidden()
    await page.get_by_role("button", name="Redo", exact=True).click()
    assert await values(page, 1, range(32, 40)) == ["-1"] * 8
    await page.check('.palette input[value="off"]')
    await drag(page, cell(page, 0, 76), cell(page, 0, 79))  # Monday 19:00-20:00 off (was standby)
    assert await values(page, 0, range(76, 80)) == ["0"] * 4
    await page.get_by_role("button", name="Undo", exact=True).click()
    assert await values(page, 0, range(76, 80)) == ["8"] * 4

    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator(".sched-status")).to_contain_text("Saved", timeout=WAIT_MS)
    await expect(page.locator(".dirty")).to_be_hidden()
    week = saved_week(served, "tv-evenings")
    assert week[0][32:40] == [ON] * 8 and week[1][32:40] == [ON] * 8 and week[0][76] == 8
    assert week[2][32] == OFF

    await page.reload()
    await expect(cell(page, 0, 32)).to_have_attribute("data-v", "-1", timeout=WAIT_MS)
    assert await values(page, 1, range(31, 41)) == ["0", *["-1"] * 8, "0"]

    # Revert: a painted draft goes back to what the node has.
    await page.check('.palette input[value="off"]')
    await drag(page, cell(page, 0, 32), cell(page, 0, 35))
    assert await values(page, 0, range(32, 36)) == ["0"] * 4
    await page.get_by_role("button", name="Revert", exact=True).click()
    assert await values(page, 0, range(32, 36)) == ["-1"] * 4
    await expect(page.locator(".dirty")).to_be_hidden()
    assert saved_week(served, "tv-evenings")[0][32:36] == [ON] * 4


async def touch_drag(page: Any, start: Any, end: Any) -> None:
    """A finger on `start`, sliding to `end`, lifted: real touch input through Chromium's DevTools protocol."""
    await start.scroll_into_view_if_needed()
    cdp = await page.context.new_cdp_session(page)
    a, b = await start.bounding_box(), await end.bounding_box()
    x0, y0 = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    x1, y1 = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for i in range(1, 9):
        point = {"x": x0 + (x1 - x0) * i / 8, "y": y0 + (y1 - y0) * i / 8}
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()


async def test_paint_by_touch_on_a_phone_one_day_at_a_time(served: App, browser: Any) -> None:
    page = await open_editor(browser, served, "tv-evenings", width=360, height=780)
    await page.click('.day-tabs button[data-day="1"]')
    await expect(cell(page, 1, 24)).to_be_visible()
    await expect(cell(page, 0, 24)).to_be_hidden()  # one day at a time
    await page.check('.palette input[value="standby"]')
    await page.fill(".palette input.watts", "5")
    # Tuesday 06:00 to 07:45: down the column of quarters, hour by hour.
    await touch_drag(page, cell(page, 1, 24), cell(page, 1, 31))
    assert await page.get_attribute(".week-grid", "data-pointer") == "touch"
    assert await values(page, 1, range(23, 33)) == ["0", *["5"] * 8, "0"]
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator(".sched-status")).to_contain_text("Saved", timeout=WAIT_MS)
    assert saved_week(served, "tv-evenings")[1][24:32] == [5] * 8
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


@pytest.mark.parametrize("watts", ["0", "abc", "-3"])
async def test_bad_standby_watts_show_an_inline_error_and_paint_nothing(
    served: App, browser: Any, watts: str
) -> None:
    before = saved_week(served, "tv-evenings")
    page = await open_editor(browser, served, "tv-evenings")
    await page.check('.palette input[value="standby"]')
    await page.fill(".palette input.watts", watts)
    error = page.locator(".palette .field-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("above 0")
    await expect(page.locator(".palette input.watts")).to_have_attribute("aria-invalid", "true")
    await drag(page, cell(page, 2, 10), cell(page, 2, 20))
    assert await values(page, 2, range(10, 21)) == ["0"] * 11
    await expect(page.locator(".dirty")).to_be_hidden()
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_timeout(300)
    assert saved_week(served, "tv-evenings") == before
    # Fixed, it paints.
    await page.fill(".palette input.watts", "7,5")
    await expect(error).to_be_hidden()
    await drag(page, cell(page, 2, 10), cell(page, 2, 11))
    assert await values(page, 2, range(10, 12)) == ["7.5"] * 2


async def test_a_cell_the_server_refuses_is_named_and_marked_and_nothing_is_saved(
    served: App, browser: Any
) -> None:
    before = saved_week(served, "tv-evenings")
    page = await open_editor(browser, served, "tv-evenings")
    # A value the palette cannot paint, put in the draft as a buggy client would send it.
    await page.evaluate(
        "() => { const e = window.roost.schedules.editor; e.grid.setCell(2, 40, -5); e.commit(); }"
    )
    await page.get_by_role("button", name="Save", exact=True).click()
    status = page.locator(".sched-status")
    await expect(status).to_contain_text("Not saved", timeout=WAIT_MS)
    await expect(status).to_contain_text("Wednesday 10:00")
    await expect(cell(page, 2, 40)).to_have_attribute("aria-invalid", "true")
    assert saved_week(served, "tv-evenings") == before
    await page.keyboard.press("Control+z")
    await expect(cell(page, 2, 40)).to_have_attribute("data-v", "0")


async def test_keyboard_paints_and_copy_day(served: App, browser: Any) -> None:
    page = await open_editor(browser, served, "tv-evenings")
    await page.check('.palette input[value="on"]')
    await cell(page, 0, 0).click()  # paints Monday 00:00 and takes the focus
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Shift+ArrowRight")
    await page.keyboard.press("Shift+ArrowRight")
    assert await values(page, 0, range(0, 4)) == ["-1"] * 4
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Space")
    assert await cell(page, 1, 3).get_attribute("data-v") == "-1"
    await page.select_option(".copy-day select", "0")
    for day in ("Wed", "Thu"):
        await page.check(f'.copy-day input[aria-label="to {"Wednesday" if day == "Wed" else "Thursday"}"]')
    await page.click('.copy-day button:has-text("Copy")')
    assert await values(page, 2, range(0, 4)) == ["-1"] * 4
    assert await values(page, 3, range(72, 74)) == ["8", "8"]
    await page.get_by_role("button", name="Save", exact=True).click()
    await eventually(lambda: saved_week(served, "tv-evenings")[3][0:4] == [ON] * 4)


async def test_create_rules_and_delete(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/#schedules")
    await expect(page.locator('.sched-card[data-schedule="tv-evenings"]')).to_contain_text(
        "Used by TV", timeout=WAIT_MS
    )
    await page.fill("#sched-new-name", "bad name!")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#sched-new-error")).to_contain_text("letters, digits")
    await page.fill("#sched-new-name", "away")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator('.sched-editor[data-schedule="away"]')).to_be_visible(timeout=WAIT_MS)
    assert served.devices.schedule_json("away")["week"][0][0] == OFF

    # A sun rule with a typo, a vacation that ends before it starts: inline errors, nothing saved.
    await page.click('button[data-add="sun"]')
    await page.fill(".rule[data-type=sun] input >> nth=0", "sunsett")
    await expect(page.locator(".rule[data-type=sun] .field-error").first).to_contain_text("sunset-30m")
    await page.click('button[data-add="vacation"]')
    vacation = page.locator(".rule[data-type=vacation]")
    await vacation.locator('input[type="date"]').nth(0).fill("2026-12-24")
    await vacation.locator('input[type="date"]').nth(1).fill("2026-12-20")
    await expect(vacation).to_contain_text("comes before the first")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator(".sched-status")).to_contain_text("rules need fixing")
    assert served.devices.schedule_json("away")["rules"] == []

    await page.fill(".rule[data-type=sun] input >> nth=0", "sunset-30m")
    await vacation.locator('input[type="date"]').nth(1).fill("2027-01-02")
    await vacation.locator("select").select_option("tv-evenings")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator(".sched-status")).to_contain_text("Saved", timeout=WAIT_MS)
    rules = served.devices.schedule_json("away")["rules"]
    assert rules == [
        {"type": "sun", "from": "sunset-30m", "to": "23:00", "value": -1, "days": "daily"},
        {"type": "vacation", "from": "2026-12-24", "to": "2027-01-02", "schedule": "tv-evenings"},
    ]

    # Deleting a schedule in use names its devices; an unused one goes.
    await page.get_by_role("link", name="← All schedules").click()
    tv = page.locator('.sched-card[data-schedule="tv-evenings"]')
    await tv.get_by_role("button", name="Delete tv-evenings").click()
    await tv.get_by_role("button", name="Yes, delete").click()
    await expect(tv.locator(".row-error")).to_contain_text("still used by TV", timeout=WAIT_MS)
    away = page.locator('.sched-card[data-schedule="away"]')
    await away.get_by_role("button", name="Delete away").click()
    await away.get_by_role("button", name="Yes, delete").click()
    await expect(away).to_have_count(0, timeout=WAIT_MS)
    assert "away" not in {s["name"] for s in served.devices.schedules()}


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_editor_fits_passes_axe_and_is_saved_for_review(
    served: App, browser: Any, shot: Any, axe: Any, scheme: str
) -> None:
    findings: dict[str, list[str]] = {}
    for width, name in [(360, "phone"), (1280, "desktop")]:
        page = await open_editor(browser, served, "tv-evenings", width=width, height=900, scheme=scheme)
        await expect(page.locator(".preview-list li").first).to_be_visible(timeout=WAIT_MS)
        await page.click('button[data-add="sun"]')
        overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the editor at {width} px is {overflow} px too wide"
        findings[f"editor {name}"] = await axe(page)
        await shot(page, f"schedule-editor-{name}-{scheme}")
        await page.close()
    assert not any(findings.values()), {k: v for k, v in findings.items() if v}
