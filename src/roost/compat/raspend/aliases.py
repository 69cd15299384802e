"""`import raspend` as roost's implementation, installed only by `roost raspend`.

The aliases are plain module objects in `sys.modules` holding raspend 2.x's
public names, under raspend's module names (`raspend`, `raspend.application`,
`raspend.utils.workerthreads`). A finder at the front of `sys.meta_path` turns
an import of any other `raspend.*` module (its internal HTTP server, raspend
1.x's modules) into a clear error instead of a half-working copy. Nothing here
happens on import: a real raspend installed elsewhere is never shadowed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Sequence

import roost.compat.raspend as compat

_PACKAGES = ("raspend", "raspend.utils")
_NAMES: dict[str, tuple[str, ...]] = {
    "raspend": ("RaspendApplication", "ThreadHandlerBase", "ScheduleRepetitionType"),
    "raspend.application": ("RaspendApplication",),
    "raspend.utils": (),
    "raspend.utils.workerthreads": ("ThreadHandlerBase", "ScheduleRepetitionType"),
}


class _Refuse(importlib.abc.MetaPathFinder):
    """Answers every other `raspend.*` import with an explanation."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Raise ModuleNotFoundError for raspend modules roost does not provide."""
        if fullname.startswith("raspend.") and fullname not in _NAMES:
            hint = (
                " (a raspend 1.x module: derive handlers from ThreadHandlerBase as raspend 2.x does)"
                if fullname.rsplit(".", 1)[-1] in ("dataacquisition", "publishing")
                else ""
            )
            raise ModuleNotFoundError(
                f"roost provides raspend 2.x's public API (RaspendApplication, ThreadHandlerBase, "
                f"ScheduleRepetitionType), not its internal module {fullname}{hint}",
                name=fullname,
            )
        return None


def _build() -> dict[str, types.ModuleType]:
    modules: dict[str, types.ModuleType] = {}
    for name, exported in _NAMES.items():
        module = types.ModuleType(name, f"raspend 2.x's API, provided by roost.compat.raspend ({name}).")
        module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=name in _PACKAGES)
        if name in _PACKAGES:
            module.__path__ = []  # a package, so that imports below it reach the finder
        for attr in exported:
            setattr(module, attr, getattr(compat, attr))
        module.__all__ = list(exported)  # type: ignore[attr-defined]
        modules[name] = module
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
    return modules


def install_aliases() -> Callable[[], None]:
    """Make `raspend` importable as roost's implementation; return the function that undoes it."""
    saved = {name: sys.modules[name] for name in list(sys.modules) if name.split(".")[0] == "raspend"}
    for name in saved:
        del sys.modules[name]
    sys.modules.update(_build())
    finder = _Refuse()
    sys.meta_path.insert(0, finder)

    def uninstall() -> None:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n.split(".")[0] == "raspend"]:
            del sys.modules[name]
        sys.modules.update(saved)

    return uninstall
