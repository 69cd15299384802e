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
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from roost.core.caller import PROGRAM, Caller
from roost.core.errors import Conflict, InvalidArguments, InvalidValue
from roost.core.weekgrid import is_on
from roost.core.weekplan import Schedule, next_change, parse_schedule, value_at
from roost.devices.base import DeviceRecord
from roost.devices.driver import (
    Clocked,
    Closing,
    Driver,
    Pushing,
    build_driver,
    check_spec,
    driver_types,
    is_async,
)
from roost.devices.model import (
    EDITABLE,
    RESERVED_IDS,
    DeviceSettings,
    Override,
    apply_settings,
    check_id,
    slugify,
)
from roost.devices.routes import device_routes, openapi_paths
from roost.devices.scheduling import Scheduling
from roost.devices.storage import load_document
from roost.runtime.component import Component
from roost.runtime.routes import Route

log = logging.getLogger(__name__)


class Devices(Scheduling, Component):
    """Devices with drivers, weekly schedules, a standby killer and manual overrides."""

    name = "devices"

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
        self._devices[device_id] = DeviceRecord(values, driver, is_async(driver), "program")
        self._add_command()
        return values

    async def create(self, body: Mapping[str, Any], caller: Caller = PROGRAM) -> dict[str, Any]:
        """Add a device from its JSON form (`POST /api/devices`); it persists and runs at once. Loop only.

        `body` holds `driver` (a spec such as `{"type": "simulated"}`), `name` and
        the other settings, and optionally an `id` (else a slug of the name, made
        unique). Raises InvalidArguments naming the bad field, Conflict for a taken id.
        """
        if not isinstance(body, Mapping):
            raise InvalidArguments("a device is a JSON object: name, driver and settings")
        fields = ("id", "driver", *EDITABLE)
        for key in body:
            if key not in fields:
                raise InvalidArguments(f"{key!r} is not a field of a device: {', '.join(fields)}", key)
        settings = {k: v for k, v in body.items() if k in EDITABLE}
        if "schedule" in settings and "schedule_enabled" not in settings:
            settings["schedule_enabled"] = bool(settings["schedule"])
        values = apply_settings(DeviceSettings("new"), settings)
        if "id" in body:
            try:
                device_id = check_id(body["id"])
            except InvalidValue as exc:
                raise InvalidArguments(exc.message, "id") from None
            if device_id in self._devices:
                raise Conflict(f"a device with id {device_id!r} exists already", id=device_id)
        elif values.name:
            device_id = self._free_id(slugify(values.name))
        else:
            raise InvalidArguments("a device needs a name (or an id)", "name")
        if values.schedule and values.schedule not in self._schedules:
            raise InvalidArguments(f"no schedule named {values.schedule!r}", "schedule")
        if "driver" not in body:
            raise InvalidArguments('say which driver, such as "driver": {"type": "simulated"}', "driver")
        try:
            check_spec(body["driver"])
            driver = build_driver(body["driver"])
        except InvalidValue as exc:
            field = exc.details.get("field")
            # The field of the spec, when it is one: the page marks that input.
            raise InvalidArguments(exc.message, f"driver.{field}" if field else "driver") from None
        dev = DeviceRecord(replace(values, id=device_id), driver, is_async(driver), "config", set(EDITABLE))
        dev.killer.hold_s, dev.killer.grace_s = values.standby_hold_s, values.start_grace_s
        dev.events = deque(maxlen=self.events_per_device)
        self._devices[device_id] = dev
        self._attach(asyncio.get_running_loop(), dev)
        self._add_command()
        self._save_soon()
        await self._read(dev)
        now = self.hub.clock.time()
        if values.always_on and dev.on is not True:
            self._spawn_switch(dev, True, "always_on", {}, "always on: added by " + caller.describe())
        self.tick(now)
        self._poke()
        self._publish_note(dev)
        await self.flush()
        return self.describe(device_id)

    def _free_id(self, slug: str) -> str:
        found, n = slug, 1
        while found in self._devices or found in RESERVED_IDS:
            n += 1
            found = f"{slug[: 64 - len(str(n)) - 1]}-{n}"
        return found

    async def remove(self, device_id: str, caller: Caller = PROGRAM) -> None:
        """Remove a device added in the page, with its settings, events and state. Loop only.

        Raises Conflict for a device the program declares: it would come back at the next start.
        """
        dev = self._device(device_id)
        if dev.source == "program":
            raise Conflict(
                f"{dev.settings.label} is declared in the program; remove it there (the page can only "
                "remove devices added in the page or imported)",
                id=dev.id,
            )
        dev.removed = True
        del self._devices[device_id]
        if isinstance(dev.driver, Closing):
            try:
                dev.driver.close()
            except Exception:
                log.exception("device %s: closing its driver failed", device_id)
        base = f"devices/{device_id}"
        if base in self.hub.state:
            del self.hub.state[base]
        self._purge.add(device_id)
        self._save_soon()
        await self.flush()
        log.info("device %s removed by %s", device_id, caller.describe())

    def drivers(self) -> list[dict[str, Any]]:
        """Return the driver types this node can build, with the fields their spec takes."""
        return [t.to_json() for t in driver_types()]

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
            self._attach(loop, dev)
        self.started = True
        # A fake clock (tests, roost.testing) waits for driver calls before it moves on.
        watch = getattr(self.hub.clock, "watch", None)
        if watch is not None:
            self._unwatch = watch(self.busy)
        self._loops = [
            asyncio.create_task(self._startup(), name="devices-startup"),
        ]

    def _attach(self, loop: asyncio.AbstractEventLoop, dev: DeviceRecord) -> None:
        if isinstance(dev.driver, Clocked):
            dev.driver.use_clock(self.hub.clock.time)
        if isinstance(dev.driver, Pushing):
            dev.driver.attach(self._pusher(loop, dev))
        self._declare(dev)

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
        if self._dirty or self._pending_events or self._purge:
            await self._write()
        self._flush_now.clear()

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

    def _skip_next(self, dev: DeviceRecord, now: float) -> None:
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

    def _declare(self, dev: DeviceRecord) -> None:
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

    def routes(self) -> list[Route]:
        """Return the device and schedule routes."""
        return device_routes(self)

    def openapi_paths(self) -> dict[str, Any]:
        """Return their OpenAPI description."""
        return openapi_paths()

    def health(self) -> dict[str, Any]:
        """Return the count of devices, offline ones, and ones whose last switch failed."""
        offline = sorted(d.id for d in self._devices.values() if not d.online)
        failing = sorted(d.id for d in self._devices.values() if d.error)
        return {"ok": not failing, "devices": len(self._devices), "offline": offline, "failing": failing}


def replace_settings(settings: DeviceSettings, **changes: Any) -> DeviceSettings:
    """Return `settings` with `changes` (no checking; for code that built them itself)."""
    return replace(settings, **changes)
