"""Imports point down: core imports nothing of roost, runtime only core, features never each other.

And no module imports itself through others: no import cycle anywhere in `src/roost`.
"""

from __future__ import annotations

import ast
import textwrap
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


def modules_under(src: Path) -> dict[str, Path]:
    """Return every module of the package at `src`, by dotted name."""
    found: dict[str, Path] = {}
    for path in src.rglob("*.py"):
        parts = path.relative_to(src.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def module_level_imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the modules `name` imports when it is imported, `if TYPE_CHECKING:` blocks included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    pending: list[ast.stmt] = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                # `from roost.store import routes` imports the module roost.store.routes.
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # if/try/with/class bodies run at import time too; function bodies do not.
            pending.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt))
    return {m for m in found if m in modules and m != name}


def import_cycles(src: Path) -> list[list[str]]:
    """Return every group of modules that import each other (Tarjan's strongly connected components)."""
    modules = modules_under(src)
    graph = {name: sorted(module_level_imports(name, path, modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in graph[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group: list[str] = []
            while name not in group:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(cycles)


def test_no_import_cycles() -> None:
    # Type-only imports count: a cycle they hide today is an ImportError the day
    # someone needs the name at run time, and a sign that a seam is missing.
    cycles = import_cycles(SRC)
    assert not cycles, "modules that import each other: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_sees_type_only_and_relative_imports(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "feature/__init__.py": "from pkg.feature.hub import Hub\n",
        "feature/hub.py": "from pkg.feature import serve\nclass Hub: ...\n",
        "feature/serve.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .hub import Hub\n",
        "other/a.py": "def later():\n    import pkg.other.b\n",
        "other/b.py": "import pkg.other.a\n",
    }
    for name, text in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(textwrap.dedent(text))
    # The function-level import in other/a.py runs later, so a and b form no cycle.
    assert import_cycles(tmp_path / "pkg") == [["pkg.feature.hub", "pkg.feature.serve"]]
