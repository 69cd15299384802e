"""The JSON messages of the live protocol: what the server sends, what a client may send.

Server to client (WebSocket and SSE alike):

    {"type": "snapshot", "seq": N, "boot": "...", "state": {...}}
    {"type": "change", "seq": N, "since": M, "changes": {path: value}, "removed": [path]}
    {"type": "result", "id": ID, "result": ...}
    {"type": "error", "id": ID, "error": {"code": ..., "message": ...}}
    {"type": "pong", "id": ID}

A change message holds every change after `since` up to `seq` (coalesced, the
latest value per path); `removed` is present only when leaves went away, and a
client applies it before `changes`. Client to server (WebSocket only):

    {"type": "call", "id": ID, "command": "name", "args": {...}}
    {"type": "subscribe", "id": ID, "paths": ["basement/*", "plugs/**"]}
    {"type": "ping", "id": ID}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from roost.core import codec
from roost.core.errors import BadRequest, InvalidArguments, RoostError
from roost.core.tree import Json

MessageId = str | int | float | bool | None


class _Removed:
    __slots__ = ()

    def __repr__(self) -> str:
        return "REMOVED"


# Marks a path in a coalesced backlog whose latest update removed the leaf.
REMOVED: Final[Any] = _Removed()


def snapshot_message(seq: int, boot: str, state_json: bytes) -> bytes:
    """Return a snapshot message around already-encoded state (encoded once, shared)."""
    return b'{"type":"snapshot","seq":%d,"boot":%s,"state":%s}' % (seq, codec.dumps(boot), state_json)


def change_message(seq: int, since: int, updates: Mapping[str, Json]) -> bytes | None:
    """Return the change message for coalesced `updates` (REMOVED marks removals), or None if empty."""
    if not updates:
        return None
    changes = {p: v for p, v in updates.items() if v is not REMOVED}
    message: dict[str, Any] = {"type": "change", "seq": seq, "since": since, "changes": changes}
    if len(changes) < len(updates):
        message["removed"] = [p for p, v in updates.items() if v is REMOVED]
    return codec.dumps(message)


def result_message(message_id: MessageId, result: Any) -> bytes:
    """Return the reply to a successful call."""
    return codec.dumps({"type": "result", "id": message_id, "result": result})


def error_message(message_id: MessageId, error: RoostError) -> bytes:
    """Return an error reply with the same `error` object as over HTTP."""
    return codec.dumps({"type": "error", "id": message_id, **error.to_json()})


def pong_message(message_id: MessageId) -> bytes:
    """Return the reply to a client's ping."""
    return codec.dumps({"type": "pong", "id": message_id})


@dataclass(frozen=True, slots=True)
class Call:
    """A client asks to run a command."""

    id: MessageId
    command: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Subscribe:
    """A client replaces its path patterns (an empty list or `**` means everything)."""

    id: MessageId
    paths: list[object]


@dataclass(frozen=True, slots=True)
class Ping:
    """A client checks that the connection is alive (browsers cannot send ping frames)."""

    id: MessageId


ClientMessage = Call | Subscribe | Ping


class BadMessage(Exception):
    """A client message that cannot be acted on: the error to reply with, and the id if known."""

    def __init__(self, error: RoostError, message_id: MessageId = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.id = message_id


def parse_message(data: str | bytes) -> ClientMessage:
    """Decode and check one client message; raise BadMessage saying what is wrong."""
    try:
        obj = codec.loads(data)
    except RoostError as exc:
        raise BadMessage(exc) from None
    if not isinstance(obj, dict):
        raise BadMessage(BadRequest("a message must be a JSON object with a 'type'"))
    message_id = obj.get("id")
    if not isinstance(message_id, (str, int, float, bool)) and message_id is not None:
        raise BadMessage(BadRequest("'id' must be a string, a number or null"))
    kind = obj.get("type")
    if kind == "call":
        command, args = obj.get("command"), obj.get("args", {})
        if not isinstance(command, str) or not command:
            raise BadMessage(BadRequest("a call needs 'command', the command's name"), message_id)
        if not isinstance(args, dict):
            raise BadMessage(InvalidArguments("'args' must be a JSON object of arguments"), message_id)
        return Call(message_id, command, args)
    if kind == "subscribe":
        paths = obj.get("paths")
        if not isinstance(paths, list):
            raise BadMessage(BadRequest("a subscribe needs 'paths', a list of patterns"), message_id)
        return Subscribe(message_id, paths)
    if kind == "ping":
        return Ping(message_id)
    known = "call, subscribe, ping"
    raise BadMessage(BadRequest(f"unknown message type {kind!r}; known: {known}"), message_id)
