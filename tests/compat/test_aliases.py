"""`import raspend` resolves to roost's implementation only where `roost raspend` installs it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest

import roost.compat.raspend as compat
from roost.compat.raspend.aliases import install_aliases


@pytest.fixture
def aliases() -> Iterator[None]:
    uninstall = install_aliases()
    yield
    uninstall()


@pytest.mark.usefixtures("aliases")
def test_raspend_2_imports_resolve_to_roost() -> None:
    import raspend.utils.workerthreads
    from raspend import RaspendApplication, ScheduleRepetitionType, ThreadHandlerBase
    from raspend.application import RaspendApplication as FromApplication
    from raspend.utils.workerthreads import ScheduleRepetitionType as FromWorkerThreads

    assert RaspendApplication is FromApplication is compat.RaspendApplication
    assert ThreadHandlerBase is compat.ThreadHandlerBase
    assert ScheduleRepetitionType is FromWorkerThreads is compat.ScheduleRepetitionType
    assert raspend.utils.workerthreads.ThreadHandlerBase is compat.ThreadHandlerBase


@pytest.mark.usefixtures("aliases")
@pytest.mark.parametrize(
    ("module", "hint"),
    [("raspend.http", "internal module"), ("raspend.utils.dataacquisition", "raspend 1.x")],
)
def test_other_raspend_modules_fail_with_an_explanation(module: str, hint: str) -> None:
    with pytest.raises(ModuleNotFoundError, match=hint):
        importlib.import_module(module)


def test_nothing_is_aliased_without_install() -> None:
    uninstall = install_aliases()
    uninstall()
    assert "raspend" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("raspend")


def test_the_roost_modules_keep_their_own_names() -> None:
    uninstall = install_aliases()
    try:
        importlib.import_module("raspend")
    finally:
        uninstall()
    assert compat.__name__ == "roost.compat.raspend"
    assert compat.__spec__ is not None and compat.__spec__.name == "roost.compat.raspend"
