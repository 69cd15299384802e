"""docs/raspend.md keeps up with the compat layer's public API."""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.compat.raspend import RaspendApplication, ScheduleRepetitionType, ThreadHandlerBase

DOC = (Path(__file__).resolve().parents[2] / "docs" / "raspend.md").read_text()


def public(cls: type) -> list[str]:
    return [n for n in vars(cls) if not n.startswith("_") and callable(getattr(cls, n))]


@pytest.mark.parametrize("name", public(RaspendApplication) + public(ThreadHandlerBase))
def test_every_public_method_is_documented(name: str) -> None:
    assert f"{name}(" in DOC


@pytest.mark.parametrize("member", [m.name for m in ScheduleRepetitionType])
def test_every_repetition_type_is_documented(member: str) -> None:
    assert member in DOC
