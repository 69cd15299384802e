"""compat imports roost.core and roost.runtime only, plus the one assembly import in application.py."""

from __future__ import annotations

import ast
from pathlib import Path

import roost.compat

COMPAT = Path(roost.compat.__file__).parent
ALLOWED = ("roost.core", "roost.runtime", "roost.compat")
# A raspend program is its own entry point: RaspendApplication assembles the node.
EXCEPTION = ("application.py", "roost.app")


def roost_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("roost"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("roost"):
            found.add(node.module)
    return found


def test_compat_imports_point_down() -> None:
    offenders = {}
    for path in sorted(COMPAT.rglob("*.py")):
        bad = {m for m in roost_imports(path) if not m.startswith(ALLOWED) and (path.name, m) != EXCEPTION}
        if bad:
            offenders[str(path.relative_to(COMPAT))] = sorted(bad)
    assert offenders == {}


def test_the_one_exception_is_still_needed() -> None:
    # If application.py stops importing roost.app, drop the exception above.
    assert "roost.app" in roost_imports(COMPAT / "raspend" / "application.py")
