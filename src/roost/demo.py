"""The demo home: a believable simulated house on embedded defaults only.

Room temperatures follow a day/night cycle (read every minute; the outside
sensor drops out for a few minutes once a day, which raises a stale alert), a
boiler cycles its flow temperature (and overheats about once an hour, which
fires an alert), three plugs report power and energy every 10 s (a fridge
that is always on; a TV on an evening schedule with a standby killer that cuts
it once it has sat in standby for a minute; a floor lamp from sunset - 30 min
to 23:00), a solar inverter follows the real sun for the configured place, and
a doorbell command rings. It is also the model of a roost program: read it as
an example.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from astral import Observer
from astral.sun import elevation

from roost import App
from roost.core.weekgrid import constant_week, paint
from roost.core.weekplan import Schedule, parse_schedule
from roost.devices import SimulatedPlug

# Somewhere in central Europe, so the sun and the seasons behave plausibly.
LATITUDE, LONGITUDE = 51.2, 6.8
SOLAR_PEAK_W = 4200.0
OUTSIDE_SILENT_AT_S = 1800.0  # seconds after start (then daily) that the outside sensor drops out

ROOMS = {
    # path: (label, mean °C, day/night swing)
    "living_room/temperature": ("Living room", 21.0, 1.2),
    "bedroom/temperature": ("Bedroom", 18.5, 1.0),
    "kitchen/temperature": ("Kitchen", 20.0, 1.8),
    "basement/party_room": ("Party room", 16.5, 0.4),
    "outside/temperature": ("Outside", 9.0, 5.0),
}


def room_temperature(mean: float, swing: float, now: float, rng: random.Random) -> float:
    """Return a temperature that peaks mid-afternoon and bottoms out before dawn."""
    local_hour = (now / 3600.0 + 1) % 24  # roughly CET; a simulation needs no zone database
    daily = math.sin((local_hour - 9.0) / 24.0 * 2 * math.pi)
    return round(mean + swing * daily + rng.gauss(0, 0.05), 2)


def solar_power(now: float) -> float:
    """Return inverter output in W: the sun's elevation, dimmed by passing clouds."""
    sun_up = elevation(Observer(LATITUDE, LONGITUDE), datetime.fromtimestamp(now, UTC))
    if sun_up <= 0:
        return 0.0
    clouds = 0.75 + 0.25 * math.sin(now / 900.0) * math.sin(now / 371.0)
    return round(SOLAR_PEAK_W * math.sin(math.radians(sun_up)) * clouds, 1)


@dataclass
class _DailyTotal:
    """A sum that starts over at local midnight."""

    total: float = 0.0
    day: str = ""

    def add(self, amount: float) -> float:
        today = datetime.now().date().isoformat()
        if today != self.day:
            self.total, self.day = 0.0, today
        self.total += amount
        return self.total


def build_demo(name: str = "demo") -> App:
    """Return the demo home's App, ready to run."""
    app = App(name, latitude=LATITUDE, longitude=LONGITUDE)
    rng = random.Random()

    for path, (label, _, _) in ROOMS.items():
        app.meta(path, label=label, unit="°C", kind="temperature")
    app.meta("boiler/flow_temperature", label="Boiler flow", unit="°C", kind="temperature")
    app.meta("boiler/burner", label="Burner", kind="flag")
    app.meta("solar/power_w", label="Solar output", unit="W", kind="power")
    app.meta("solar/energy_today_kwh", label="Solar today", unit="kWh", kind="energy")
    app.meta("doorbell/last_ring", label="Doorbell last rang", kind="timestamp", record=False)
    app.meta("doorbell/rings_today", label="Rings today", kind="count")

    started = app.hub.clock.time()

    @app.every(60)
    def rooms() -> None:
        now = time.time()
        # Once a day (first half an hour after start) the outside sensor's radio drops out for 6 min.
        up_s = app.hub.clock.time() - started
        silent = OUTSIDE_SILENT_AT_S <= up_s % 86400 < OUTSIDE_SILENT_AT_S + 360
        for path, (_, mean, swing) in ROOMS.items():
            if not (silent and path == "outside/temperature"):
                app.state[path] = room_temperature(mean, swing, now, rng)

    boiler = {"temp": 45.0, "burner": False, "cycles": 0}

    @app.every(10)
    def boiler_loop() -> None:
        # A thermostat with hysteresis: the burner heats to 70 °C, then coasts down to 55 °C;
        # every sixth cycle (about once an hour) it sticks and overheats to 86 °C.
        limit = 86 if boiler["cycles"] % 6 == 1 else 70
        if boiler["burner"] and boiler["temp"] >= limit:
            boiler["burner"] = False
            boiler["cycles"] += 1
        elif not boiler["burner"] and boiler["temp"] <= 55:
            boiler["burner"] = True
        boiler["temp"] += 1.4 if boiler["burner"] else -0.35
        app.state["boiler"] = {"flow_temperature": round(boiler["temp"], 1), "burner": boiler["burner"]}

    # Alerts: to the page and the log; add e-mail or ntfy channels in the page and tick them here.
    app.alert(
        "boiler-overheat",
        "boiler/flow_temperature",
        above=80,
        for_s=120,
        hysteresis=5,
        label="Boiler flow too hot",
        severity="critical",
        channels=["page", "log"],
    )
    app.alert("outside-silent", "outside/temperature", stale_s=180, label="Outside sensor silent")

    solar = _DailyTotal()

    @app.every(10)
    def inverter() -> None:
        now = time.time()
        watts = solar_power(now)
        kwh = solar.add(watts * 10 / 3_600_000)
        app.state["solar"] = {"power_w": watts, "energy_today_kwh": round(kwh, 3)}

    add_devices(app)

    rings = _DailyTotal()

    @app.command
    def ring_doorbell(visitor: str = "someone") -> str:
        """Ring the doorbell, as the button by the front door would."""
        count = int(rings.add(1))
        app.state["doorbell"] = {"last_ring": time.time(), "rings_today": count, "visitor": visitor}
        return f"ding dong: {visitor} is at the door"

    return app


# The TV's evening: on from 18:00 to 23:30 every day, with the standby killer at 8 W.
TV_EVENINGS = Schedule(
    "tv-evenings",
    paint(constant_week(), range(7), "18:00", "23:30", 8),
    "TV in the evening; standby killer at 8 W",
)
LAMP_EVENINGS = {
    "name": "lamp-evenings",
    "description": "Floor lamp from sunset - 30 min to 23:00",
    "week": constant_week(),
    "rules": [{"type": "sun", "from": "sunset-30m", "to": "23:00"}],
}


def add_devices(app: App) -> None:
    """The demo's plugs: an always-on fridge, a TV with a standby killer, a lamp that follows the sun."""
    app.devices.add_schedule(TV_EVENINGS)
    app.devices.add_schedule(parse_schedule(LAMP_EVENINGS))
    fridge = SimulatedPlug(85.0, idle_w=2.0, cycle_s=1800, duty=0.35, on=True)
    app.device("fridge", fridge, name="Fridge", location="Kitchen", category="kitchen", always_on=True)
    # The TV plays for ten minutes after it comes on, then drops to standby (1.2 W) by itself;
    # the killer cuts it a minute later, once its five-minute start grace is over.
    tv = SimulatedPlug(92.0, standby_w=1.2, active_s=600)
    app.device(
        "tv",
        tv,
        name="TV",
        location="Living room",
        category="media",
        schedule="tv-evenings",
        standby_hold_s=60,
        start_grace_s=300,
    )
    lamp = SimulatedPlug(8.5)
    app.device(
        "lamp", lamp, name="Floor lamp", location="Living room", category="light", schedule="lamp-evenings"
    )

    @app.command
    def tv_remote(watch: bool) -> str:
        """Press the TV's remote: true wakes it, false sends it to standby (the killer then cuts it)."""
        tv.press(watch)
        return "watching" if watch else "standby"
