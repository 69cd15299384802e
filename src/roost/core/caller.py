"""Who asks: the caller of a command or a write, and the scopes that nest read < control < admin.

Every transport builds one `Caller` per request, message or job and passes it
down to the command registry, which checks the command's scope in one place;
listeners (the audit log, device events) see it too. Authentication fills in
`principal` and `scope`; an open node grants its local callers `Scope.ADMIN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

Transport = Literal["http", "ws", "sse", "mqtt", "page", "schedule", "rule", "program"]
TRANSPORTS: tuple[Transport, ...] = ("http", "ws", "sse", "mqtt", "page", "schedule", "rule", "program")


class Scope(IntEnum):
    """What a caller may do; each scope includes the ones below it."""

    READ = 1  # state, history, events
    CONTROL = 2  # commands, switches
    ADMIN = 3  # settings, schedules, rules, users, tokens

    @classmethod
    def parse(cls, text: str | Scope) -> Scope:
        """Return the scope named `text` (`"read"`, `"control"`, `"admin"`); raise ValueError."""
        if isinstance(text, Scope):
            return text
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown scope {text!r}; use read, control or admin") from None

    @property
    def label(self) -> str:
        """The scope's name as the API spells it."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made a call and from where; immutable, cheap to pass around.

    `principal` is a user or token name ("" when nobody signed in), `address` the
    remote address ("" for in-process callers), `scope` what this caller may do.
    """

    transport: Transport
    address: str = ""
    principal: str = ""
    scope: Scope = Scope.ADMIN

    def allows(self, needed: Scope) -> bool:
        """Return whether this caller holds `needed` (scopes nest)."""
        return self.scope >= needed

    def describe(self) -> str:
        """Return a short text for logs and event lists, e.g. `alice via http from 10.0.0.5`."""
        remote = self.transport in ("http", "ws", "sse", "mqtt", "page")
        who = self.principal or ("anonymous" if remote else "")
        text = f"{who} via {self.transport}" if who else self.transport
        return f"{text} from {self.address}" if self.address else text

    def to_json(self) -> dict[str, str]:
        """Return the caller as a JSON object (for events and the audit log)."""
        return {
            "transport": self.transport,
            "address": self.address,
            "principal": self.principal,
            "scope": self.scope.label,
        }


# The program's own calls (workers, startup code) and the built-in jobs.
PROGRAM = Caller("program")
SCHEDULE = Caller("schedule")
RULE = Caller("rule")
