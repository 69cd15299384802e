"""Times as people write them in a query string."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from roost.core.errors import InvalidValue
from roost.core.timespec import parse_instant

NOW = 1_700_000_000.0
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-7d", NOW - 7 * 86400),
        ("-1y", NOW - 365 * 86400),
        ("-24h", NOW - 86400),
        ("-30m", NOW - 1800),
        ("-90s", NOW - 90),
        ("-2w", NOW - 14 * 86400),
        ("+1h", NOW + 3600),
        ("-1.5h", NOW - 5400),
        ("1699999999.5", 1699999999.5),
        ("0", 0.0),
        ("2023-11-14T22:13:20Z", NOW),
        ("2023-11-14T23:13:20+01:00", NOW),
        ("2023-11-14T23:13:20", NOW),  # no offset: the node's zone
        ("2023-11-15", NOW + 46 * 60 + 40),  # midnight in Berlin
    ],
)
def test_parse_instant(text: str, expected: float) -> None:
    assert parse_instant(text, NOW, BERLIN) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "yesterday", "-7x", "2023-13-01", "nan", "inf", "--1h"])
def test_unreadable_times_are_invalid_values(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_instant(text, NOW, BERLIN)
