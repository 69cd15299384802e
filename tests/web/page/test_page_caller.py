"""The page marks its own calls: a switch flipped in Chromium reaches command listeners as `page`."""

from __future__ import annotations

from typing import Any

import pytest

from roost import App
from roost.runtime.commands import CallRecord

expect = pytest.importorskip("playwright.async_api").expect

WAIT_MS = 10_000


async def test_a_switch_flipped_in_the_page_is_called_by_the_page(served: App, browser: Any) -> None:
    records: list[CallRecord] = []
    served.hub.commands.listen(records.append)
    page = await browser.open(served.url + "/")
    await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)
    toggle = page.locator('.row[data-path="devices/tv/on"] [role="switch"]')
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
    (record,) = records
    assert (record.outcome, record.caller.transport, record.caller.address) == ("ok", "page", "127.0.0.1")
