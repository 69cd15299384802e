"""The exception tree every transport maps to a JSON error.

    RoostError (500 internal)
    ├── BadRequest (400 bad_request)
    │   ├── InvalidPath (400 invalid_path)
    │   ├── InvalidValue (400 invalid_value)
    │   └── MalformedJSON (400 malformed_json)
    ├── CommandError (400 command_error)      raised by user commands on purpose
    ├── Forbidden (403 forbidden)              the caller's scope is too small
    ├── NotFound (404 not_found)
    │   ├── UnknownPath (404 unknown_path)     also a KeyError, as a mapping's should be
    │   └── UnknownCommand (404 unknown_command)
    ├── Conflict (409 conflict)                 the request clashes with the current state
    ├── PayloadTooLarge (413 payload_too_large)
    ├── InvalidArguments (422 invalid_arguments)
    ├── InvalidSchedule (422 invalid_schedule)  names the bad cell's `day` and `slot`
    ├── TooManyRequests (429 too_many_requests)
    ├── CommandTimeout (504 command_timeout)
    └── Unavailable (503 unavailable)

`status` is the HTTP status a transport answers with, `code` the stable
machine-readable string in `{"error": {"code": ..., "message": ...}}`.
Extra fields (such as the offending `argument`) live in `details`.
"""

from __future__ import annotations

import re
from typing import Any


class RoostError(Exception):
    """Root of every error roost raises on purpose."""

    status = 500
    code = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        # KeyError (a base of UnknownPath) would otherwise show the repr of the message.
        return self.message

    def to_json(self) -> dict[str, Any]:
        """Return the wire form: `{"error": {"code", "message", ...details}}`."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class BadRequest(RoostError):
    status = 400
    code = "bad_request"


class InvalidPath(BadRequest):
    code = "invalid_path"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"invalid path {path!r}: {reason}", path=path)
        self.path = path


class InvalidValue(BadRequest):
    code = "invalid_value"


class MalformedJSON(BadRequest):
    code = "malformed_json"


class CommandError(RoostError):
    """Raise from a command to answer the caller with this message (400)."""

    status = 400
    code = "command_error"


class Forbidden(RoostError):
    """The caller lacks the scope a route or command needs."""

    status = 403
    code = "forbidden"

    def __init__(self, message: str, needed: str = "", **details: Any) -> None:
        # `needed` names the scope that was lacking ("admin"), when a scope was.
        if needed:
            details["needed"] = needed
        super().__init__(message, **details)
        self.needed = needed


class NotFound(RoostError):
    status = 404
    code = "not_found"


class UnknownPath(NotFound, KeyError):
    code = "unknown_path"

    def __init__(self, path: str) -> None:
        super().__init__(f"no value at path {path!r}", path=path)
        self.path = path


class UnknownCommand(NotFound):
    code = "unknown_command"

    def __init__(self, name: str) -> None:
        super().__init__(f"no command named {name!r}", command=name)
        self.name = name


class Conflict(RoostError):
    """Well formed, but clashing with the current state (an always-on device, a schedule in use)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(RoostError):
    status = 413
    code = "payload_too_large"


class InvalidArguments(RoostError):
    status = 422
    code = "invalid_arguments"

    def __init__(self, message: str, argument: str | None = None) -> None:
        if argument is None:
            super().__init__(message)
        else:
            super().__init__(message, argument=argument)
        self.argument = argument


class InvalidSchedule(RoostError):
    """A schedule that cannot be used; `day` and `slot` (when given) say where."""

    status = 422
    code = "invalid_schedule"


class TooManyRequests(RoostError):
    """A per-client limit (connections, calls in flight) is reached; retry later."""

    status = 429
    code = "too_many_requests"


class CommandTimeout(RoostError):
    status = 504
    code = "command_timeout"


class Unavailable(RoostError):
    status = 503
    code = "unavailable"


# An absolute path of two parts or more (not the `//host/...` of a URL): its folders go.
_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/]+/)+(?=[^\s'\"/]*)")


def strip_paths(text: str) -> str:
    """Return `text` with the folders of absolute paths left out (`/sys/bus/w1/x/w1_slave` -> `w1_slave`)."""
    return _PATH.sub("", text)


def describe_error(exc: BaseException) -> str:
    """Return `Type: message` for anyone who may read health: no folders that map the machine.

    The full text, with paths, belongs in the log (and, once authenticated, to admins).
    """
    said = strip_paths(str(exc))
    return f"{type(exc).__name__}: {said}" if said else type(exc).__name__
