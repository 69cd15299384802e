"""Docs and code stay in step: every route is documented, every documented App method exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from roost import App
from roost.compat.raspend.application import RaspendApplication
from roost.demo import build_demo
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


# -- what the docs name exists: the demo's commands, the app's routes, the source folders --------

ROOT = DOCS.parent
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
_COMMAND_NAMED = [
    r"/api/commands/([A-Za-z_]\w*)",
    r'"command":\s*"(\w+)"',
    r"""\.call(?:_threadsafe)?\(\s*["'](\w+)["']""",
    r'[(\s]command="(\w+)"',  # app.meta(..., command="x"), not a metric's {command="x"}
]
_ROUTE_NAMED = [
    r"\b(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) (/[^\s`'\"?#)]*)",
    r"`(/(?:api|healthz|metrics|static|data|cmds?)\b[^\s`'\"?#)]*)",
    r"(?:https?://)?\b(?:localhost|127\.0\.0\.1)(?::\d+)?(/[^\s`'\"?#)]*)",
]


def _route_patterns(app: App) -> list[re.Pattern[str]]:
    patterns = []
    for route in WebServer(app.hub, app.web_settings).build().router.routes():
        if route.resource is None:
            continue
        canonical = route.resource.canonical
        # A static folder serves everything under it; a `{name}` is any non-empty part.
        tail = "(/.+)?" if canonical == "/static" else ""
        patterns.append(re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(canonical)) + tail + "$"))
    return patterns


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_named_in_the_docs_exist(page: Path) -> None:
    # An example calls a command of the demo, or one that the same page or the README's program defines.
    text = page.read_text()
    known = {spec.name for spec in build_demo().hub.commands.specs()}
    defined = text + (ROOT / "README.md").read_text()
    named = {name for pattern in _COMMAND_NAMED for name in re.findall(pattern, text)}
    missing = sorted(n for n in named if n not in known and not re.search(rf"\bdef {n}\(", defined))
    assert not missing, f"{page.name} names commands the demo lacks: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_routes_named_in_the_docs_exist(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page.read_text()
    patterns = _route_patterns(build_demo())
    if page.name in ("raspend.md", "README.md", "security.md"):  # these speak of raspend's routes too
        monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path))
        patterns += _route_patterns(RaspendApplication(0).app)
    named = {path for pattern in _ROUTE_NAMED for path in re.findall(pattern, text)}
    # Placeholders as docs write them: /api/commands/{name}, /static/dist/<name>, /api/...
    named = {re.sub(r"\{[^}]*\}|<[^>]*>", "x", p.rstrip(".,:;")) for p in named if not p.endswith("/...")}
    missing = sorted(p for p in named if not any(r.match(p) for r in patterns))
    assert not missing, f"{page.name} names routes the app does not serve: {missing}"


def test_source_folders_named_in_the_architecture_exist() -> None:
    layout = (DOCS / "architecture.md").read_text().split("```")[1]
    named = set(re.findall(r"(?<![\w./])([a-z_]+)/(?=\s)", layout))
    folders = {p.name for p in (ROOT / "src" / "roost").rglob("*") if p.is_dir()} | {"src", "frontend"}
    missing = sorted(named - folders)
    assert not missing, f"docs/architecture.md names folders that do not exist: {missing}"


def test_the_docs_do_not_point_outside_the_repository() -> None:
    # DESIGN.md is the team's, outside this repository: a reader of the docs cannot open it.
    pointing = [p.name for p in PAGES if "DESIGN.md" in p.read_text()]
    assert not pointing, f"these pages refer to DESIGN.md, which is not in the repository: {pointing}"
