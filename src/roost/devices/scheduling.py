"""Schedules of devices: the loop that follows slots and sun edges, expiring overrides, restore at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from roost.core.errors import Conflict, InvalidSchedule
from roost.core.weekgrid import Cell, is_on, killer_w
from roost.core.weekplan import Calendar, Schedule, check_name, explain, next_change, parse_schedule, value_at
from roost.devices.base import UnknownSchedule
from roost.devices.readings import Readings
from roost.runtime.clock import sleep_unless_woken

log = logging.getLogger(__name__)
MAX_WAKE_S = 60.0  # the schedule loop looks at the wall clock at least this often (NTP jumps)


class Scheduling(Readings):
    """Run schedules and keep the schedule catalogue."""

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
            await sleep_unless_woken(self.hub.clock, wake - now, self._wake)

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
