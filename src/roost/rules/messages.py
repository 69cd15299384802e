"""What a channel says: one notice as a message, or a digest of the notices held in quiet hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from roost.rules.notice import SEVERITIES, Notice
from roost.rules.transport import Message

_EVENT_WORDS = {
    "firing": "FIRING",
    "repeat": "STILL FIRING",
    "escalated": "ESCALATED",
    "resolved": "RESOLVED",
    "test": "TEST",
}


def kind_of(notice: Notice) -> str:
    """Return the message kind of `notice`: its severity, or "resolved"."""
    if notice.event == "resolved":
        return "resolved"
    return notice.severity if notice.severity in SEVERITIES else "warning"


def one(notice: Notice) -> Message:
    """Return the message for one notice."""
    title = f"[{_EVENT_WORDS.get(notice.event, notice.event.upper())}] {notice.title}"
    body = notice.body
    if notice.link and notice.link not in body:
        body = f"{body}\n{notice.link}" if body else notice.link
    return Message(title, body, kind_of(notice))


def digest(notices: Sequence[Notice], tz: tzinfo, quiet: str) -> Message:
    """Return one message listing `notices`, oldest first, held in the quiet hours `quiet` ("22:00-07:00")."""
    if len(notices) == 1:
        return one(notices[0])
    ordered = sorted(notices, key=lambda n: n.at)
    span = f" ({quiet})" if quiet else ""
    lines = [f"{len(ordered)} notices held during quiet hours{span}:", ""]
    for n in ordered:
        at = datetime.fromtimestamp(n.at, tz).strftime("%a %H:%M")
        lines.append(f"{at}  [{_EVENT_WORDS.get(n.event, n.event.upper())}] {n.title}")
        if n.body:
            lines.append(f"        {n.body.splitlines()[0]}")
    links = {n.link for n in ordered if n.link}
    if links:
        lines += ["", *sorted(links)]
    firing = [n for n in ordered if n.event != "resolved"]
    worst = max((SEVERITIES.index(n.severity) for n in firing if n.severity in SEVERITIES), default=-1)
    kind = SEVERITIES[worst] if worst >= 0 else ("resolved" if firing == [] else "info")
    resolved = len(ordered) - len(firing)
    title = f"roost digest: {len(firing)} alert notices, {resolved} resolved"
    return Message(title, "\n".join(lines), kind)


def probe_notice(channel: str, at: float, link: str = "") -> Notice:
    """Return the notice a "send test" sends."""
    return Notice(
        rule="",
        alert_id=0,
        event="test",
        severity="info",
        title=f"Test message for channel {channel}",
        body="roost can reach you on this channel.",
        link=link,
        at=at,
    )
