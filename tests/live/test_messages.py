"""Parsing client messages and encoding server messages."""

from __future__ import annotations

import json

import pytest

from roost.core.errors import CommandError
from roost.live.messages import (
    REMOVED,
    BadMessage,
    Call,
    Ping,
    Subscribe,
    change_message,
    error_message,
    parse_message,
    snapshot_message,
)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ('{"type":"call","id":7,"command":"switch","args":{"on":true}}', Call(7, "switch", {"on": True})),
        ('{"type":"call","id":"x","command":"now"}', Call("x", "now", {})),
        ('{"type":"subscribe","paths":["a/*"]}', Subscribe(None, ["a/*"])),
        (b'{"type":"ping","id":1.5}', Ping(1.5)),
    ],
)
def test_parse_message(raw: str | bytes, parsed: object) -> None:
    assert parse_message(raw) == parsed


@pytest.mark.parametrize(
    ("raw", "code", "message_id"),
    [
        ("{", "malformed_json", None),
        ("[]", "bad_request", None),
        ('{"type":"call","id":{"a":1},"command":"x"}', "bad_request", None),
        ('{"type":"call","id":3}', "bad_request", 3),
        ('{"type":"call","id":3,"command":"x","args":[]}', "invalid_arguments", 3),
        ('{"type":"subscribe","id":4,"paths":"a/*"}', "bad_request", 4),
        ('{"id":5}', "bad_request", 5),
    ],
)
def test_bad_messages_say_why(raw: str, code: str, message_id: object) -> None:
    with pytest.raises(BadMessage) as info:
        parse_message(raw)
    assert (info.value.error.code, info.value.id) == (code, message_id)


def test_change_message_lists_removals_only_when_there_are_some() -> None:
    assert json.loads(change_message(5, 3, {"a": 1}) or b"") == {
        "type": "change",
        "seq": 5,
        "since": 3,
        "changes": {"a": 1},
    }
    both = json.loads(change_message(6, 5, {"a": REMOVED, "b": None}) or b"")
    assert (both["changes"], both["removed"]) == ({"b": None}, ["a"])
    assert change_message(6, 5, {}) is None


def test_snapshot_wraps_encoded_state() -> None:
    assert json.loads(snapshot_message(9, "ab12", b'{"a":{"b":1}}')) == {
        "type": "snapshot",
        "seq": 9,
        "boot": "ab12",
        "state": {"a": {"b": 1}},
    }


def test_error_message_is_the_http_error_object_with_an_id() -> None:
    reply = json.loads(error_message("c1", CommandError("no", plug="tv")))
    error = {"code": "command_error", "message": "no", "plug": "tv"}
    assert reply == {"type": "error", "id": "c1", "error": error}
