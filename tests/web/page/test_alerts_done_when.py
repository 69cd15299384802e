"""Issue 13's done-when in Chromium, in the page alone: an e-mail channel (its test message at a local
SMTP server), a "flow temperature above 80 °C for 2 min" rule with inline checks, a hovering value that
sends one alert, the banner, snooze, acknowledge, and the history; on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from notify_support import SmtpSink, make_app, smtp_server
from roost.testing import Harness, eventually

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Harness]:
    app = make_app(tmp_path / "data")  # a fake clock, which the page learns from the Date header
    app.meta("boiler/flow", label="Boiler flow", unit="°C", kind="temperature")
    app.state["boiler/flow"] = 70.0
    async with Harness(app) as harness:
        yield harness


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


async def set_value(node: Harness, value: float, after_s: float) -> None:
    node.state["boiler/flow"] = value
    await node.advance(after_s)


async def test_an_email_channel_and_a_rule_made_in_the_page_tell_a_person_once(
    node: Harness,
    smtp: SmtpSink,
    browser: Any,
    axe: Callable[[Any], Awaitable[list[str]]],
    shot: Callable[[Any, str], Awaitable[Path]],
) -> None:
    page = await browser.open(node.url + "/#channels/new", width=1280)
    await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)

    # The channel, and its test message.
    await page.fill("#channel-name", "email")
    await page.fill("#channel-url", smtp.url())
    await page.click("text=Add channel")
    card = page.locator('[data-channel="email"]')
    await expect(card).to_be_visible(timeout=WAIT_MS)
    await expect(card.locator(".channel-url")).to_contain_text("****")
    await card.locator('[data-action="test"]').click()
    await expect(card.locator(".result")).to_contain_text("Sent", timeout=WAIT_MS)
    await eventually(lambda: len(smtp.mails) == 1)

    # The rule: the page's own checks first, then the server's 422 at its field; nothing saved.
    await page.goto(node.url + "/#rules/new")
    editor = page.locator("form.rule-editor")
    await expect(editor).to_be_visible(timeout=WAIT_MS)
    await page.fill("#rule-name", "boiler-hot")
    await page.fill("#rule-label", "Boiler flow too hot")
    await page.fill("#rule-path", "boiler/flow")
    await expect(page.locator("#rule-path-hint")).to_contain_text("Boiler flow")
    await page.fill("#rule-threshold", "hot")
    await page.fill("#rule-for_s", "2 min")
    await page.click("text=Create rule")
    await expect(page.locator("#rule-threshold-error")).to_be_visible()
    await expect(page.locator("#rule-threshold")).to_have_attribute("aria-invalid", "true")
    await page.fill("#rule-threshold", "80")
    await page.fill("#rule-hysteresis", "5")
    await expect(page.locator("#rule-hysteresis-hint")).to_contain_text("Clears below 75")
    await page.fill("#rule-path", "alerts/firing")  # only the node knows it may not watch this
    await page.click("text=Create rule")
    await expect(page.locator("#rule-path-error")).to_contain_text("alerts", timeout=WAIT_MS)
    assert "boiler-hot" not in [r["name"] for r in node.app.alerts.describe_rules()]
    await page.fill("#rule-path", "boiler/flow")
    await page.check("#rule-channels-email")
    assert not await axe(page)
    await shot(page, "rule-editor-1280")
    await page.click("text=Create rule")
    await expect(page.locator('[data-rule="boiler-hot"]')).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator('[data-rule="boiler-hot"]')).to_contain_text("boiler/flow above 80 for 2 min")
    rule = node.app.alerts.describe_rule("boiler-hot")
    assert rule["channels"] == ["page", "email"] and rule["for_s"] == 120 and rule["hysteresis"] == 5

    # A value hovering at 80 °C: one alert, one e-mail.
    banner = page.locator("#alert-banner")
    for value in [81.0, 79.5, 80.5, 82.0, 79.0, 83.4, 81.0, 80.2, 81.5]:
        await set_value(node, value, 30)
    await expect(banner).to_be_visible(timeout=WAIT_MS)
    await expect(banner).to_contain_text("Boiler flow too hot")
    await eventually(lambda: len(smtp.mails) == 2)
    assert str(smtp.mails[1]["Subject"]).startswith("[FIRING] Boiler flow too hot")
    assert "above 80 °C for 2 min" in smtp.bodies()[1]

    # The banner leads to the alert; snooze, then acknowledge.
    await banner.locator("a[data-alert]").first.click()
    alert = page.locator(".alert-card").first
    await expect(alert).to_have_attribute("data-state", "firing", timeout=WAIT_MS)
    await expect(alert.locator(".alert-value")).to_contain_text("°C")
    await alert.locator('[data-action="snooze"]').click()
    await alert.locator('[data-snooze="15"]').click()
    await expect(alert.locator(".alert-facts")).to_contain_text("Snoozed", timeout=WAIT_MS)
    await expect(banner).to_be_hidden(timeout=WAIT_MS)
    assert not await axe(page)
    await page.set_viewport_size({"width": 360, "height": 800})
    await shot(page, "alerts-firing-360")
    await alert.locator('[data-action="ack"]').click()
    await expect(alert).to_have_attribute("data-state", "acknowledged", timeout=WAIT_MS)
    await expect(alert.locator(".alert-facts")).to_contain_text("Acknowledged")

    # Back to normal: resolved, in the history, and one last e-mail.
    await node.advance(300)
    await set_value(node, 70.0, 1)
    history = page.locator(".alert-history .alert-past").first
    await expect(history).to_contain_text("resolved", timeout=WAIT_MS)
    await expect(history).to_contain_text("acknowledged by")
    await expect(page.locator(".alert-list")).to_contain_text("No active alerts")
    await eventually(lambda: len(smtp.mails) == 3)
    assert str(smtp.mails[2]["Subject"]).startswith("[RESOLVED] Boiler flow too hot")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await shot(page, "alerts-history-1280")
