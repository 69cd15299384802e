"""Command names as raspend forms them, its looser signatures, and its /cmds listing."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import pytest

from roost.compat.raspend.commands import command_name, describe, registrable
from roost.core.commands import build_spec, check_arguments
from roost.core.errors import InvalidArguments


class DoorBell:
    def switchDoorBell(self, onoff):  # type: ignore[no-untyped-def]
        return onoff

    def ring(self, times: int = 1, visitor: str = "someone") -> str:
        return f"{visitor} x{times}"

    def register_itself(self) -> str:
        return command_name(self.ring, sys._getframe(0))


def name_here(callback: Any) -> str:
    """Name `callback` as addCommand would, called from this function's caller."""
    return command_name(callback, sys._getframe(1))


def test_name_is_the_variable_that_holds_the_object() -> None:
    theDoorBell = DoorBell()
    assert name_here(theDoorBell.switchDoorBell) == "theDoorBell.switchDoorBell"


def test_outer_frames_are_searched_innermost_first() -> None:
    outer_bell = DoorBell()

    def helper(bell: DoorBell) -> str:
        return name_here(bell.ring)

    def anonymous() -> str:
        return name_here(outer_bell.ring)

    assert helper(outer_bell) == "bell.ring"
    assert anonymous() == "outer_bell.ring"


def test_module_level_code_finds_its_globals() -> None:
    # A program that calls addCommand at module level: that frame's locals are its globals.
    namespace = {"DoorBell": DoorBell, "name_here": name_here}
    exec("theBell = DoorBell()\nname = name_here(theBell.ring)", namespace)
    assert namespace["name"] == "theBell.ring"


def test_a_method_registering_itself_is_named_self() -> None:
    assert DoorBell().register_itself() == "self.ring"


def test_without_a_variable_the_qualified_name_is_used() -> None:
    name = name_here(DoorBell().ring)  # outside assert: pytest keeps its temporaries in locals
    assert name == "DoorBell.ring"


def test_a_plain_function_is_named_by_its_qualified_name() -> None:
    # raspend failed on plain functions (no __self__); roost accepts them.
    def toggle(on: bool) -> bool:
        return on

    assert name_here(toggle) == "test_a_plain_function_is_named_by_its_qualified_name.<locals>.toggle"


def test_an_equal_but_different_object_does_not_lend_its_name() -> None:
    class Always(DoorBell):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    decoy = Always()  # noqa: F841 - found first by raspend's == comparison
    target = Always()
    assert name_here(target.ring) == "target.ring"


def test_listing_has_raspends_shape_with_type_names() -> None:
    bell = DoorBell()
    untyped = describe(build_spec(bell.switchDoorBell, "bell.switchDoorBell"))
    typed = describe(build_spec(bell.ring, "bell.ring"))
    assert untyped == {
        "Command": {
            "Name": "bell.switchDoorBell",
            "Args": {"onoff": ""},
            "URL": "/cmd?name=bell.switchDoorBell&onoff=",
        }
    }
    assert typed["Command"]["Args"] == {"times": "int", "visitor": "str"}


class Loose:
    def log(self, *args, level: int = 1):  # type: ignore[no-untyped-def]
        return level

    def at(self, when: datetime, note: str = ""):  # type: ignore[no-untyped-def]
        return when

    def later(self, thing: UndefinedName, count: int = 0):  # type: ignore[name-defined]  # noqa: F821
        return thing, count


def test_star_args_are_dropped_and_the_rest_stays_checked() -> None:
    spec = build_spec(registrable(Loose().log), "loose.log")
    assert [p.name for p in spec.params] == ["level"]
    with pytest.raises(InvalidArguments):
        check_arguments(spec, {"level": "high"})
    assert spec.func(**check_arguments(spec, {"level": "2"})) == 2


@pytest.mark.parametrize(("method", "loose_arg"), [("at", "when"), ("later", "thing")])
def test_uncheckable_annotations_take_any_json(method: str, loose_arg: str, caplog: Any) -> None:
    spec = build_spec(registrable(getattr(Loose(), method)), f"loose.{method}")
    params = {p.name: p.type for p in spec.params}
    assert params[loose_arg] == "any"
    assert params[next(n for n in params if n != loose_arg)] in ("str", "int")
    assert loose_arg in caplog.text


def test_checkable_methods_are_registered_as_they_are() -> None:
    bell = DoorBell()
    assert registrable(bell.ring) == bell.ring
