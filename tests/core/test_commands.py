"""Argument checking from type hints: conversion of strings, strict JSON types, clear 422s."""

from __future__ import annotations

import enum
from typing import Any, Literal

import pytest

from roost.core.commands import build_spec, check_arguments
from roost.core.errors import InvalidArguments


class Mode(enum.Enum):
    ECO = "eco"
    BOOST = "boost"


def heat(
    room: str, target: float, on: bool = True, mode: Mode = Mode.ECO, level: Literal[1, 2, 3] = 1
) -> str:
    """Heat a room."""
    return room


SPEC = build_spec(heat)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"room": "a", "target": 21}, {"room": "a", "target": 21.0}),
        ({"room": "a", "target": "21.5", "on": "false"}, {"room": "a", "target": 21.5, "on": False}),
        ({"room": "a", "target": 1, "mode": "boost"}, {"room": "a", "target": 1.0, "mode": Mode.BOOST}),
        ({"room": "a", "target": 1, "mode": "BOOST"}, {"room": "a", "target": 1.0, "mode": Mode.BOOST}),
        ({"room": "a", "target": 1, "level": "3"}, {"room": "a", "target": 1.0, "level": 3}),
    ],
)
def test_arguments_are_converted(args: dict[str, Any], expected: dict[str, Any]) -> None:
    assert check_arguments(SPEC, args) == expected


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        ({"target": 1}, "room"),
        ({"room": "a", "target": "warm"}, "target"),
        ({"room": "a", "target": True}, "target"),
        ({"room": 5, "target": 1}, "room"),
        ({"room": "a", "target": 1, "on": "maybe"}, "on"),
        ({"room": "a", "target": 1, "mode": "turbo"}, "mode"),
        ({"room": "a", "target": 1, "level": 4}, "level"),
        ({"room": "a", "target": 1, "colour": "red"}, "colour"),
        ({"room": "a", "target": float("nan")}, "target"),
    ],
)
def test_bad_arguments_name_the_culprit(args: dict[str, Any], culprit: str) -> None:
    with pytest.raises(InvalidArguments) as info:
        check_arguments(SPEC, args)
    assert info.value.argument == culprit
    assert culprit in info.value.message


def test_listing_shows_types_defaults_choices_and_doc() -> None:
    listing = SPEC.describe()
    assert listing["doc"] == "Heat a room."
    by_name = {a["name"]: a for a in listing["args"]}
    assert by_name["room"] == {"name": "room", "type": "str", "required": True}
    assert by_name["mode"]["default"] == "eco" and by_name["mode"]["choices"] == ["eco", "boost"]
    assert by_name["level"]["choices"] == [1, 2, 3]


def test_int_rejects_fractions_and_optional_accepts_null() -> None:
    def f(n: int, note: str | None = None) -> None: ...

    spec = build_spec(f)
    assert check_arguments(spec, {"n": "7", "note": None}) == {"n": 7, "note": None}
    with pytest.raises(InvalidArguments):
        check_arguments(spec, {"n": 1.5})


def test_lists_and_dicts_check_their_items() -> None:
    def f(values: list[int], labels: dict[str, str]) -> None: ...

    spec = build_spec(f)
    assert check_arguments(spec, {"values": [1, "2"], "labels": {"a": "b"}}) == {
        "values": [1, 2],
        "labels": {"a": "b"},
    }
    with pytest.raises(InvalidArguments, match="item 1"):
        check_arguments(spec, {"values": [1, "x"], "labels": {}})


def test_bound_methods_drop_self() -> None:
    class Door:
        def open(self, seconds: int = 3) -> int:
            return seconds

    spec = build_spec(Door().open)
    assert [p.name for p in spec.params] == ["seconds"]


def test_unsupported_annotation_fails_at_registration() -> None:
    def f(when: object) -> None: ...

    with pytest.raises(TypeError, match="when"):
        build_spec(f)


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


def tune(
    label: int | str = 0, amount: bool | int = 0, ratio: int | float = 0, level: Level = Level.LOW
) -> None:
    """Take unions whose members overlap."""


@pytest.mark.parametrize(
    ("args", "name", "expected"),
    [
        ({"label": "5"}, "label", "5"),  # a string that fits str stays one
        ({"label": 5}, "label", 5),
        ({"amount": 1}, "amount", 1),  # an integer that fits int is no bool
        ({"amount": True}, "amount", True),
        ({"amount": "yes"}, "amount", True),  # a string still converts, to the first that takes it
        ({"ratio": 2.0}, "ratio", 2.0),  # a float that fits float is no int
        ({"ratio": 2}, "ratio", 2),
    ],
)
def test_unions_keep_a_value_that_fits_a_member_as_it_is(
    args: dict[str, Any], name: str, expected: Any
) -> None:
    got = check_arguments(build_spec(tune), args)[name]
    assert (type(got), got) == (type(expected), expected)


def test_enums_do_not_take_booleans_for_their_integer_values() -> None:
    spec = build_spec(tune)
    assert check_arguments(spec, {"level": 1}) == {"level": Level.LOW}
    with pytest.raises(InvalidArguments) as info:
        check_arguments(spec, {"level": True})
    assert info.value.argument == "level"
