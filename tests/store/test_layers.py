"""History's imports point down: store/ uses core and runtime only; its core modules use the stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "roost"


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted((SRC / "store").glob("*.py")), ids=lambda p: p.name)
def test_store_imports_only_core_runtime_and_itself(module: Path) -> None:
    roost = {n for n in imported(module) if n.split(".")[0] == "roost"}
    assert all(n.startswith(("roost.core", "roost.runtime", "roost.store")) for n in roost), roost


@pytest.mark.parametrize("module", ["rollup.py", "timespec.py"])
def test_history_arithmetic_is_pure(module: Path) -> None:
    for name in imported(SRC / "core" / str(module)):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name.startswith("roost.core"), name
        assert top not in {"sqlite3", "asyncio", "threading", "socket"}, name
