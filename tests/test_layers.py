"""Imports point down: core imports nothing of roost, runtime only core, features never each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "roost"
FEATURES = {"web", "live", "store", "mqtt", "devices", "rules", "auth", "compat"}
ALLOWED = {"core": {"core"}, "runtime": {"core", "runtime"}, **{f: {"core", "runtime", f} for f in FEATURES}}
THIRD_PARTY_IN_CORE = {"orjson"}  # an optional accelerator, with a standard-library fallback
# A raspend program is its own entry point, so RaspendApplication assembles the App itself.
EXCEPTIONS = {("compat/raspend/application.py", "roost.app")}


def roost_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(names)
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_point_down(layer: str) -> None:
    folder = SRC / layer
    for path in folder.rglob("*.py"):
        for name in roost_imports(path):
            parts = name.split(".")
            where = str(path.relative_to(SRC))
            if parts[0] == "roost" and len(parts) > 1 and (where, name) not in EXCEPTIONS:
                assert parts[1] in ALLOWED[layer], f"{where} imports {name}"


@pytest.mark.parametrize(("where", "name"), sorted(EXCEPTIONS))
def test_each_exception_is_still_needed(where: str, name: str) -> None:
    assert name in roost_imports(SRC / where), f"{where} no longer imports {name}: drop the exception"


def test_core_uses_the_standard_library_only() -> None:
    import sys

    for path in (SRC / "core").rglob("*.py"):
        for name in roost_imports(path):
            top = name.split(".")[0]
            assert top == "roost" or top in sys.stdlib_module_names or top in THIRD_PARTY_IN_CORE, (
                f"{path.name} imports {name}"
            )


def test_only_tests_import_the_test_kit() -> None:
    # roost.testing loads programs into Apps; a production module that imported it
    # would drag pytest in.
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).parts[0] == "testing":
            continue
        kit = [n for n in roost_imports(path) if n == "roost.testing" or n.startswith("roost.testing.")]
        assert not kit, f"{path.relative_to(SRC)} imports {kit}"
