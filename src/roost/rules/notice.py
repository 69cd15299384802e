"""The seam between the rule engine and delivery: one notice, sent to named channels.

The engine decides what to say and when (firing, repeats, escalation, resolved);
a `Notifier` decides how each channel gets it (apprise URLs, the page, the log,
quiet hours, retries). Neither knows the other's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Event = Literal["firing", "repeat", "escalated", "resolved", "test"]
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Notice:
    """One message about one alert (or a channel test)."""

    rule: str  # the rule's name
    alert_id: int  # 0 for a test
    event: Event
    severity: str  # one of SEVERITIES
    title: str  # one line: "Flow temperature above 80 °C"
    body: str  # the value with unit and label, since when, a link to the page
    link: str  # the node page's absolute URL, "" when unknown
    at: float  # epoch seconds on the hub's clock


class Notifier(Protocol):
    """Where the engine hands its notices."""

    def send(self, notice: Notice, channels: Sequence[str]) -> None:
        """Queue `notice` for each named channel; thread-safe and never blocks."""
        ...
