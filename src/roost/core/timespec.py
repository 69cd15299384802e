"""Instants as people and programs write them: ISO 8601, epoch seconds, or relative (`-7d`)."""

from __future__ import annotations

import math
import re
from datetime import datetime, tzinfo

from roost.core.errors import InvalidValue

_RELATIVE = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w|y)$")
# A year is 365 days: "-1y" is a chart range, not a calendar computation.
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 365 * 86_400}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_instant(text: str, now: float, tz: tzinfo) -> float:
    """Return epoch seconds for `text`: `now`, `-1y`/`-7d`/`-24h`/`-30m`/`+1h`, epoch seconds, or ISO 8601.

    An ISO time without an offset is read in `tz`. Raise InvalidValue otherwise.
    """
    value = text.strip()
    if not value:
        raise InvalidValue("empty time")
    if value.lower() == "now":
        return now
    rel = _RELATIVE.match(value.lower())
    if rel:
        sign, amount, unit = rel.groups()
        delta = float(amount) * _UNIT_S[unit]
        return now - delta if sign == "-" else now + delta
    if _NUMBER.match(value):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise InvalidValue(f"time {text!r} is not a finite number")
        return seconds
    return parse_iso(value, tz)


def parse_iso(text: str, tz: tzinfo) -> float:
    """Return epoch seconds for an ISO 8601 date or time; one without an offset is read in `tz`."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            f"time {text!r} is neither ISO 8601, epoch seconds, nor relative like -7d or -24h"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.timestamp()
