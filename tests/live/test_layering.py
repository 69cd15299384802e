"""roost.live meets the rest of roost only through core and runtime (STYLE.md, section 1)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import roost.live

LIVE = Path(roost.live.__file__).parent
ALLOWED_ROOST = ("roost.core", "roost.runtime", "roost.live")
ALLOWED_OTHERS = {"aiohttp"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_live_imports_only_core_runtime_aiohttp_and_the_standard_library() -> None:
    offending = {}
    for path in sorted(LIVE.glob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if name.startswith("roost"):
                ok = name.startswith(ALLOWED_ROOST)
            else:
                ok = top in ALLOWED_OTHERS or top in sys.stdlib_module_names or top == "__future__"
            if not ok:
                offending.setdefault(path.name, []).append(name)
    assert offending == {}
