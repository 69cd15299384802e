"""Alerts in the page, in Chromium: the banner on every view, the Alerts view, rules and channels."""

from __future__ import annotations

from typing import Any

import pytest

from roost import App

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000


async def wait_live(page: Any) -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)


async def test_the_banner_follows_alerts_firing_in_the_state_tree_on_every_view(
    served: App, browser: Any, axe: Any
) -> None:
    page = await browser.open(served.url + "/#health", width=360)
    await wait_live(page)
    banner = page.locator("#alert-banner")
    await expect(banner).to_be_hidden()
    # What the engine writes when an alert fires (ALERTS.md): the page needs nothing else.
    served.state["alerts/firing"] = [{"id": 7, "label": "Boiler flow too hot", "severity": "critical"}]
    await expect(banner).to_be_visible(timeout=WAIT_MS)
    item = banner.locator('a[data-alert="7"]')
    await expect(item).to_have_text("criticalBoiler flow too hot")
    await expect(banner).to_contain_text("1 alert firing")
    await expect(page.locator('.tabs a[data-view="alerts"] .tab-count')).to_have_text("1 firing")
    # Announced once, interrupting, because it is critical; a warning waits its turn.
    await expect(page.locator("#alert-announce-urgent")).to_have_text("critical alert: Boiler flow too hot")
    served.state["alerts/firing"] = [
        {"id": 7, "label": "Boiler flow too hot", "severity": "critical"},
        {"id": 8, "label": "Cellar damp", "severity": "warning"},
    ]
    await expect(page.locator("#alert-announce")).to_have_text("warning alert: Cellar damp", timeout=WAIT_MS)
    await expect(page.locator("#alert-announce-urgent")).to_have_text("critical alert: Boiler flow too hot")
    assert not await axe(page)
    for view in ["home", "charts", "commands"]:
        await page.click(f'.tabs a[data-view="{view}"]')
        await expect(page.locator(f"#view-{view}")).to_be_visible()
        await expect(banner.locator("a[data-alert]")).to_have_count(2)
    # Tap: the Alerts view, with that alert asked for in the address.
    await item.click()
    await expect(page.locator("#view-alerts")).to_be_visible()
    assert page.url.endswith("#alerts/7")
    served.state["alerts/firing"] = []
    await expect(banner).to_be_hidden(timeout=WAIT_MS)
    await expect(page.locator('.tabs a[data-view="alerts"] .tab-count')).to_be_hidden()


async def test_the_banner_shows_three_and_counts_the_rest(served: App, browser: Any) -> None:
    served.state["alerts/firing"] = [
        {"id": i, "label": f"Alert {i}", "severity": "critical" if i == 5 else "info"} for i in range(1, 6)
    ]
    page = await browser.open(served.url + "/")
    banner = page.locator("#alert-banner")
    await expect(banner).to_be_visible(timeout=WAIT_MS)
    # The most severe first, whatever the order in the tree.
    await expect(banner.locator("a[data-alert]").first).to_have_attribute("data-alert", "5")
    await expect(banner.locator("a[data-alert]")).to_have_count(2)
    await expect(banner.locator(".alert-banner-more")).to_have_text("3 more")
    await expect(banner).to_have_attribute("data-severity", "critical")
