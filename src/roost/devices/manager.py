"""The devices component: drivers, schedules, the standby killer, overrides, events, persistence.

Everything that decides runs on the event loop: readings (polled from the
drivers every `poll_s`, or pushed by them), the schedule loop that wakes at
each quarter-hour and each sun-rule edge on the hub's clock, and switches.
Sync drivers are called on daemon threads, async ones on the loop; a switch
not confirmed within the device's `confirm_timeout_s` has failed, and says so
(`devices/{id}/error`, the event, a 504 to the caller).

Each device publishes `devices/{id}/on` (the confirmed state), `power_w`,
`energy_kwh` (the total counter), `energy_today_kwh`, `online`, `always_on`,
`error` and `note` (a line such as "on by hand until 19:45").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from roost.core.caller import PROGRAM, Caller
from roost.core.errors import Conflict, InvalidArguments, InvalidSchedule, NotFound, RoostError, Unavailable
from roost.core.weekgrid import Cell, is_on, killer_w
from roost.core.weekplan import (
    Calendar,
    Schedule,
    check_name,
    explain,
    next_change,
    parse_schedule,
    preview,
    value_at,
)
from roost.devices.driver import Clocked, Driver, Pushing, Reading, is_async, spec_of
from roost.devices.energy import DailyEnergy, counter_increase
from roost.devices.model import (
    EDITABLE,
    Cause,
    DeviceSettings,
    Override,
    SwitchEvent,
    apply_settings,
    check_id,
    parse_hold,
)
from roost.devices.routes import device_routes, openapi_paths
from roost.devices.standby import StandbyKiller
from roost.devices.storage import (
    EVENTS_FILE,
    SETTINGS_FILE,
    EventLog,
    empty_document,
    load_document,
    save_document,
)
from roost.devices.sun import SunDays
from roost.runtime.commands import current_caller
from roost.runtime.component import Component
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.runtime.threads import DaemonPool

log = logging.getLogger(__name__)
# Reads `(path, start, end)` -> the values history holds, oldest first (blocking).
HistoryReader = Callable[[str, float, float], Sequence[float]]
MAX_WAKE_S = 60.0  # the schedule loop looks at the wall clock at least this often (NTP jumps)
SAVE_DELAY_S = 1.0  # settings changes are gathered this long into one write


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
class _Device:
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
    lock: asyncio.Lock | None = None
    events: deque[SwitchEvent] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def id(self) -> str:
        return self.settings.id


class Devices(Component):
    """Devices with drivers, weekly schedules, a standby killer and manual overrides."""

    name = "devices"

    def __init__(
        self,
        hub: Hub,
        *,
        latitude: float | None = None,
        longitude: float | None = None,
        poll_s: float = 10.0,
        history: HistoryReader | None = None,
        events_per_device: int = 200,
    ) -> None:
        self.hub = hub
        self.poll_s = poll_s
        self.history = history
        self.events_per_device = events_per_device
        self.sun = SunDays(latitude, longitude, hub.tz)
        self.has_place = latitude is not None and longitude is not None
        self._devices: dict[str, _Device] = {}
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

    # -- files ------------------------------------------------------------------------

    @property
    def settings_path(self) -> Path:
        """Where settings, schedules and overrides persist."""
        return self.hub.data_dir / SETTINGS_FILE

    @property
    def events_path(self) -> Path:
        """Where switch events persist."""
        return self.hub.data_dir / EVENTS_FILE

    # -- what programs declare ------------------------------------------------------

    def add(self, device_id: str, driver: Driver, **settings: Any) -> DeviceSettings:
        """Declare a device with its driver; `settings` are DeviceSettings fields (name, category, ...)."""
        check_id(device_id)
        if device_id in self._devices:
            raise ValueError(f"a device with id {device_id!r} is already declared")
        if self.started:
            raise RuntimeError("declare devices before the app starts")
        if "schedule" in settings and "schedule_enabled" not in settings:
            settings["schedule_enabled"] = bool(settings["schedule"])
        try:
            values = apply_settings(DeviceSettings(device_id), settings)
        except InvalidArguments as exc:
            raise ValueError(exc.message) from None
        self._devices[device_id] = _Device(values, driver, is_async(driver), "program")
        self._add_command()
        return values

    def _add_command(self) -> None:
        # Only a node with devices has the command: a raspend program's /cmds stays its own.
        if "switch_device" not in self.hub.commands:
            self.hub.commands.add(self.switch_device, "switch_device")

    def add_schedule(self, schedule: Schedule | Mapping[str, Any]) -> Schedule:
        """Declare a schedule (a Schedule or its JSON form); one the page has edited since wins at start."""
        parsed = schedule if isinstance(schedule, Schedule) else parse_schedule(schedule)
        self._check_sun(parsed)
        self._schedules[parsed.name] = parsed
        self._program_schedules.add(parsed.name)
        return parsed

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Load settings, attach drivers, then bring every device where it should be. Loop only."""
        self.ready = asyncio.Event()
        self._wake = asyncio.Event()
        doc = await asyncio.to_thread(load_document, self.settings_path)
        self._merge(doc)
        if self._devices:
            self._add_command()
        await asyncio.to_thread(self._load_events)
        loop = asyncio.get_running_loop()
        for dev in self._devices.values():
            if isinstance(dev.driver, Clocked):
                dev.driver.use_clock(self.hub.clock.time)
            if isinstance(dev.driver, Pushing):
                dev.driver.attach(self._pusher(loop, dev))
            self._declare(dev)
        self.started = True
        # A fake clock (tests, roost.testing) waits for driver calls before it moves on.
        watch = getattr(self.hub.clock, "watch", None)
        if watch is not None:
            self._unwatch = watch(self.busy)
        self._loops = [
            asyncio.create_task(self._startup(), name="devices-startup"),
        ]

    async def stop(self) -> None:
        """Stop the loops, let switches finish, and write what is unsaved. Loop only."""
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._loops = []
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        await self.flush()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        self._pool.close()
        self.started = False

    async def _startup(self) -> None:
        try:
            await asyncio.gather(*(self._read(dev) for dev in self._devices.values()))
            await asyncio.to_thread(self._seed_energy)
            await self._restore()
        finally:
            self.ready.set()
        self._loops.append(asyncio.create_task(self._poll_loop(), name="devices-poll"))
        self._loops.append(asyncio.create_task(self._schedule_loop(), name="devices-schedule"))

    def busy(self) -> list[str]:
        """Return what is under way: driver calls in flight, switches not yet recorded."""
        out = []
        if self._inflight:
            out.append(f"devices: {self._inflight} driver calls")
        if self._tasks:
            out.append(f"devices: {len(self._tasks)} switches")
        if not self.ready.is_set() and self.started:
            out.append("devices: starting")
        return out

    async def settle(self) -> None:
        """Wait until every switch started so far has finished (for tests and benchmarks). Loop only."""
        await self.ready.wait()
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def flush(self) -> None:
        """Write the settings and events now if anything changed. Loop only."""
        self._flush_now.set()
        while self._save_task is not None and not self._save_task.done():
            await self._save_task
        if self._dirty or self._pending_events:
            await self._write()
        self._flush_now.clear()

    # -- reading ----------------------------------------------------------------------

    def _pusher(self, loop: asyncio.AbstractEventLoop, dev: _Device) -> Callable[[Reading], None]:
        def push(reading: Reading) -> None:
            # Drivers call this from their own threads (an MQTT client's) or on the loop.
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._on_reading(dev, reading)
            else:
                loop.call_soon_threadsafe(self._on_reading, dev, reading)

        return push

    async def _read(self, dev: _Device) -> None:
        self._inflight += 1
        generation = dev.generation
        try:
            if dev.is_async:
                reading = await asyncio.wait_for(dev.driver.read(), dev.settings.confirm_timeout_s)  # type: ignore[arg-type]
            else:
                reading = await asyncio.wait_for(
                    self._pool.run(dev.driver.read),  # type: ignore[arg-type]
                    dev.settings.confirm_timeout_s,
                )
        except Exception as exc:
            if dev.online:
                log.warning("device %s: reading failed: %s", dev.id, exc)
            reading = Reading(online=False)
        finally:
            self._inflight -= 1
        if (dev.generation != generation or dev.switching) and reading.on is not None:
            # Read before a switch that has finished (or runs) since: its relay state is stale,
            # and would undo the confirmed state until the next poll.
            reading = replace(reading, on=None, power_w=None)
        self._on_reading(dev, reading)

    async def _poll_loop(self) -> None:
        while True:
            await self.hub.clock.sleep(self.poll_s)
            await asyncio.gather(*(self._read(dev) for dev in list(self._devices.values())))

    def _on_reading(self, dev: _Device, reading: Reading) -> None:
        """Take one reading: publish it, count energy, and let the standby killer look. Loop only."""
        self.readings += 1
        now = self.hub.clock.time()
        values: dict[str, Any] = {}
        if reading.online is not None and reading.online != dev.online:
            dev.online = reading.online
            values["online"] = reading.online
        if reading.on is not None and not dev.switching and reading.on != dev.on:
            self._confirmed(dev, reading.on, now)
            values["on"] = reading.on
        if reading.power_w is not None:
            dev.power_w = reading.power_w
            values["power_w"] = round(reading.power_w, 1)
            if dev.on and not dev.switching and dev.killer.reading(reading.power_w, now):
                self._kill(dev, reading.power_w, now)
        if reading.energy_kwh is not None:
            dev.energy_kwh = reading.energy_kwh
            today = dev.energy.add(reading.energy_kwh, self._day(now))
            values["energy_kwh"] = round(reading.energy_kwh, 4)
            values["energy_today_kwh"] = round(today, 4)
        if dev.settings.always_on and reading.on is False and not dev.switching:
            self._spawn_switch(dev, True, "always_on", {}, "always on: found off, switched back on")
        if values:
            self.hub.state.update(f"devices/{dev.id}", values)

    def _day(self, now: float) -> str:
        if now >= self._day_end or now < self._day_end - 90000:
            local = datetime.fromtimestamp(now, self.hub.tz)
            self._today = local.date().isoformat()
            midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), self.hub.tz)
            self._day_end = midnight.timestamp()
        return self._today

    def _confirmed(self, dev: _Device, on: bool, now: float) -> None:
        if on and not dev.on:
            dev.killer.came_on(now)
        elif not on:
            dev.killer.went_off()
        dev.on = on

    def _kill(self, dev: _Device, power_w: float, now: float) -> None:
        threshold = dev.killer.threshold_w or 0.0
        below_s = now - (dev.killer.below_since or now)
        detail = {"power_w": round(power_w, 2), "threshold_w": threshold, "below_s": round(below_s, 1)}
        text = f"standby killer: {power_w:.1f} W, below {threshold:g} W for {below_s:.0f} s"
        self._spawn_switch(dev, False, "standby_killer", detail, text)

    def _seed_energy(self) -> None:
        """Today's energy so far from history, so that a restart does not start it at 0 (a thread)."""
        if self.history is None:
            return
        now = self.hub.clock.time()
        day = self._day(now)
        start = self._day_end - 86400  # close enough on a DST day: the counter's rise is what counts
        for dev in self._devices.values():
            try:
                values = list(self.history(f"devices/{dev.id}/energy_kwh", start, now))
            except Exception:
                continue  # no history for it yet
            if values:
                last = dev.energy_kwh if dev.energy_kwh is not None else values[-1]
                dev.energy.seed(day, counter_increase([*values, last]), last)
                self.hub.state[f"devices/{dev.id}/energy_today_kwh"] = round(dev.energy.today_kwh, 4)

    # -- switching --------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, RoostError):
                log.error("a device switch failed", exc_info=exc)

    async def _call_driver(self, dev: _Device, on: bool) -> bool:
        if dev.is_async:
            return bool(await dev.driver.switch(on))  # type: ignore[misc]
        return bool(await self._pool.run(lambda: dev.driver.switch(on)))

    def _spawn_switch(
        self, dev: _Device, on: bool, cause: Cause, detail: Mapping[str, Any], text: str
    ) -> None:
        # Counted at once: a reading that comes before the task runs must not start another.
        dev.switching += 1
        self._spawn(self._switch(dev, on, cause, detail, text, queued=True))

    async def _switch(
        self, dev: _Device, on: bool, cause: Cause, detail: Mapping[str, Any], text: str, queued: bool = False
    ) -> SwitchEvent:
        """Switch `dev`, wait for its confirmation, record why; never raises for the device's failure."""
        if not queued:
            dev.switching += 1
        try:
            return await self._switch_locked(dev, on, cause, detail, text)
        finally:
            dev.switching -= 1

    async def _switch_locked(
        self, dev: _Device, on: bool, cause: Cause, detail: Mapping[str, Any], text: str
    ) -> SwitchEvent:
        if dev.lock is None:
            dev.lock = asyncio.Lock()
        async with dev.lock:
            self._inflight += 1
            outcome: Any = "ok"
            confirmed: bool | None = None
            try:
                confirmed = await asyncio.wait_for(self._call_driver(dev, on), dev.settings.confirm_timeout_s)
            except TimeoutError:
                outcome, dev.error = (
                    "timeout",
                    f"no confirmation in time ({dev.settings.confirm_timeout_s:g} s)",
                )
            except RoostError as exc:
                outcome, dev.error = "error", exc.message
            except Exception as exc:
                log.warning("device %s: switching failed: %r", dev.id, exc)
                outcome, dev.error = "error", f"the driver failed: {type(exc).__name__}"
            finally:
                self._inflight -= 1
                dev.generation += 1
            now = self.hub.clock.time()
            values: dict[str, Any] = {}
            if confirmed is not None:
                dev.error = ""
                if confirmed != dev.on:
                    self._confirmed(dev, confirmed, now)
                elif confirmed and cause == "caller":
                    dev.killer.came_on(now)  # switched on by hand again: a new start grace
                values["on"] = confirmed
                dev.online = True
                values["online"] = True
                if not confirmed and dev.power_w:
                    dev.power_w = 0.0
                    values["power_w"] = 0.0
            values["error"] = dev.error
            self.switches += 1
            event = SwitchEvent(now, dev.id, on, cause, text, dict(detail), outcome, confirmed)
            dev.events.append(event)
            self._pending_events.append(event.to_json())
            values["note"] = self.note(dev)
            self.hub.state.update(f"devices/{dev.id}", values)
            self._save_soon()
            return event

    async def switch(
        self, device_id: str, on: bool, hold: Any = "next", caller: Caller = PROGRAM
    ) -> dict[str, Any]:
        """Switch a device by hand: it holds until the schedule's next change, or `hold` seconds. Loop only.

        Raises Conflict for switching an always-on device off, NoConfirmation when
        the device does not confirm in time, Unavailable when its driver fails.
        """
        dev = self._device(device_id)
        if not isinstance(on, bool):
            raise InvalidArguments(f"on must be true or false, not {on!r}", "on")
        held = parse_hold(hold)
        if dev.settings.always_on and not on:
            raise Conflict(
                f"{dev.settings.label} is always on and cannot be switched off; "
                "turn off its always-on setting first",
                id=dev.id,
            )
        now = self.hub.clock.time()
        text = f"by {caller.describe()}"
        override = self._make_override(dev, on, held, now, caller)
        dev.override = override
        if override is not None and override.until is not None:
            text += f", held until {self._hhmm(override.until)}"
        self._save_soon()
        if override is not None and override.until is not None:
            self._poke(override.until)
        event = await self._switch(dev, on, "caller", caller.to_json(), text)
        if event.outcome == "timeout":
            raise NoConfirmation(f"{dev.settings.label}: {dev.error}", id=dev.id)
        if event.outcome == "error":
            raise Unavailable(f"{dev.settings.label}: {dev.error}", id=dev.id)
        return self.describe(dev.id)

    def _make_override(
        self, dev: _Device, on: bool, held: float | str, now: float, caller: Caller
    ) -> Override | None:
        schedule = self._running_schedule(dev)
        if schedule is None:
            if held == "next":
                return None  # nothing would take over: the switch simply stays
            return Override(on, now + float(held), now, caller.describe(), before=dev.on)
        if held == "next":
            found = self._next(schedule, now)
            return Override(on, None if found is None else found[0], now, caller.describe())
        return Override(on, now + float(held), now, caller.describe())

    async def switch_device(self, id: str, on: bool, hold: str | float | None = None) -> dict[str, Any]:
        """Switch a device on or off by hand; it holds until its schedule's next change, or `hold` seconds."""
        return await self.switch(id, on, "next" if hold is None else hold, current_caller())

    # -- schedules --------------------------------------------------------------------

    def calendar(self) -> Calendar:
        """Return what schedules are evaluated with: the zone, sun times and the other schedules."""
        return Calendar(self.hub.tz, self.sun, self._schedules)

    def _running_schedule(self, dev: _Device) -> Schedule | None:
        s = dev.settings
        if s.always_on or not s.schedule_enabled or not s.schedule:
            return None
        return self._schedules.get(s.schedule)

    def _check_sun(self, schedule: Schedule) -> None:
        if schedule.uses_sun() and not self.has_place:
            raise InvalidSchedule(
                "sun rules need the node's place: App(latitude=..., longitude=...)", name=schedule.name
            )

    async def _schedule_loop(self) -> None:
        assert self._wake is not None
        while True:
            now = self.hub.clock.time()
            try:
                self.tick(now)
            except Exception:
                log.exception("the device schedule loop failed; it goes on")
            wake = self._next_wake(now)
            self._planned = wake
            self._wake.clear()
            sleep = asyncio.ensure_future(self.hub.clock.sleep(max(wake - now, 0.0)))
            poked = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait((sleep, poked), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleep.cancel()
                poked.cancel()

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

    def _next_wake(self, now: float) -> float:
        wake = min((now // 900 + 1) * 900, now + MAX_WAKE_S)
        for dev in self._devices.values():
            if dev.override is not None and dev.override.until is not None and dev.override.until > now:
                wake = min(wake, dev.override.until)
        cal = self.calendar()
        for schedule in self._schedules.values():
            if schedule.sun_rules():
                found = next_change(schedule, now, cal, horizon_s=wake - now)
                if found is not None:
                    wake = min(wake, found[0])
        return wake

    def tick(self, now: float) -> int:
        """Apply schedules and expired overrides at `now`; return how many switches it started. Loop only."""
        cal = self.calendar()
        values: dict[str, Cell] = {}
        started = 0
        for dev in self._devices.values():
            schedule = self._running_schedule(dev)
            override = dev.override
            if schedule is None:
                if override is not None and override.until is not None and now >= override.until:
                    dev.override = None
                    self._save_soon()
                    if override.before is not None and override.before != dev.on:
                        text = f"manual hold ended ({override.by}); back {'on' if override.before else 'off'}"
                        self._spawn_switch(dev, override.before, "override_expired", override.to_json(), text)
                        started += 1
                    self._publish_note(dev)
                continue
            value = values.get(schedule.name)
            if value is None:
                value = values[schedule.name] = value_at(schedule, now, cal)
            changed = value != dev.applied
            dev.applied = value
            dev.killer.arm(killer_w(value))
            if override is not None:
                if override.until is None or now < override.until:
                    continue
                dev.override = None
                self._save_soon()
                if not changed:
                    # A timed hold ended inside a slot: back to what the slot says.
                    if is_on(value) != dev.on:
                        text = f"manual hold ended ({override.by}); back to schedule {schedule.name}"
                        self._spawn_switch(
                            dev, is_on(value), "override_expired", self._why(schedule, now, cal), text
                        )
                        started += 1
                    self._publish_note(dev)
                    continue
            if changed or override is not None:
                self._publish_note(dev)
                if is_on(value) != dev.on:
                    why = self._why(schedule, now, cal)
                    self._spawn_switch(dev, is_on(value), "schedule", why, self._schedule_text(why))
                    started += 1
        return started

    def _why(self, schedule: Schedule, now: float, cal: Calendar) -> dict[str, Any]:
        return explain(schedule, now, cal)

    @staticmethod
    def _schedule_text(why: Mapping[str, Any]) -> str:
        value = why["value"]
        what = "off" if value == 0 else "on" if value == -1 else f"on, standby killer below {value:g} W"
        source = "" if why["source"] == "week" else f" ({why['source']})"
        return f"schedule {why['schedule']}: {why['day'].title()} {why['time']} {what}{source}"

    async def _restore(self) -> None:
        """After a start: bring each device to what always-on, a valid override or its schedule says."""
        now = self.hub.clock.time()
        cal = self.calendar()
        for dev in self._devices.values():
            schedule = self._running_schedule(dev)
            if dev.settings.always_on:
                dev.override = None
                if dev.on is not True and not dev.switching:
                    self._spawn_switch(dev, True, "always_on", {}, "always on: switched on at start")
                continue
            if dev.override is not None and dev.override.until is not None and dev.override.until <= now:
                dev.override = None  # expired while roost was down
            if schedule is not None:
                value = value_at(schedule, now, cal)
                dev.applied = value
                dev.killer.arm(killer_w(value))
            if dev.override is not None:
                if dev.override.on != dev.on:
                    detail = dev.override.to_json()
                    state = "on" if dev.override.on else "off"
                    text = f"after a restart: held {state} by hand ({dev.override.by})"
                    self._spawn_switch(dev, dev.override.on, "restart", detail, text)
            elif schedule is not None and dev.applied is not None and is_on(dev.applied) != dev.on:
                why = self._why(schedule, now, cal)
                self._spawn_switch(
                    dev,
                    is_on(dev.applied),
                    "restart",
                    why,
                    "after a restart: " + self._schedule_text(why),
                )
            if dev.on:
                dev.killer.came_on(now)  # who knows how long it has been on: a fresh grace
            self._publish_note(dev)
        await self.settle_started()

    async def settle_started(self) -> None:
        """Wait for the switches started so far. Loop only."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    # -- notes and descriptions ---------------------------------------------------------

    def _hhmm(self, ts: float) -> str:
        local = datetime.fromtimestamp(ts, self.hub.tz)
        now = datetime.fromtimestamp(self.hub.clock.time(), self.hub.tz)
        if local.date() == now.date():
            return local.strftime("%H:%M")
        return local.strftime("%a %H:%M")

    def chips(self, dev: _Device) -> list[str]:
        """Return short lines for the device's card: overrides, the killer, errors."""
        out: list[str] = []
        if dev.settings.always_on:
            out.append("always on")
        o = dev.override
        if o is not None:
            state = "on" if o.on else "off"
            if o.skip:
                out.append(
                    f"next switch skipped, {state} until {self._hhmm(o.until)}"
                    if o.until
                    else "next switch skipped"
                )
            elif o.until is not None:
                out.append(f"{state} by hand until {self._hhmm(o.until)}")
            else:
                out.append(f"{state} by hand")
        if dev.killer.threshold_w is not None and self._running_schedule(dev) is not None:
            out.append(f"standby killer armed (< {dev.killer.threshold_w:g} W)")
        if dev.error:
            out.append(dev.error)
        return out

    def note(self, dev: _Device) -> str:
        """Return the chips as one line (published at `devices/{id}/note`)."""
        return " · ".join(self.chips(dev))

    def _publish_note(self, dev: _Device) -> None:
        self.hub.state[f"devices/{dev.id}/note"] = self.note(dev)

    def _device(self, device_id: str) -> _Device:
        dev = self._devices.get(device_id) if isinstance(device_id, str) else None
        if dev is None:
            raise UnknownDevice(str(device_id))
        return dev

    def ids(self) -> list[str]:
        """Return every device id, sorted."""
        return sorted(self._devices)

    def describe(self, device_id: str) -> dict[str, Any]:
        """Return a device as the API shows it: settings, live state, override, killer, next change."""
        dev = self._device(device_id)
        now = self.hub.clock.time()
        schedule = self._running_schedule(dev)
        nxt = None
        if schedule is not None:
            found = self._next(schedule, now)
            if found is not None:
                nxt = {
                    "ts": found[0],
                    "at": _iso(found[0], self.hub),
                    "on": is_on(found[1]),
                    "value": found[1],
                }
        k = dev.killer
        grace_until = None if k.on_since is None else k.on_since + k.grace_s
        last = dev.events[-1].to_json() if dev.events else None
        return {
            **dev.settings.to_json(),
            "driver": spec_of(dev.driver),
            "state": {
                "on": dev.on,
                "power_w": None if dev.power_w is None else round(dev.power_w, 1),
                "energy_kwh": None if dev.energy_kwh is None else round(dev.energy_kwh, 4),
                "energy_today_kwh": round(dev.energy.today_kwh, 4),
                "online": dev.online,
                "error": dev.error,
            },
            "override": None if dev.override is None else dev.override.to_json(),
            "standby": {
                "armed": k.threshold_w is not None and schedule is not None,
                "threshold_w": k.threshold_w if schedule is not None else None,
                "state": k.state() if schedule is not None else "off",
                "grace_until": grace_until,
                "hold_s": dev.settings.standby_hold_s,
            },
            "next_change": nxt,
            "chips": self.chips(dev),
            "last_event": last,
        }

    def describe_all(self) -> list[dict[str, Any]]:
        """Return every device, sorted by id."""
        return [self.describe(i) for i in self.ids()]

    def events(self, device_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return the device's newest switch events, newest first."""
        dev = self._device(device_id)
        return [e.to_json() for e in list(dev.events)[::-1][:limit]]

    def preview(self, device_id: str, hours: float = 24.0) -> dict[str, Any]:
        """Return what the device will do over the next `hours`: segments with their reason."""
        dev = self._device(device_id)
        now = self.hub.clock.time()
        end = now + hours * 3600
        tz = self.hub.tz
        segments: list[dict[str, Any]] = []

        def add(start: float, stop: float, on: bool | None, value: Cell | None, why: str) -> None:
            if stop <= start:
                return
            segments.append(
                {
                    "from": _iso(start, self.hub),
                    "to": _iso(stop, self.hub),
                    "on": on,
                    "value": value,
                    "standby_w": None if value is None else killer_w(value),
                    "why": why,
                }
            )

        schedule = self._running_schedule(dev)
        if dev.settings.always_on:
            add(now, end, True, -1, "always on")
        elif schedule is None:
            o = dev.override
            if o is not None and o.until is not None and o.until < end:
                add(now, o.until, o.on, None, "by hand")
                add(o.until, end, o.before, None, "no schedule")
            else:
                add(now, end, dev.on, None, "no schedule" if o is None else "by hand")
        else:
            start = now
            o = dev.override
            if o is not None:
                until = end if o.until is None else min(o.until, end)
                value = value_at(schedule, now, self.calendar())
                add(now, until, o.on, value, "skipped switch" if o.skip else "by hand")
                start = until
            if start < end:
                for seg in preview(schedule, start, (end - start) / 3600, self.calendar()):
                    add(seg.start, seg.end, is_on(seg.value), seg.value, f"schedule {schedule.name}")
        return {
            "id": dev.id,
            "from": _iso(now, self.hub),
            "hours": hours,
            "tz": str(tz),
            "segments": segments,
        }

    # -- settings ---------------------------------------------------------------------

    async def update(
        self, device_id: str, patch: Mapping[str, Any], caller: Caller = PROGRAM
    ) -> dict[str, Any]:
        """Change a device's settings (PATCH); applies what they change at once. Loop only."""
        dev = self._device(device_id)
        if not isinstance(patch, Mapping):
            raise InvalidArguments("settings are a JSON object of fields to change")
        skip = patch.get("skip_next")
        rest = {k: v for k, v in patch.items() if k != "skip_next"}
        new = apply_settings(dev.settings, rest)
        if new.schedule and new.schedule != dev.settings.schedule and new.schedule not in self._schedules:
            raise InvalidArguments(f"no schedule named {new.schedule!r}", "schedule")
        if skip is not None and not isinstance(skip, bool):
            raise InvalidArguments("skip_next must be true or false", "skip_next")
        old = dev.settings
        dev.settings = new
        dev.edited.update(k for k in rest if getattr(old, k) != getattr(new, k))
        dev.killer.hold_s, dev.killer.grace_s = new.standby_hold_s, new.start_grace_s
        if new.record != old.record:
            self.hub.set_meta(f"devices/{dev.id}/*", record=new.record)
        if new.name != old.name:
            self._declare(dev)
        self.hub.state[f"devices/{dev.id}/always_on"] = new.always_on
        now = self.hub.clock.time()
        if new.always_on and not old.always_on:
            dev.override = None
            if dev.on is not True:
                self._spawn_switch(dev, True, "always_on", {}, "always on: set by " + caller.describe())
        elif (
            new.schedule_enabled != old.schedule_enabled
            or new.schedule != old.schedule
            or new.always_on != old.always_on
        ):
            dev.override = None
            dev.applied = None  # re-enabling a schedule applies the current slot
            if self._running_schedule(dev) is None:
                dev.killer.arm(None)
        if skip is True:
            self._skip_next(dev, now)
        elif skip is False and dev.override is not None and dev.override.skip:
            dev.override = None
            dev.applied = None
        self._save_soon()
        self.tick(now)
        self._poke()
        self._publish_note(dev)
        return self.describe(dev.id)

    def _skip_next(self, dev: _Device, now: float) -> None:
        schedule = self._running_schedule(dev)
        if schedule is None:
            raise Conflict(
                f"{dev.settings.label} runs no schedule: there is no next switch to skip", id=dev.id
            )
        cal = self.calendar()
        first = next_change(schedule, now, cal)
        if first is None:
            raise Conflict(f"schedule {schedule.name} does not change in the next week", id=dev.id)
        second = next_change(schedule, first[0], cal)
        keep = bool(dev.on) if dev.on is not None else is_on(value_at(schedule, now, cal))
        dev.override = Override(
            keep, None if second is None else second[0], now, "skip the next switch", skip=True
        )

    def schedules(self) -> list[dict[str, Any]]:
        """Return every schedule with the devices that use it."""
        return [self.schedule_json(n) for n in sorted(self._schedules)]

    def schedule_json(self, name: str) -> dict[str, Any]:
        """Return a schedule and the ids of the devices that use it."""
        schedule = self._schedules.get(name)
        if schedule is None:
            raise UnknownSchedule(name)
        users = sorted(d.id for d in self._devices.values() if d.settings.schedule == name)
        return {**schedule.to_json(), "devices": users}

    async def put_schedule(self, name: str, body: Any) -> dict[str, Any]:
        """Create or replace a schedule; devices running it follow its current slot at once. Loop only."""
        check_name(name)
        if isinstance(body, Mapping) and body.get("name", name) != name:
            raise InvalidSchedule(f"the body names {body.get('name')!r} but the address {name!r}")
        schedule = parse_schedule(body, name)
        self._check_sun(schedule)
        self._schedules[name] = schedule
        self._edited_schedules.add(name)
        self._next_cache.clear()  # a vacation may name this one: forget them all
        for dev in self._devices.values():
            if dev.settings.schedule == name and dev.override is None:
                dev.applied = None
        self._save_soon()
        self.tick(self.hub.clock.time())
        self._poke()
        return self.schedule_json(name)

    async def delete_schedule(self, name: str) -> None:
        """Delete a schedule that no device uses; raise Conflict naming the devices that do. Loop only."""
        if name not in self._schedules:
            raise UnknownSchedule(name)
        users = sorted(d.id for d in self._devices.values() if d.settings.schedule == name)
        if users:
            raise Conflict(f"schedule {name!r} is used by {', '.join(users)}", devices=users)
        del self._schedules[name]
        self._edited_schedules.add(name)
        self._next_cache.clear()
        self._save_soon()

    # -- persistence ------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """Return what persists: edited settings, schedules, overrides (the `roost config export` form)."""
        return _build_document(self._snapshot())

    def _snapshot(self) -> _Snapshot:
        """What the settings file holds, as immutable parts (cheap; built into JSON elsewhere). Loop only."""
        devices = tuple(
            (dev.id, dev.source, dev.settings, frozenset(dev.edited), dev.override, dev.driver)
            for dev in self._devices.values()
        )
        schedules = tuple(
            (name, schedule)
            for name, schedule in self._schedules.items()
            if name in self._edited_schedules or name not in self._program_schedules
        )
        deleted = tuple(n for n in self._edited_schedules if n not in self._schedules)
        return _Snapshot(devices, schedules, deleted)

    def _merge(self, doc: Mapping[str, Any]) -> None:
        from roost.devices.driver import build_driver

        for name, raw in doc.get("schedules", {}).items():
            try:
                self._schedules[name] = parse_schedule(raw, name)
                self._edited_schedules.add(name)
            except RoostError as exc:
                log.error("schedule %s in %s is unusable and left out: %s", name, self.settings_path, exc)
        for name in doc.get("deleted_schedules", []):
            if name in self._program_schedules and name not in doc.get("schedules", {}):
                self._schedules.pop(name, None)
                self._edited_schedules.add(name)
        for device_id, entry in doc.get("devices", {}).items():
            if not isinstance(entry, Mapping):
                continue
            settings = entry.get("settings", {})
            dev = self._devices.get(device_id)
            try:
                if dev is not None:
                    dev.settings = apply_settings(dev.settings, settings)
                    dev.edited = set(entry.get("edited", settings))
                elif entry.get("source") == "config":
                    driver = build_driver(entry.get("driver", {"type": "none"}))
                    values = apply_settings(DeviceSettings(check_id(device_id)), settings)
                    dev = self._devices[device_id] = _Device(values, driver, is_async(driver), "config")
                    dev.edited = set(EDITABLE)
                else:
                    continue  # a program's device the program no longer declares
            except RoostError as exc:
                log.error("device %s in %s is unusable and left out: %s", device_id, self.settings_path, exc)
                continue
        for device_id, raw in doc.get("overrides", {}).items():
            if device_id in self._devices:
                try:
                    self._devices[device_id].override = Override.from_json(raw)
                except (KeyError, TypeError, ValueError):
                    pass
        for dev in self._devices.values():
            dev.killer.hold_s, dev.killer.grace_s = dev.settings.standby_hold_s, dev.settings.start_grace_s
            dev.events = deque(maxlen=self.events_per_device)

    def _load_events(self) -> None:
        log_ = EventLog(self.events_path, self.events_per_device)
        stored = log_.read()
        kept: list[dict[str, Any]] = []
        for obj in stored:
            dev = self._devices.get(str(obj.get("device")))
            if dev is None:
                continue
            try:
                dev.events.append(SwitchEvent.from_json(obj))
            except (KeyError, TypeError, ValueError):
                continue
        for dev in self._devices.values():
            kept.extend(e.to_json() for e in dev.events)
        if len(kept) < len(stored):
            kept.sort(key=lambda e: e["ts"])
            log_.compact(kept)

    def _save_soon(self) -> None:
        self._dirty = True
        if self._save_task is None or self._save_task.done():
            try:
                self._save_task = asyncio.get_running_loop().create_task(self._write())
            except RuntimeError:
                pass  # not started: start() reads and stop() writes

    async def _write(self) -> None:
        # A moment's wait gathers a burst of changes (a slot boundary switching 500 devices,
        # a run of switches) into one write; the file is never more than this behind.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._flush_now.wait(), SAVE_DELAY_S)
        while self._dirty or self._pending_events:
            self._dirty = False
            snapshot = self._snapshot()
            events, self._pending_events = self._pending_events, []
            try:
                # Turning 500 devices into JSON takes milliseconds: not on the loop.
                await asyncio.to_thread(self._write_files, snapshot, events)
            except OSError:
                log.exception("saving device settings to %s failed", self.settings_path)
                return

    def _write_files(self, snapshot: _Snapshot, events: list[dict[str, Any]]) -> None:
        save_document(self.settings_path, _build_document(snapshot))
        EventLog(self.events_path, self.events_per_device).append(events)

    # -- the state tree ---------------------------------------------------------------

    def _declare(self, dev: _Device) -> None:
        base = f"devices/{dev.id}"
        label = dev.settings.label
        self.hub.set_meta(
            f"{base}/on",
            kind="switch",
            label=label,
            command="switch_device",
            command_args={"id": dev.id},
            power=f"{base}/power_w",
            lock=f"{base}/always_on",
        )
        self.hub.set_meta(f"{base}/power_w", kind="power", unit="W", label=f"{label} power")
        self.hub.set_meta(f"{base}/energy_kwh", kind="energy", unit="kWh", label=f"{label} energy")
        # The page lists these under one "Devices" group: a bare "Online" or "Status" there
        # does not say whose it is.
        self.hub.set_meta(f"{base}/energy_today_kwh", label=f"{label} today")
        self.hub.set_meta(f"{base}/online", label=f"{label} online")
        self.hub.set_meta(f"{base}/error", label=f"{label}: last switch failed")
        self.hub.set_meta(f"{base}/note", label=f"{label} status")
        if not dev.settings.record:
            self.hub.set_meta(f"{base}/*", record=False)
        self.hub.state.update(base, {"always_on": dev.settings.always_on, "online": dev.online, "error": ""})

    # -- HTTP ---------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the device and schedule routes."""
        return device_routes(self)

    def openapi_paths(self) -> dict[str, Any]:
        """Return their OpenAPI description."""
        return openapi_paths()

    # -- observability ----------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Return the count of devices, offline ones, and ones whose last switch failed."""
        offline = sorted(d.id for d in self._devices.values() if not d.online)
        failing = sorted(d.id for d in self._devices.values() if d.error)
        return {"ok": not failing, "devices": len(self._devices), "offline": offline, "failing": failing}


@dataclass(frozen=True, slots=True)
class _Snapshot:
    devices: tuple[tuple[str, str, DeviceSettings, frozenset[str], Override | None, Driver], ...]
    schedules: tuple[tuple[str, Schedule], ...]
    deleted: tuple[str, ...]


def _build_document(snap: _Snapshot) -> dict[str, Any]:
    """Return the settings document of a snapshot (any thread: its parts are immutable)."""
    doc = empty_document()
    for device_id, source, settings, edited, override, driver in snap.devices:
        entry: dict[str, Any] = {"source": source, "edited": sorted(edited)}
        if source == "program":
            entry["settings"] = {k: getattr(settings, k) for k in sorted(edited)}
        else:
            entry["settings"] = {k: getattr(settings, k) for k in EDITABLE}
            entry["driver"] = spec_of(driver)
        doc["devices"][device_id] = entry
        if override is not None:
            doc["overrides"][device_id] = override.to_json()
    for name, schedule in sorted(snap.schedules, key=lambda item: item[0]):
        doc["schedules"][name] = schedule.to_json()
    if snap.deleted:
        doc["deleted_schedules"] = sorted(snap.deleted)
    return doc


def _iso(ts: float, hub: Hub) -> str:
    return datetime.fromtimestamp(ts, hub.tz).isoformat(timespec="seconds")


def replace_settings(settings: DeviceSettings, **changes: Any) -> DeviceSettings:
    """Return `settings` with `changes` (no checking; for code that built them itself)."""
    return replace(settings, **changes)
