"""Docs and code stay in step: every route is documented, every documented App method exists."""

from __future__ import annotations

import re
from pathlib import Path

from roost import App
from roost.web.server import WebServer

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_route_is_in_the_http_docs(app: App) -> None:
    text = "\n".join(p.read_text() for p in DOCS.glob("*.md"))
    routes = {
        r.resource.canonical
        for r in WebServer(app.hub, app.web_settings).build().router.routes()
        if r.resource is not None and not r.resource.canonical.startswith("/static")
    }
    missing = sorted(
        r for r in routes if f"`{r}`" not in text and f" {r}`" not in text and f"`GET {r}" not in text
    )
    assert not missing, f"routes missing from docs/: {missing}"


def test_app_methods_named_in_the_docs_exist() -> None:
    text = (DOCS / "workers.md").read_text() + (DOCS / "state.md").read_text()
    named = set(re.findall(r"@?app\.(\w+)\(", text))
    assert named, "the docs show no app methods at all"
    assert not {n for n in named if not hasattr(App, n)}
