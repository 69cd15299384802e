"""Helpers of the device tests: a node with simulated plugs on a fake clock in Amsterdam."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from roost import App
from roost.core.weekgrid import constant_week, paint
from roost.core.weekplan import Schedule
from roost.devices import SimulatedPlug
from roost.testing import Harness, fake_clock

TZ = ZoneInfo("Europe/Amsterdam")
# On from 18:00 to 23:30 every day with the standby killer at 8 W.
TV_EVENINGS = Schedule("tv-evenings", paint(constant_week(), range(7), "18:00", "23:30", 8))
# On from 07:00 to 08:00 on weekdays.
MORNINGS = Schedule("mornings", paint(constant_week(), range(5), "07:00", "08:00", -1))

Build = Callable[..., App]


def build_node(data_dir: Path, start: str = "2026-12-01 17:50", *, history: bool = False) -> App:
    """A node (Tuesday 1 December 2026, 17:50 by default) with a fridge, a TV and a lamp."""
    app = App(
        "devtest",
        data_dir=data_dir,
        port=0,
        timezone="Europe/Amsterdam",
        clock=fake_clock(start, TZ),
        latitude=52.37,
        longitude=4.9,
        history=history,
    )
    app.devices.add_schedule(TV_EVENINGS)
    app.devices.add_schedule(MORNINGS)
    app.device(
        "fridge", SimulatedPlug(85, on=True, noise=False), name="Fridge", category="kitchen", always_on=True
    )
    app.device(
        "tv",
        SimulatedPlug(92, standby_w=1.5, noise=False),
        name="TV",
        category="media",
        schedule="tv-evenings",
        standby_hold_s=120,
        start_grace_s=900,
    )
    app.device("lamp", SimulatedPlug(9, noise=False), name="Lamp", category="light")
    return app


def plug(harness: Harness, device_id: str) -> SimulatedPlug:
    """The simulated plug behind a device."""
    driver = harness.app.devices._devices[device_id].driver
    assert isinstance(driver, SimulatedPlug)
    return driver


def causes(harness: Harness, device_id: str) -> list[tuple[str, bool, str]]:
    """The device's switch events, oldest first, as (cause, on, local HH:MM)."""
    from datetime import datetime

    out = []
    for e in reversed(harness.app.devices.events(device_id)):
        out.append((e["cause"], e["on"], datetime.fromtimestamp(e["ts"], TZ).strftime("%H:%M")))
    return out
