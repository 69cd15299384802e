"""The Devices view's "found N plugs on the broker": a simulated Tasmota plug added and switched in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mqtt_support import Broker
from plug_sims import SimTasmota
from roost import App
from roost.testing import eventually

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def app(make_demo: Callable[[], App], broker: Broker) -> App:
    """The demo home on the test's broker."""
    demo = make_demo()
    demo.enable_mqtt(broker.url)
    return demo


@pytest.fixture
async def kettle(broker: Broker) -> AsyncIterator[SimTasmota]:
    sim = SimTasmota(broker, "tasmota_A1B2C3", power_w=1800.0)
    await sim.start()
    yield sim
    await sim.stop()


async def test_a_found_plug_is_added_from_the_devices_view_and_switches(
    served: App, kettle: SimTasmota, browser: Any, shot: Any, axe: Any
) -> None:
    assert served.mqtt is not None
    await eventually(lambda: served.mqtt_plugs.found(), 10)
    page = await browser.open(served.url + "/#devices")
    found = page.locator(".found-plugs")
    await expect(found.locator(".card-title")).to_have_text("Found 1 plug on the broker", timeout=WAIT_MS)
    await expect(found.locator(".found-name")).to_have_text("Tasmota tasmota_A1B2C3")
    assert not await axe(page)
    await shot(page, "found-plugs-desktop")
    dark = await browser.open(served.url + "/#devices", scheme="dark")
    await expect(dark.locator(".found-plugs")).to_be_visible(timeout=WAIT_MS)
    await shot(dark, "found-plugs-desktop-dark")
    for scheme in ("light", "dark"):
        phone = await browser.open(served.url + "/#devices", width=360, height=780, scheme=scheme)
        await expect(phone.locator(".found-plugs")).to_be_visible(timeout=WAIT_MS)
        await shot(phone, f"found-plugs-phone-{scheme}")

    await found.get_by_label("Tasmota tasmota_A1B2C3").fill("Kettle")
    await found.get_by_role("button", name="Add").click()
    await expect(found).to_be_hidden(timeout=WAIT_MS)  # nothing left to add
    card = page.locator('.device-card[data-device="kettle"]')
    await expect(card.locator(".device-name")).to_have_text("Kettle", timeout=WAIT_MS)
    await card.locator('[role="switch"]').click()
    await expect(card.locator('[role="switch"]')).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
    assert kettle.relay is True and kettle.commands[-1] == ("cmnd/tasmota_A1B2C3/POWER", b"ON", False)
    assert served.devices.describe("kettle")["driver"] == {"type": "tasmota", "topic": "tasmota_A1B2C3"}
