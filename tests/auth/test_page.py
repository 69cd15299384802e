"""Signing in on the page, in a real headless Chromium against a real node bound to 0.0.0.0 (reached on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from auth_support import PASSWORD, Node, StartNode
from roost.core.caller import Scope
from roost.web.server import PAGE_DIR

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 10_000  # a bound on what must happen, not a performance target

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed")


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh Chromium profile; every request must stay on 127.0.0.1 and the page throw nothing."""
    if not (PAGE_DIR / "index.html").is_file():
        pytest.fail("the page is not built: run `make page`")
    requests: list[str] = []
    errors: list[str] = []
    async with playwright_api.async_playwright() as pw:
        ctx = await pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        ctx.on("request", lambda r: requests.append(r.url))
        ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
        try:
            yield ctx
        finally:
            await ctx.close()
    assert not [u for u in requests if urlsplit(u).hostname != "127.0.0.1"]
    assert not errors, errors


async def signed_in(page: Any, name: str) -> None:
    await expect(page.locator(".auth-user")).to_contain_text(name, timeout=WAIT_MS)
    await expect(page.locator("#conn")).to_have_attribute("data-status", "open", timeout=WAIT_MS)


async def test_first_run_login_sign_out(start_node: StartNode, context: Any) -> None:
    node = await start_node("0.0.0.0")
    code = (node.app.data_dir / "setup-code").read_text().strip()
    page = await context.new_page()
    await page.goto(node.url + "/")
    form = page.locator("#setup-form")
    await expect(form).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#cards")).to_be_hidden()  # nothing behind the gate
    await form.locator("[name=code]").fill("AAAA-BBBB-CCCC-DDDD")
    await form.locator("[name=name]").fill("admin")
    await form.locator("[name=password]").fill(PASSWORD)
    await form.locator("button[type=submit]").click()
    await expect(form.locator(".auth-error")).to_contain_text("wrong set-up code", timeout=WAIT_MS)
    await form.locator("[name=code]").fill(code)
    await form.locator("button[type=submit]").click()
    await signed_in(page, "admin")
    await expect(page.locator("#cards")).to_contain_text("Lamp", timeout=WAIT_MS)

    await page.locator("#sign-out").click()
    login = page.locator("#login-form")
    await expect(login).to_be_visible(timeout=WAIT_MS)
    await login.locator("[name=name]").fill("admin")
    await login.locator("[name=password]").fill("not the password")
    await login.locator("button[type=submit]").click()
    await expect(login.locator(".auth-error")).to_have_text("wrong user name or password", timeout=WAIT_MS)
    await login.locator("[name=password]").fill(PASSWORD)
    await login.locator("button[type=submit]").click()
    await signed_in(page, "admin")

    # The page's own calls carry the session's CSRF token: a command from the form works.
    await page.goto(node.url + "/#commands")
    form = page.locator("form", has_text="switch_lamp").first
    await expect(form).to_be_visible(timeout=WAIT_MS)
    await form.locator("button[type=submit]").click()
    for _ in range(100):
        if node.app.state["lamp"] is False:
            break
        await asyncio.sleep(0.1)
    assert node.app.state["lamp"] is False


async def test_a_read_only_user_sees_controls_disabled_with_the_reason(lan: Node, context: Any) -> None:
    await lan.add_user("viewer", Scope.READ)
    page = await context.new_page()
    await page.goto(lan.url + "/#commands")
    login = page.locator("#login-form")
    await login.locator("[name=name]").fill("viewer")
    await login.locator("[name=password]").fill(PASSWORD)
    await login.locator("button[type=submit]").click()
    await signed_in(page, "viewer")
    await expect(page.locator(".auth-readonly")).to_contain_text("Read-only")
    submit = page.locator("#view-commands button[type=submit]").first
    await expect(submit).to_be_disabled(timeout=WAIT_MS)
    assert "read scope" in (await submit.get_attribute("title") or "")
    await expect(page.locator("#tokens-open")).to_have_count(0)


async def test_an_admin_makes_and_revokes_a_token_in_the_page(lan: Node, context: Any) -> None:
    page = await context.new_page()
    await page.goto(lan.url + "/")
    login = page.locator("#login-form")
    await login.locator("[name=name]").fill("admin")
    await login.locator("[name=password]").fill(PASSWORD)
    await login.locator("button[type=submit]").click()
    await signed_in(page, "admin")
    await page.locator("#tokens-open").click()
    dialog = page.locator("#tokens-dialog")
    await dialog.locator("[name=name]").fill("grafana")
    await dialog.locator("[name=scope]").select_option("read")
    await dialog.locator("button[type=submit]").click()
    secret = await dialog.locator(".auth-token-secret").text_content(timeout=WAIT_MS)
    assert secret and secret.startswith("roost_") and lan.auth.by_token(secret) is not None
    row = dialog.locator("tr", has_text="grafana")
    await expect(row).to_contain_text("read")
    page.on("dialog", lambda d: d.accept())
    await row.locator("button").click()
    await expect(row).to_have_count(0, timeout=WAIT_MS)
    assert lan.auth.by_token(secret) is None
