from __future__ import annotations

import pytest

from roost.core.caller import PROGRAM, Caller, Scope


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        (Scope.READ, Scope.READ, True),
        (Scope.READ, Scope.CONTROL, False),
        (Scope.CONTROL, Scope.CONTROL, True),
        (Scope.CONTROL, Scope.ADMIN, False),
        (Scope.ADMIN, Scope.READ, True),
    ],
)
def test_scopes_nest(held: Scope, needed: Scope, allowed: bool) -> None:
    assert Caller("http", scope=held).allows(needed) is allowed


@pytest.mark.parametrize(
    ("text", "scope"), [("read", Scope.READ), (" Control ", Scope.CONTROL), ("ADMIN", Scope.ADMIN)]
)
def test_scope_parse(text: str, scope: Scope) -> None:
    assert Scope.parse(text) is scope


def test_scope_parse_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown scope 'root'"):
        Scope.parse("root")


@pytest.mark.parametrize(
    ("caller", "text"),
    [
        (Caller("http", "10.0.0.5", "alice", Scope.CONTROL), "alice via http from 10.0.0.5"),
        (Caller("ws", "127.0.0.1"), "anonymous via ws from 127.0.0.1"),
        (PROGRAM, "program"),
    ],
)
def test_describe(caller: Caller, text: str) -> None:
    assert caller.describe() == text


def test_to_json() -> None:
    assert Caller("mqtt", "", "bridge", Scope.CONTROL).to_json() == {
        "transport": "mqtt",
        "address": "",
        "principal": "bridge",
        "scope": "control",
    }
