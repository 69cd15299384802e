"""Quiet hours in local wall time, and channels.json on disk."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roost.rules.channels import Channel, ChannelStore, QuietHours
from roost.runtime.settingsfile import SettingsUnreadable

BERLIN = ZoneInfo("Europe/Berlin")


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


@pytest.mark.parametrize(
    ("span", "now", "until"),
    [
        (("22:00", "07:00"), "2026-12-01 21:59", None),
        (("22:00", "07:00"), "2026-12-01 22:00", "2026-12-02 07:00"),
        (("22:00", "07:00"), "2026-12-01 23:59", "2026-12-02 07:00"),
        (("22:00", "07:00"), "2026-12-02 00:30", "2026-12-02 07:00"),
        (("22:00", "07:00"), "2026-12-02 06:59", "2026-12-02 07:00"),
        (("22:00", "07:00"), "2026-12-02 07:00", None),
        (("12:00", "14:00"), "2026-12-02 13:00", "2026-12-02 14:00"),
        (("12:00", "14:00"), "2026-12-02 14:00", None),
        (("12:00", "14:00"), "2026-12-02 11:00", None),
        # The night the clocks go forward (02:00 -> 03:00): it ends at 07:00 wall time, 8 hours later.
        (("22:00", "07:00"), "2026-03-28 23:00", "2026-03-29 07:00"),
    ],
)
def test_quiet_hours_hold_until_their_local_end(span: tuple[str, str], now: str, until: str | None) -> None:
    quiet = QuietHours.parse({"from": span[0], "to": span[1]})
    assert quiet.until(ts(now), BERLIN) == (None if until is None else ts(until))


def test_the_spring_night_is_an_hour_shorter() -> None:
    quiet = QuietHours.parse({"from": "22:00", "to": "07:00"})
    end = quiet.until(ts("2026-03-28 22:00"), BERLIN)
    assert end is not None and end - ts("2026-03-28 22:00") == 8 * 3600


def test_channels_round_trip_through_a_private_file(tmp_path: Path) -> None:
    store = ChannelStore(tmp_path / "channels.json")
    channels = store.load()
    assert list(channels) == ["page", "log"]
    channels["email"] = Channel("email", "mailto://u:pw@h", QuietHours(22 * 60, 7 * 60), True)
    channels["log"] = Channel("log", enabled=False)
    store.save(channels)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load() == channels
    assert sorted(json.loads(store.path.read_text())["channels"]) == ["email", "log"]  # page: the default
    assert [p.name for p in tmp_path.iterdir()] == ["channels.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ('{"channels": {}}', "no schema number"),
        ('{"schema": 2, "channels": {}}', "newer roost"),
        ('{"schema": 1, "channels": []}', "must be an object"),
        ('{"schema": 1, "channels": {"x": {"url": "https://h"}}}', "channel 'x'"),
    ],
)
def test_an_unusable_file_is_refused_with_the_reason(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "channels.json"
    path.write_text(text)
    with pytest.raises(SettingsUnreadable, match=says):
        ChannelStore(path).load()
