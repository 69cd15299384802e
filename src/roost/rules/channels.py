"""Notification channels: their settings, checked, and `channels.json`, written crash-safely and 0600.

A channel is a name and an apprise URL (`mailto://...`, `ntfy://...`,
`tgram://...`, `json://...`), quiet hours, and whether it is enabled. Two are
built in and need nothing installed: "page" (the last notices in the state
tree, for the page) and "log" (roost's log). The file holds
`{"schema": 1, "channels": {name: {"url", "quiet_hours", "enabled"}}}`; URLs
hold secrets, so it is readable by its owner only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from roost.core.errors import Conflict, InvalidArguments, NotFound, RoostError
from roost.rules.secrets import BadUrl, mask_url, split_url, unmask
from roost.runtime.settingsfile import SettingsUnreadable, read_document, section, write_atomically

SCHEMA = 1
CHANNELS_FILE = "channels.json"
BUILTIN = ("page", "log")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_URL_CHARS = 2048
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
# Web addresses are not channels: apprise posts to a web hook through json://, form:// or xml://.
_NOT_CHANNELS = frozenset(
    {"http", "https", "file", "ftp", "ftps", "data", "javascript", "ws", "wss", "about"}
)
_FIELDS = {"name", "url", "quiet_hours", "enabled"}
# Fields a GET answers with that a PUT may send back unchanged (the page edits what it got).
_READ_ONLY = {"builtin", "failures", "last_error", "last_sent", "queued", "held", "sent", "dropped"}


class ChannelFailed(RoostError):
    """A channel did not take a message (the reason is in the message, secrets masked)."""

    status = 502
    code = "channel_failed"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily stretch of local wall time, `start` to `end` minutes after midnight; may span midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, value: Any) -> QuietHours:
        """Return quiet hours from `{"from": "22:00", "to": "07:00"}`; raise InvalidArguments."""
        if not isinstance(value, dict) or set(value) != {"from", "to"}:
            raise InvalidArguments('quiet_hours is null or {"from": "HH:MM", "to": "HH:MM"}', "quiet_hours")
        minutes = []
        for key in ("from", "to"):
            text = value[key]
            match = _CLOCK.match(text) if isinstance(text, str) else None
            if match is None:
                raise InvalidArguments(f"quiet_hours.{key} must be a time HH:MM, not {text!r}", "quiet_hours")
            minutes.append(int(match[1]) * 60 + int(match[2]))
        if minutes[0] == minutes[1]:
            raise InvalidArguments("quiet_hours must not start and end at the same time", "quiet_hours")
        return cls(minutes[0], minutes[1])

    def to_json(self) -> dict[str, str]:
        """Return `{"from": "HH:MM", "to": "HH:MM"}`."""
        return {"from": _hhmm(self.start), "to": _hhmm(self.end)}

    def until(self, ts: float, tz: tzinfo) -> float | None:
        """Return when the quiet stretch that holds `ts` ends (epoch seconds), or None outside one."""
        local = datetime.fromtimestamp(ts, tz)
        now_min = local.hour * 60 + local.minute
        if self.start < self.end:
            quiet, end_day = self.start <= now_min < self.end, local.date()
        else:  # over midnight: from the evening until the morning after
            quiet = now_min >= self.start or now_min < self.end
            end_day = local.date() + timedelta(days=1) if now_min >= self.start else local.date()
        return _at(end_day, self.end, tz) if quiet else None


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _at(day: date, minutes: int, tz: tzinfo) -> float:
    # The wall time on that day; in a DST gap zoneinfo moves it forward, as a person's clock does.
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).timestamp()


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel's settings (what channels.json stores; counters live in delivery)."""

    name: str
    url: str = ""
    quiet_hours: QuietHours | None = None
    enabled: bool = True

    @property
    def builtin(self) -> bool:
        """True for "page" and "log"."""
        return self.name in BUILTIN

    def to_json(self, masked: bool = True) -> dict[str, Any]:
        """Return the settings as JSON; URLs masked unless `masked=False` (for the file)."""
        return {
            "name": self.name,
            "url": mask_url(self.url) if masked else self.url,
            "quiet_hours": self.quiet_hours.to_json() if self.quiet_hours else None,
            "enabled": self.enabled,
            "builtin": self.builtin,
        }


def check_name(name: str) -> str:
    """Return `name` if it can name a channel; raise InvalidArguments."""
    if not NAME.match(name):
        raise InvalidArguments("a channel name is 1 to 64 letters, digits, '_', '.' or '-'", "name")
    return name


def check_url(url: Any) -> str:
    """Return `url` if it can be a channel URL (syntax only: apprise checks the rest when it sends)."""
    if not isinstance(url, str) or not url:
        raise InvalidArguments("url must be a channel URL such as mailto://user:password@host", "url")
    if len(url) > MAX_URL_CHARS:
        raise InvalidArguments(f"url is longer than {MAX_URL_CHARS} characters", "url")
    try:
        scheme = split_url(url).scheme
    except BadUrl as exc:
        raise InvalidArguments(str(exc), "url") from None
    if scheme in _NOT_CHANNELS:
        raise InvalidArguments(
            f"{scheme}:// is not a channel URL; for a web hook use json://, form:// or xml://", "url"
        )
    return url


def parse_channel(name: str, body: dict[str, Any], stored: Channel | None) -> Channel:
    """Return the channel a PUT body describes; raise InvalidArguments naming the bad field.

    A URL with `****` where the stored one has a secret keeps that secret.
    """
    check_name(name)
    unknown = sorted(set(body) - _FIELDS - _READ_ONLY)
    if unknown:
        raise InvalidArguments(f"unknown field {unknown[0]!r}; send url, quiet_hours and enabled", unknown[0])
    if "name" in body and body["name"] != name:
        raise InvalidArguments(f"the body names {body['name']!r} but the path {name!r}", "name")
    enabled = body.get("enabled", True if stored is None else stored.enabled)
    if not isinstance(enabled, bool):
        raise InvalidArguments("enabled must be true or false", "enabled")
    quiet_raw = body.get(
        "quiet_hours", stored.quiet_hours.to_json() if stored and stored.quiet_hours else None
    )
    quiet = None if quiet_raw is None else QuietHours.parse(quiet_raw)
    if name in BUILTIN:
        url = body.get("url", "")
        if url not in ("", None):
            raise InvalidArguments(f"{name!r} is built in and has no URL", "url")
        if quiet is not None:
            raise InvalidArguments(
                f"{name!r} shows notices as they come; quiet hours are for channels that reach a person",
                "quiet_hours",
            )
        return Channel(name, "", None, enabled)
    if "url" not in body and stored is not None:
        url = stored.url
    else:
        url = check_url(body.get("url"))
        try:
            url = unmask(url, stored.url if stored else None)
        except BadUrl as exc:
            raise InvalidArguments(str(exc), "url") from None
    return Channel(name, url, quiet, enabled)


def builtins() -> dict[str, Channel]:
    """Return the built-in channels with their default settings."""
    return {name: Channel(name) for name in BUILTIN}


class ChannelStore:
    """channels.json in the data directory. Thread-safe as far as its callers serialize saves."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Channel]:
        """Return every channel, built-ins first; raise SettingsUnreadable."""
        channels = builtins()
        doc = read_document(self.path, "channels", SCHEMA)
        entries = {} if doc is None else section(doc, "channels", str(self.path))
        for name, entry in entries.items():
            try:
                if not isinstance(entry, dict):
                    raise InvalidArguments("must be an object")
                channels[name] = parse_channel(name, entry, None)
            except InvalidArguments as exc:
                raise SettingsUnreadable(f"{self.path}: channel {name!r}: {exc}") from None
        return channels

    def save(self, channels: dict[str, Channel]) -> None:
        """Write every channel (built-ins only where changed from their defaults)."""
        defaults = builtins()
        entries = {
            name: {k: v for k, v in c.to_json(masked=False).items() if k not in ("name", "builtin")}
            for name, c in sorted(channels.items())
            if c != defaults.get(name)
        }
        doc = {"schema": SCHEMA, "channels": entries}
        write_atomically(self.path, json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n")
        # An older file made by hand may be looser: os.replace keeps the new file's 0600.


def lookup(channels: dict[str, Channel], name: str) -> Channel:
    """Return the channel named `name`; raise NotFound."""
    try:
        return channels[name]
    except KeyError:
        raise NotFound(f"no channel named {name!r}", channel=name) from None


def removable(channels: dict[str, Channel], name: str) -> Channel:
    """Return the channel `name` if it may be deleted; raise NotFound or Conflict."""
    channel = lookup(channels, name)
    if channel.builtin:
        raise Conflict(f"{name!r} is built in and cannot be deleted; disable it instead", channel=name)
    return channel
