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

# In the order a person reaches them: Rules and Channels are sections of the Alerts tab.
VIEWS = ["home", "devices", "schedules", "charts", "commands", "health", "alerts", "rules", "channels"]
PAGE_BUDGET_BYTES = 150 * 1024


async def open_view(page: Any, view: str) -> None:
    """Click the view's link: its tab, or its section's link under a tab (Alerts > Rules)."""
    await page.click(f'nav a[data-view="{view}"]:visible')
    await expect(page.locator(f"#view-{view}")).to_be_visible()
    # Alerts is current twice: as the tab, and as the first of its sections.
    await expect(page.locator(f'nav a[data-view="{view}"][aria-current="page"]').first).to_be_visible()


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
        await open_view(page, view)
    # The demo's workers: rooms, boiler, inverter (the devices poll in their own component).
    await expect(page.locator("#view-health .workers tbody tr")).to_have_count(3, timeout=WAIT_MS)
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
    # The demo's TV and lamp follow schedules: hold them where this test starts, whatever the hour.
    await served.devices.settle()
    await served.devices.switch("tv", False, 3600)
    await served.devices.switch("lamp", True, 3600)
    page = await browser.open(served.url + "/")
    await wait_live(page)
    tv = row(page, "devices/tv/on")
    toggle = tv.locator('[role="switch"]')
    await expect(toggle).to_have_attribute("aria-checked", "false")
    await expect(tv.locator(".power .unit")).to_have_text("W")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
    assert served.state["devices/tv/on"] is True

    # Keyboard: focus and Space, as on any switch.
    lamp = row(page, "devices/lamp/on").locator('[role="switch"]')
    await lamp.focus()
    await page.keyboard.press("Space")
    await expect(lamp).to_have_attribute("aria-checked", "false", timeout=WAIT_MS)
    assert served.state["devices/lamp/on"] is False

    # Always on: locked, with its reason, and a click changes nothing.
    fridge = row(page, "devices/fridge/on")
    await expect(fridge.locator(".lock-note")).to_have_text("always on")
    await expect(fridge.locator('[role="switch"]')).to_have_attribute("aria-disabled", "true")
    await fridge.locator('[role="switch"]').click(force=True)  # force: it says it is disabled
    await page.wait_for_timeout(300)
    assert served.state["devices/fridge/on"] is True
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


HOME = Path(__file__).resolve().parents[2] / "docs_examples" / "home.py"  # the README's program, as it is


def readme_program(data_dir: Path) -> App:
    """The README's own program, built but not run."""
    source = HOME.read_text().replace("app.run()", "")
    namespace: dict[str, Any] = {}
    exec(compile(source, str(HOME), "exec"), namespace)  # our own README's program
    app = namespace["app"]
    assert isinstance(app, App)
    app.hub.data_dir = data_dir
    return app


async def test_the_readme_program_shows_a_switch_for_its_boolean_command(
    tmp_path: Path, browser: Any
) -> None:
    app = readme_program(tmp_path / "data")
    await app.start(host="127.0.0.1", port=0)
    try:
        page = await browser.open(app.url + "/")
        await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)
        # switch_doorbell(on: bool) and doorbell/enabled: a toggle, with no app.meta at all.
        toggle = row(page, "doorbell/enabled").locator('[role="switch"]')
        await expect(toggle).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-checked", "false", timeout=WAIT_MS)
        assert app.state["doorbell/enabled"] is False
    finally:
        await app.stop()


async def test_a_boolean_command_pairs_only_with_a_boolean_path_of_its_name(
    served: App, browser: Any
) -> None:
    served.state.update("pump", {"enabled": "yes", "on": False})  # a string is no switch state
    served.state["heater"] = False

    @served.command
    def set_pump(on: bool, speed: int = 1) -> None:
        """Optional arguments keep their defaults."""
        served.state["pump/on"] = on

    @served.command
    def heater(on: bool, room: str) -> None:
        """A second required argument: no switch, the page cannot know the room."""

    page = await browser.open(served.url + "/")
    await wait_live(page)
    pump = row(page, "pump/on").locator('[role="switch"]')
    await expect(pump).to_have_attribute("aria-checked", "false", timeout=WAIT_MS)
    await pump.click()
    await expect(pump).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
    await expect(row(page, "pump/enabled").locator(".num")).to_have_text("yes")
    await expect(row(page, "heater").locator(".num")).to_have_text("no")
    await expect(row(page, "heater").locator('[role="switch"]')).to_have_count(0)


async def test_texts_are_set_to_fit_and_times_read_as_times(served: App, browser: Any) -> None:
    served.state.update("raspend", {"Starting Time": "Tue Dec  1 05:52:07 2026", "who": "someone"})
    served.state["porch/since"] = "2026-12-01T05:52:07+00:00"
    page = await browser.open(served.url + "/", width=360)
    await wait_live(page)
    started = row(page, "raspend/Starting Time").locator(".num")
    await expect(started).not_to_contain_text("Tue", timeout=WAIT_MS)
    await expect(started).to_have_text(re.compile(r"\d"))
    await expect(started).to_have_attribute("title", "Tue Dec  1 05:52:07 2026")
    await expect(row(page, "porch/since").locator(".value")).to_have_class(re.compile(r"\bwhen\b"))

    async def size(locator: Any) -> float:
        return float(await locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))

    number = await size(row(page, "living_room/temperature").locator(".value"))
    for path in ["raspend/Starting Time", "raspend/who", "porch/since"]:
        value = row(page, path).locator(".value")
        assert await size(value) < number, path
        height = await value.evaluate("e => e.getBoundingClientRect().height")
        assert height < 3 * await size(value) * 1.3, f"{path} takes {height} px"


async def test_a_tap_on_a_value_opens_its_history(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/")
    await wait_live(page)
    await row(page, "outside/temperature").locator("a.value").click()
    await expect(page).to_have_url(re.compile(r"#charts/outside/temperature$"))
    await expect(page.locator("#view-charts")).to_be_visible()
    await expect(page.locator('.chip[aria-pressed="true"]')).to_have_count(1, timeout=WAIT_MS)
    await expect(page.locator('.chip[aria-pressed="true"]')).to_have_attribute(
        "data-path", "outside/temperature"
    )
    await expect(page.locator(".chart")).to_have_count(1)
    await page.go_back()
    await expect(page.locator("#view-home")).to_be_visible()


async def test_home_is_grouped_ordered_and_shows_icons_by_kind(served: App, browser: Any) -> None:
    served.meta("kitchen/temperature", group="Downstairs", order=1)
    served.meta("living_room/temperature", group="Downstairs", order=1)
    page = await browser.open(served.url + "/")
    await wait_live(page)
    first = page.locator("#cards > .card").first
    await expect(first).to_have_attribute("data-group", "Downstairs", timeout=WAIT_MS)
    await expect(first.locator(".row")).to_have_count(2)
    await expect(first.locator(".card-title")).to_have_text("Downstairs")
    # Then the card with switches, then the single readings.
    await expect(page.locator("#cards > .card").nth(1)).to_have_attribute("data-group", "devices")
    await expect(row(page, "boiler/flow_temperature").locator(".kind-icon")).to_have_count(1)


async def test_health_says_when_each_worker_runs_next(served: App, browser: Any) -> None:
    page = await browser.open(served.url + "/#health")
    cells = page.locator('#view-health tbody td[data-label="Next run"]')
    await expect(cells).to_have_count(3, timeout=WAIT_MS)
    for text in await cells.all_inner_texts():
        assert re.fullmatch(r"in \d+ (s|min)|due now|after this run", text), text


WIDTHS = [(360, "phone"), (1280, "desktop")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_view_fits_passes_axe_and_is_saved_for_review(
    served: App, browser: Any, shot: Any, axe: Any, scheme: str
) -> None:
    served.state["raspend/Starting Time"] = "Tue Dec  1 05:52:07 2026"  # a text value, as raspend writes
    findings: dict[str, list[str]] = {}
    for width, name in WIDTHS:
        page = await browser.open(served.url + "/", width=width, height=780, scheme=scheme)
        await wait_live(page)
        for view in VIEWS:
            await open_view(page, view)
            await page.wait_for_timeout(400)  # the health poll, the commands' listing, the chart
            overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{view} at {width} px is {overflow} px too wide"
            findings[f"{view} {name}"] = await axe(page)
            await shot(page, f"{view}-{name}-{scheme}")
        await page.close()
    assert not any(findings.values()), {k: v for k, v in findings.items() if v}


async def tab_through(page: Any) -> list[str]:
    """Press Tab through the page; return the controls a pointer could use that Tab never reached."""
    count = await page.evaluate(
        """() => {
            const all = [...document.querySelectorAll('a[href], button, input, select, textarea, summary')]
                .filter(e => !e.disabled && e.getClientRects().length && !e.closest('[hidden]'));
            all.forEach((e, i) => { e.dataset.kb = String(i); });
            return all.length;
        }"""
    )
    reached: set[str] = set()
    for _ in range(count + 3):
        await page.keyboard.press("Tab")
        kb = await page.evaluate("() => document.activeElement?.dataset?.kb ?? null")
        if kb is not None:
            reached.add(kb)
    return await page.evaluate(
        """(reached) => [...document.querySelectorAll('[data-kb]')]
            .filter(e => !reached.includes(e.dataset.kb))
            .map(e => e.outerHTML.slice(0, 120))""",
        sorted(reached),
    )


@pytest.mark.parametrize("view", VIEWS)
async def test_every_control_is_reachable_by_keyboard(served: App, browser: Any, view: str) -> None:
    page = await browser.open(served.url + f"/#{view}")
    await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)
    await page.wait_for_timeout(800)  # the listing, the health poll, the chart
    assert await tab_through(page) == []


async def test_offline_switches_and_forms_are_disabled_with_the_reason(
    app: App, browser: Any, shot: Any, axe: Any
) -> None:
    await app.start(host="127.0.0.1", port=0)
    pages: list[tuple[Any, str]] = []
    try:
        for scheme in ["light", "dark"]:
            for width, name in WIDTHS:
                page = await browser.open(app.url + "/", width=width, height=780, scheme=scheme)
                await wait_live(page)
                pages.append((page, f"{name}-{scheme}"))
        toggle = row(pages[0][0], "devices/tv/on").locator('[role="switch"]')
        await expect(toggle).to_be_enabled()
        await expect(pages[0][0].locator("#offline-note")).to_be_hidden()
    finally:
        await app.stop()
    for page, name in pages:
        await expect(page.locator("#conn")).to_have_attribute("data-status", "waiting", timeout=WAIT_MS)
        note = page.locator("#offline-note")
        await expect(note).to_be_visible()
        await expect(note).to_contain_text("until the connection is back")
        toggle = row(page, "devices/tv/on").locator('[role="switch"]')
        await expect(toggle).to_be_disabled()
        await expect(toggle).to_have_attribute("aria-describedby", re.compile(r"\boffline-note\b"))
        assert not await axe(page), name
        await shot(page, f"offline-home-{name}")
    page = pages[0][0]
    await page.click('.tabs a[data-view="commands"]')
    form = page.locator('form[data-command="switch_device"]')
    await expect(form.locator('button[type="submit"]')).to_be_disabled(timeout=WAIT_MS)
    await expect(form.locator(".offline-reason")).to_be_visible()
    await shot(page, "offline-commands-phone-light")


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
        # A year as daily highs and lows (a band) with the mean as the line, not 8,760 hourly bars.
        await expect(celsius).to_have_attribute("data-resolution", "86400")
        assert 2 * 360 <= int(await celsius.get_attribute("data-points") or 0) <= 2 * 367
        await expect(celsius.locator(".legend-item")).to_have_count(2)
        await expect(celsius.locator(".chart-info")).to_have_text("last year · daily mean and range")
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
        await expect(celsius).not_to_have_attribute("data-resolution", "86400", timeout=WAIT_MS)
        assert int(await celsius.get_attribute("data-resolution") or 86400) < 86400
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_day_and_year_charts_pass_axe_and_are_saved_for_review(
    year_of_history: Path, make_demo: Callable[[], App], browser: Any, shot: Any, axe: Any, scheme: str
) -> None:
    app = make_demo()
    app.hub.data_dir = year_of_history
    await app.start(host="127.0.0.1", port=0)
    try:
        await browser.context.add_init_script(
            f"localStorage.setItem('roost.charts', JSON.stringify({{paths: {[*CHARTED, 'boiler/burner']}, range: '1y'}}))"
        )
        findings: dict[str, list[str]] = {}
        for width, name in WIDTHS:
            page = await browser.open(app.url + "/#charts", width=width, height=900, scheme=scheme)
            view = page.locator("#view-charts")
            await expect(view).to_have_attribute("data-rendered", "1", timeout=WAIT_MS)
            await expect(page.locator(".chart")).to_have_count(3)  # °C, W, on/off
            overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"charts at {width} px are {overflow} px too wide"
            findings[f"year {name}"] = await axe(page)
            await shot(page, f"charts-year-{name}-{scheme}")
            await page.click('.seg[data-range="24h"]')
            await expect(view).to_have_attribute("data-rendered", "2", timeout=WAIT_MS)
            await expect(page.locator('.chart[data-unit="°C"] .chart-info')).to_contain_text("last 24 h")
            findings[f"day {name}"] = await axe(page)
            await shot(page, f"charts-day-{name}-{scheme}")
            # A day a year ago: the burner was not recorded then. Its legend says so instead of staying blank.
            await page.click('.seg[data-range="1y"]')
            # Pan only once the year is drawn: a click during its fetch would replace that fetch.
            await expect(view).to_have_attribute("data-rendered", "3", timeout=WAIT_MS)
            await page.click('button[aria-label="Earlier"]')
            await expect(view).to_have_attribute("data-rendered", "4", timeout=WAIT_MS)
            await expect(page.locator('.empty-series[data-path="boiler/burner"]')).to_contain_text(
                "nothing recorded in this range"
            )
            await page.close()
        assert not any(findings.values()), {k: v for k, v in findings.items() if v}
    finally:
        await app.stop()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_api_reference_renders_filters_and_passes_axe(
    served: App, browser: Any, shot: Any, axe: Any, scheme: str
) -> None:
    page = await browser.open(served.url + "/api/docs", scheme=scheme)
    ops = page.locator("details.op")
    await expect(ops.first).to_be_visible(timeout=WAIT_MS)
    assert await ops.count() >= 10
    # Commands are routes too, with their argument schema.
    command = page.locator("details.op", has_text="/api/commands/set_target")
    await command.locator("summary").click()
    await expect(command).to_contain_text("target")
    await page.fill("#filter", "history")
    visible = page.locator("details.op:visible")
    await expect(visible.first).to_contain_text("/api/history")
    assert all("history" in t.lower() for t in await visible.all_inner_texts())
    assert not await axe(page)
    await shot(page, f"api-docs-desktop-{scheme}")
