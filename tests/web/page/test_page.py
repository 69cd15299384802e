"""What a person sees at http://<pi>:8080/, driven in a real Chromium against a real demo home."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from roost import App

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000  # a bound on what must happen, not a performance target (those say so)
STALE = re.compile(r"\bstale\b")

VIEWS = ["home", "charts", "commands", "health"]
PAGE_BUDGET_BYTES = 150 * 1024


def row(page: Any, path: str) -> Any:
    return page.locator(f'.row[data-path="{path}"]')


async def wait_live(page: Any) -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)
    await expect(page.locator("#cards .card").first).to_be_visible(timeout=WAIT_MS)


async def test_every_view_loads_from_the_node_alone_within_the_size_budget(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/")
    await wait_live(page)
    # Labels and units come from the metadata; values are formatted for their unit.
    living = row(page, "living_room/temperature")
    await expect(living.locator(".unit")).to_have_text("°C")
    await expect(living.locator(".num")).to_have_text(re.compile(r"^-?\d+\.\d$"))
    await expect(row(page, "solar/energy_today_kwh").locator(".label")).to_have_text("Solar today")
    for view in VIEWS:
        await page.click(f'.tabs a[data-view="{view}"]')
        await expect(page.locator(f"#view-{view}")).to_be_visible()
        await expect(page.locator(f'.tabs a[data-view="{view}"]')).to_have_attribute("aria-current", "page")
    await expect(page.locator("#view-health .workers tbody tr")).to_have_count(4, timeout=WAIT_MS)
    await expect(page.locator("#view-charts .chip").first).to_be_attached(timeout=WAIT_MS)

    # Everything the page itself is made of (not the API's answers), as sent over the wire.
    sizes = await page.evaluate(
        """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
            .filter(e => { const p = new URL(e.name).pathname; return p === '/' || p.startsWith('/static/'); })
            .map(e => [new URL(e.name).pathname, e.transferSize, e.decodedBodySize])"""
    )
    assert any(p.endswith(".js") for p, _, _ in sizes) and any(p.endswith(".css") for p, _, _ in sizes)
    transferred = sum(t for _, t, _ in sizes)
    assert transferred < PAGE_BUDGET_BYTES, sizes
    assert transferred < sum(d for _, _, d in sizes) / 2, f"not compressed: {sizes}"
    assert {"/api/meta", "/api/commands", "/healthz"} <= {
        r.split("?")[0].split(served.url)[-1] for r in browser.requests
    }


async def test_a_written_value_is_on_screen_within_two_seconds_and_highlighted(
    served: App, browser: Any
) -> None:
    page = await browser.open(served.url + "/")
    await wait_live(page)
    value = row(page, "living_room/temperature").locator(".num")
    await expect(value).not_to_have_text("")
    start = time.monotonic()
    served.state["living_room/temperature"] = 30.46
    await expect(value).to_have_text("30.5", timeout=2000)
    assert time.monotonic() - start < 2.0
    await expect(row(page, "living_room/temperature")).to_have_attribute("data-changed", re.compile(r"\d+"))

    # A path the page has never seen gets a card of its own, with its metadata.
    served.meta("garage/door_temperature", label="Door sensor", unit="°C", kind="temperature")
    served.state["garage/door_temperature"] = 4.04
    await expect(row(page, "garage/door_temperature").locator(".num")).to_have_text("4.0", timeout=2000)
    await expect(page.locator('.card[data-group="garage"] .card-title')).to_have_text("Garage")
    await expect(row(page, "garage/door_temperature").locator(".label")).to_have_text(
        "Door sensor", timeout=WAIT_MS
    )


async def test_a_reading_not_refreshed_for_its_time_shows_as_stale(served: App, browser: Any) -> None:
    served.meta("cellar/humidity", unit="%", kind="humidity", stale_after_s=2)
    served.state["cellar/humidity"] = 71.0
    page = await browser.open(served.url + "/")
    await wait_live(page)
    cellar = row(page, "cellar/humidity")
    # Written again once the page is up, so that a slow page load on a loaded machine
    # cannot use up the two seconds before the first look.
    served.state["cellar/humidity"] = 71.5
    await expect(cellar).not_to_have_class(STALE)
    await page.wait_for_timeout(2500)
    served.state["living_room/temperature"] = 25.0  # any change re-checks every row
    await expect(cellar).to_have_class(STALE, timeout=WAIT_MS)
    await expect(cellar.locator(".age")).to_contain_text("not updated for")
    served.state["cellar/humidity"] = 72.0
    await expect(cellar).not_to_have_class(STALE, timeout=WAIT_MS)


async def test_switches_call_their_command_and_show_the_confirmed_state(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/")
    await wait_live(page)
    tv = row(page, "plugs/tv/on")
    toggle = tv.locator('[role="switch"]')
    await expect(toggle).to_have_attribute("aria-checked", "false")
    await expect(tv.locator(".power .unit")).to_have_text("W")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
    assert served.state["plugs/tv/on"] is True

    # Keyboard: focus and Space, as on any switch.
    lamp = row(page, "plugs/lamp/on").locator('[role="switch"]')
    await lamp.focus()
    await page.keyboard.press("Space")
    await expect(lamp).to_have_attribute("aria-checked", "false", timeout=WAIT_MS)
    assert served.state["plugs/lamp/on"] is False

    # Always on: locked, with its reason, and a click changes nothing.
    fridge = row(page, "plugs/fridge/on")
    await expect(fridge.locator(".lock-note")).to_have_text("always on")
    await expect(fridge.locator('[role="switch"]')).to_have_attribute("aria-disabled", "true")
    await fridge.locator('[role="switch"]').click(force=True)  # force: it says it is disabled
    await page.wait_for_timeout(300)
    assert served.state["plugs/fridge/on"] is True
    await expect(fridge.locator('[role="switch"]')).to_have_attribute("aria-checked", "true")


async def test_a_switch_shows_what_the_device_confirms_not_the_click(served: App, browser: Any) -> None:
    presses: list[bool] = []
    served.state.update("garage", {"door_open": False, "door_lock": False})
    served.meta(
        "garage/door_open",
        kind="switch",
        label="Garage door",
        command="press_garage",
        command_args={"door": "main"},
        lock="garage/door_lock",
    )

    @served.command
    def press_garage(door: str, on: bool) -> bool:
        """The motor is broken: the door reports it stayed where it was."""
        presses.append(on)
        return bool(served.state["garage/door_open"])

    page = await browser.open(served.url + "/")
    await wait_live(page)
    toggle = row(page, "garage/door_open").locator('[role="switch"]')
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    assert presses == [True]
    await expect(toggle).to_have_attribute("aria-checked", "false")

    # A lock whose value is a string shows that string as the reason.
    served.state["garage/door_lock"] = "car inside"
    await expect(row(page, "garage/door_open").locator(".lock-note")).to_have_text(
        "car inside", timeout=WAIT_MS
    )
    await expect(toggle).to_have_attribute("aria-disabled", "true")


async def test_command_forms_show_results_and_name_the_bad_argument(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/#commands")
    form = page.locator('form[data-command="set_target"]')
    await expect(form.locator(".doc")).to_have_text("Set a room's target temperature.", timeout=WAIT_MS)
    await form.locator('input[name="room"]').fill("kitchen")
    await form.locator('input[name="target"]').fill("21.5")
    await form.locator('input[name="boost"]').check()
    await form.locator('button[type="submit"]').click()
    output = form.locator("output")
    await expect(output).to_have_text("kitchen heats to 21.5 °C now", timeout=WAIT_MS)
    assert served.state["kitchen/target"] == 21.5

    await form.locator('input[name="target"]').fill("warm")
    await form.locator('input[name="target"]').press("Enter")
    await expect(output).to_have_attribute("data-state", "error", timeout=WAIT_MS)
    await expect(output).to_contain_text("argument 'target'")
    await expect(form.locator('input[name="target"]')).to_have_attribute("aria-invalid", "true")
    await expect(form.locator(".field-error:visible")).to_contain_text("expected a number, got 'warm'")

    doorbell = page.locator('form[data-command="ring_doorbell"]')
    await doorbell.locator('button[type="submit"]').click()
    await expect(doorbell.locator("output")).to_have_text(
        "ding dong: someone is at the door", timeout=WAIT_MS
    )


@pytest.mark.parametrize(("typed", "sent"), [("21,5", 21.5), ("-0,25", -0.25), (" 19,0 ", 19.0)])
async def test_a_float_field_takes_a_decimal_comma(
    served: App, browser: Any, typed: str, sent: float
) -> None:
    # What a European phone keyboard's decimal key types.
    page = await browser.open(served.url + "/#commands")
    form = page.locator('form[data-command="set_target"]')
    await form.locator('input[name="room"]').fill("kitchen")
    await form.locator('input[name="target"]').fill(typed)
    await form.locator('button[type="submit"]').click()
    await expect(form.locator("output")).to_have_text(f"kitchen heats to {sent:g} °C", timeout=WAIT_MS)
    assert served.state["kitchen/target"] == sent


async def test_home_names_a_failing_worker_until_it_recovers(
    served: App, browser: Any, shot: Callable[[Any, str], Awaitable[Path]]
) -> None:
    broken = [True]

    @served.every(0.2, name="cellar_probe")
    def cellar_probe() -> None:
        if broken[0]:
            raise OSError("1-Wire bus gone")

    page = await browser.open(served.url + "/#home")
    notice = page.locator("#failing")
    await expect(notice).to_be_visible(timeout=WAIT_MS)
    await expect(notice.locator('[data-worker="cellar_probe"]')).to_contain_text("OSError: 1-Wire bus gone")
    await expect(notice.locator('a[href="#health"]')).to_be_visible()
    await shot(page, "home-failing")
    broken[0] = False
    await expect(notice).to_be_hidden(timeout=WAIT_MS)


async def test_a_stuck_worker_is_named_on_home_and_marked_stuck_under_health(
    served: App, browser: Any
) -> None:
    release = threading.Event()

    @served.every(0.2, name="hung_probe")
    def hung_probe() -> None:
        release.wait(30)  # a read with no timeout, until the test lets it go

    try:
        page = await browser.open(served.url + "/#home")
        notice = page.locator("#failing")
        await expect(notice.locator('[data-worker="hung_probe"]')).to_contain_text(
            "is stuck", timeout=WAIT_MS
        )
        await page.click('.tabs a[data-view="health"]')
        row = page.locator('#view-health tr[data-worker="hung_probe"]')
        await expect(row.locator(".badge")).to_have_text("stuck", timeout=WAIT_MS)
        await expect(page.locator('#view-health [data-component="commands"]')).to_be_visible()
    finally:
        release.set()
    await expect(row.locator(".badge")).not_to_have_text("stuck", timeout=WAIT_MS)


async def test_home_names_a_failing_consumer(served: App, browser: Any) -> None:
    def cellar_log(changes: Any) -> None:
        raise OSError("disk full")

    served.hub.consume("cellar_log", cellar_log)
    served.state["cellar/t"] = 11.5
    page = await browser.open(served.url + "/#home")
    entry = page.locator('#failing [data-consumer="cellar_log"]')
    await expect(entry).to_contain_text("OSError: disk full", timeout=WAIT_MS)


async def test_a_command_that_raises_shows_what_it_raised(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/#commands")
    form = page.locator('form[data-command="read_probe"]')
    await form.locator('button[type="submit"]').click()
    output = form.locator("output")
    await expect(output).to_have_attribute("data-state", "error", timeout=WAIT_MS)
    await expect(output).to_contain_text("OSError: 1-Wire bus gone")
    assert "Traceback" not in await output.inner_text()


async def test_the_page_reconnects_by_itself_after_the_server_restarts(
    app: App, browser: Any, make_demo: Callable[[], App]
) -> None:
    await app.start(host="127.0.0.1", port=0)
    port = app.port
    restarted: App | None = None
    try:
        page = await browser.open(app.url + "/")
        await wait_live(page)
        await page.evaluate("() => { window.notReloaded = true; }")
        await app.stop()
        await expect(page.locator("#conn")).to_have_attribute("data-status", "waiting", timeout=WAIT_MS)
        await expect(page.locator("#conn")).to_contain_text("Offline")

        restarted = make_demo()
        restarted.state["test/marker"] = "second run"
        await restarted.start(host="127.0.0.1", port=port)
        await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS * 3)
        await expect(row(page, "test/marker").locator(".num")).to_have_text("second run", timeout=WAIT_MS)
        restarted.state["test/marker"] = "live again"
        await expect(row(page, "test/marker").locator(".num")).to_have_text("live again", timeout=2000)
        assert await page.evaluate("() => window.notReloaded") is True
    finally:
        if restarted is not None:
            await restarted.stop()
        else:
            await app.stop()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_phone_and_desktop_layouts_fit_and_are_saved_for_review(
    served: App, browser: Any, shot: Any, scheme: str
) -> None:
    for width, name in [(360, "phone"), (1280, "desktop")]:
        page = await browser.open(served.url + "/", width=width, height=780, scheme=scheme)
        await wait_live(page)
        for view in VIEWS:
            await page.click(f'.tabs a[data-view="{view}"]')
            await expect(page.locator(f"#view-{view}")).to_be_visible()
            await page.wait_for_timeout(400)  # the health poll, the commands' listing, the chart
            overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{view} at {width} px is {overflow} px too wide"
            await shot(page, f"{view}-{name}-{scheme}")
        await page.close()


CHARTED = ["living_room/temperature", "outside/temperature", "solar/power_w"]


@pytest.fixture
def year_of_history(tmp_path: Path) -> Path:
    """A year of 3 series, one sample per 30 min, imported with `roost history import`; the data dir."""
    data = tmp_path / "data"
    csv_path = tmp_path / "year.csv"
    end = int(time.time()) // 1800 * 1800
    with csv_path.open("w") as f:
        for t in range(end - 366 * 86400, end, 1800):
            day = math.sin(t / 86400 * 2 * math.pi)
            f.write(f"{CHARTED[0]},{t},{21 + day:.2f}\n{CHARTED[1]},{t},{8 + 6 * day:.2f}\n")
            f.write(f"{CHARTED[2]},{t},{max(0.0, 3000 * day):.1f}\n")
    subprocess.run(
        [sys.executable, "-m", "roost", "history", "import", "--data-dir", str(data), str(csv_path)],
        check=True,
        capture_output=True,
    )
    return data


async def test_a_year_of_history_draws_and_zooming_fetches_a_finer_tier(
    year_of_history: Path, make_demo: Callable[[], App], browser: Any, shot: Any
) -> None:
    app = make_demo()
    app.hub.data_dir = year_of_history
    await app.start(host="127.0.0.1", port=0)
    try:
        await browser.context.add_init_script(
            f"localStorage.setItem('roost.charts', JSON.stringify({{paths: {CHARTED}, range: '1y'}}))"
        )
        page = await browser.open(app.url + "/#charts")
        view = page.locator("#view-charts")
        await expect(view).to_have_attribute("data-rendered", "1", timeout=WAIT_MS)
        charts = page.locator(".chart")
        await expect(charts).to_have_count(2)  # °C and W
        await expect(charts.locator("canvas")).to_have_count(2)
        celsius = page.locator('.chart[data-unit="°C"]')
        await expect(celsius).to_have_attribute("data-resolution", "3600")
        assert int(await celsius.get_attribute("data-points") or 0) >= 2 * 8760  # two series, hourly
        await expect(celsius.locator(".legend-item")).to_have_count(2)
        await shot(page, "year-chart-desktop")

        # Drag across a few days of the °C chart: the narrower window is fetched again, finer.
        over = celsius.locator(".u-over")
        box = await over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        await page.mouse.move(box["x"] + box["width"] * 0.50, y)
        await page.mouse.down()
        await page.mouse.move(box["x"] + box["width"] * 0.51, y, steps=5)
        await page.mouse.up()
        await expect(view).to_have_attribute("data-fetches", "2", timeout=WAIT_MS)
        await expect(celsius).not_to_have_attribute("data-resolution", "3600", timeout=WAIT_MS)
        assert int(await celsius.get_attribute("data-resolution") or 3600) < 3600
        await expect(page.get_by_role("button", name="Reset zoom")).to_be_visible()

        # Back to the last 24 hours, which follow the present: a live value extends the line.
        await page.click('.seg[data-range="24h"]')
        await expect(view).to_have_attribute("data-fetches", "3", timeout=WAIT_MS)
        before = int(await celsius.get_attribute("data-points") or 0)
        app.state["living_room/temperature"] = 23.4
        await expect(celsius).to_have_attribute("data-points", str(before + 1), timeout=WAIT_MS)
        await expect(celsius.locator(".legend-value").first).to_have_text("23.4 °C")
    finally:
        await app.stop()
