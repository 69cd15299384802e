"""The web page in a real headless Chromium against a real demo home on a free port.

Every test's browser context records each request the page makes; after the
test, every one must have gone to the server on 127.0.0.1 (nothing from a CDN,
no fonts, no telemetry), and the page must have thrown no uncaught error.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from roost import App
from roost.demo import build_demo
from roost.web.server import PAGE_DIR

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 10_000
ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
# axe-core, the accessibility checker: an npm devDependency of frontend/ (make page installs it).
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed")


@pytest.fixture(autouse=True)
def page_is_built() -> None:
    """The page must be built (make page): a missing build is a failure, not a skip."""
    if not (PAGE_DIR / "index.html").is_file():
        pytest.fail("the page is not built: run `make page` (make test does it first)")


def add_test_commands(app: App) -> None:
    """A command with a number argument, to see the form's inline 422."""

    @app.command
    def set_target(room: str, target: float, boost: bool = False) -> str:
        """Set a room's target temperature."""
        app.state[f"{room}/target"] = target
        return f"{room} heats to {target:g} °C{' now' if boost else ''}"

    @app.command
    def read_probe() -> float:
        """Read the cellar's probe (its bus is gone)."""
        raise OSError("1-Wire bus gone")


@pytest.fixture
def make_demo(tmp_path: Path) -> Callable[[], App]:
    """`make_demo()`: the demo home (as `roost demo` runs it) plus a test command, data in tmp."""

    def make() -> App:
        demo = build_demo("demo")
        demo.hub.data_dir = tmp_path / "data"
        add_test_commands(demo)
        return demo

    return make


@pytest.fixture
def app(make_demo: Callable[[], App]) -> App:
    """A demo home, not yet started."""
    return make_demo()


@dataclass
class Browser:
    """A Chromium context, the requests its pages made, and the errors they threw."""

    context: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def open(
        self, url: str, width: int = 1280, height: int = 900, scheme: str = "light"
    ) -> Any:  # a playwright Page
        page = await self.context.new_page()
        await page.set_viewport_size({"width": width, "height": height})
        await page.emulate_media(color_scheme=scheme)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        await page.goto(url)
        return page


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    """A fresh Chromium profile; after the test, every request must have stayed on 127.0.0.1."""
    async with playwright_api.async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        b = Browser(context)
        context.on("request", lambda r: b.requests.append(r.url))
        try:
            yield b
        finally:
            await context.close()
    outside = [u for u in b.requests if urlsplit(u).hostname != "127.0.0.1" and not u.startswith("data:")]
    assert b.requests, "the page made no request at all"
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not b.errors, f"uncaught errors in the page: {b.errors}"


@pytest.fixture
def axe() -> Callable[[Any], Awaitable[list[str]]]:
    """`await axe(page)`: axe-core's serious and critical findings on the page as it is, as text."""
    if not AXE.is_file():
        pytest.fail("axe-core is not installed: run `make page` (it runs npm ci in frontend/)")
    source = AXE.read_text()

    async def check(page: Any) -> list[str]:
        # Injected as inline script content: nothing is fetched, and the page's own code is untouched.
        if not await page.evaluate("() => typeof window.axe === 'object'"):
            await page.add_script_tag(content=source)
        violations = await page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id} (${v.impact}): ${v.help} -- ` +
                    v.nodes.slice(0, 4).map(n => n.target.join(' ') + ': ' + n.failureSummary.replace(/\\s+/g, ' ')).join(' | '))"""
        )
        return [str(v) for v in violations]

    return check


@pytest.fixture
def shot() -> Callable[[Any, str], Awaitable[Path]]:
    """`await shot(page, name)`: a full-page screenshot into test-artifacts/ for a reviewer."""

    async def take(page: Any, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"page-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
