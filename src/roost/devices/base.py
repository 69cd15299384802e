"""The devices component's shared parts: the record kept per device, its errors, and lookups."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from roost.core.errors import NotFound, RoostError
from roost.core.weekgrid import Cell
from roost.core.weekplan import Calendar, Schedule, next_change
from roost.devices.driver import Driver
from roost.devices.energy import DailyEnergy
from roost.devices.model import DeviceSettings, Override, SwitchEvent
from roost.devices.standby import StandbyKiller
from roost.devices.storage import EVENTS_FILE, SETTINGS_FILE
from roost.devices.sun import SunDays
from roost.runtime.hub import Hub
from roost.runtime.threads import DaemonPool

# Reads `(path, start, end)` -> the values history holds, oldest first (blocking).
HistoryReader = Callable[[str, float, float], Sequence[float]]
# Reads `(path, start, end, "1h" | "1d")` -> `(bucket start, min, max)` per bucket; None: no history.
BucketReader = Callable[[str, float, float, str], Sequence[tuple[float, float, float]] | None]


class UnknownDevice(NotFound):
    code = "unknown_device"

    def __init__(self, device_id: str) -> None:
        super().__init__(f"no device with id {device_id!r}", id=device_id)


class UnknownSchedule(NotFound):
    code = "unknown_schedule"

    def __init__(self, name: str) -> None:
        super().__init__(f"no schedule named {name!r}", name=name)


class NoConfirmation(RoostError):
    """The device did not confirm a switch in time."""

    status = 504
    code = "no_confirmation"


@dataclass(slots=True, eq=False)
class DeviceRecord:
    """One device as the component keeps it: settings, driver, live values, killer, override, events."""

    settings: DeviceSettings
    driver: Driver
    is_async: bool
    source: str  # "program" (declared in code) or "config" (added by import or the API)
    edited: set[str] = field(default_factory=set)
    killer: StandbyKiller = field(default_factory=StandbyKiller)
    energy: DailyEnergy = field(default_factory=DailyEnergy)
    override: Override | None = None
    applied: Cell | None = None  # the schedule value last acted on
    on: bool | None = None  # what the device confirmed
    power_w: float | None = None
    energy_kwh: float | None = None
    online: bool = False
    error: str = ""
    switching: int = 0
    generation: int = 0  # counts finished switches: a reading taken before one is stale
    removed: bool = False  # deleted: late readings and switch results must not bring it back
    lock: asyncio.Lock | None = None
    events: deque[SwitchEvent] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def id(self) -> str:
        return self.settings.id


class DeviceBase:
    """What every part of `Devices` shares: the devices, the schedules, the loop's bookkeeping."""

    def __init__(
        self,
        hub: Hub,
        *,
        latitude: float | None = None,
        longitude: float | None = None,
        poll_s: float = 10.0,
        history: HistoryReader | None = None,
        buckets: BucketReader | None = None,
        events_per_device: int = 200,
    ) -> None:
        self.hub = hub
        self.poll_s = poll_s
        self.history = history
        self.buckets = buckets
        self.events_per_device = events_per_device
        self.sun = SunDays(latitude, longitude, hub.tz)
        self.has_place = latitude is not None and longitude is not None
        self._devices: dict[str, DeviceRecord] = {}
        self._schedules: dict[str, Schedule] = {}
        self._program_schedules: set[str] = set()
        self._edited_schedules: set[str] = set()
        self._pool = DaemonPool("roost-devices", 8)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._wake: asyncio.Event | None = None
        self._save_task: asyncio.Task[None] | None = None
        self._dirty = False
        self._pending_events: list[dict[str, Any]] = []
        self._purge: set[str] = set()  # removed devices whose stored events are to go
        self._day_end = 0.0
        self._inflight = 0  # driver calls under way (and not yet timed out)
        self._planned = float("inf")  # when the schedule loop wakes next
        self._flush_now = asyncio.Event()
        self._next_cache: dict[str, tuple[float, tuple[float, Cell] | None]] = {}
        self._unwatch: Callable[[], None] | None = None
        self._today = ""
        self.ready = asyncio.Event()
        self.switches = 0
        self.readings = 0
        self.started = False
        # What every device has alike, declared once: a rule per path and device costs memory.
        hub.set_meta("devices/*/energy_today_kwh", kind="energy", unit="kWh", label="Energy today")
        hub.set_meta("devices/*/online", kind="flag", label="Online", record=False)
        hub.set_meta("devices/*/always_on", kind="flag", label="Always on", record=False)
        hub.set_meta("devices/*/error", label="Last switch failed", record=False)
        hub.set_meta("devices/*/note", label="Status", record=False)

    @property
    def settings_path(self) -> Path:
        """Where settings, schedules and overrides persist."""
        return self.hub.data_dir / SETTINGS_FILE

    @property
    def events_path(self) -> Path:
        """Where switch events persist."""
        return self.hub.data_dir / EVENTS_FILE

    def calendar(self) -> Calendar:
        """Return what schedules are evaluated with: the zone, sun times and the other schedules."""
        return Calendar(self.hub.tz, self.sun, self._schedules)

    def _running_schedule(self, dev: DeviceRecord) -> Schedule | None:
        s = dev.settings
        if s.always_on or not s.schedule_enabled or not s.schedule:
            return None
        return self._schedules.get(s.schedule)

    def _poke(self, until: float | None = None) -> None:
        # Wake the schedule loop to plan again; for a new deadline only if it comes first.
        if self._wake is not None and (until is None or until < self._planned):
            self._wake.set()

    def _next(self, schedule: Schedule, now: float) -> tuple[float, Cell] | None:
        """`next_change`, remembered per schedule: the answer holds for any instant before it."""
        cached = self._next_cache.get(schedule.name)
        if cached is not None:
            since, found = cached
            if since <= now and (now < found[0] if found is not None else now < since + 3600):
                return found
        found = next_change(schedule, now, self.calendar())
        self._next_cache[schedule.name] = (now, found)
        return found

    def _hhmm(self, ts: float) -> str:
        local = datetime.fromtimestamp(ts, self.hub.tz)
        now = datetime.fromtimestamp(self.hub.clock.time(), self.hub.tz)
        if local.date() == now.date():
            return local.strftime("%H:%M")
        return local.strftime("%a %H:%M")

    def _device(self, device_id: str) -> DeviceRecord:
        dev = self._devices.get(device_id) if isinstance(device_id, str) else None
        if dev is None:
            raise UnknownDevice(str(device_id))
        return dev

    def ids(self) -> list[str]:
        """Return every device id, sorted."""
        return sorted(self._devices)


def iso_time(ts: float, hub: Hub) -> str:
    return datetime.fromtimestamp(ts, hub.tz).isoformat(timespec="seconds")
