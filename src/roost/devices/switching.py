"""Switching a device: the driver call, its confirmation, the override it leaves, the event that says why."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from roost.core.caller import PROGRAM, Caller
from roost.core.errors import Conflict, InvalidArguments, RoostError, Unavailable
from roost.devices.base import DeviceRecord, NoConfirmation
from roost.devices.model import Cause, Override, SwitchEvent, parse_hold
from roost.devices.views import Views
from roost.runtime.commands import current_caller

log = logging.getLogger(__name__)


class Switching(Views):
    """Switch devices, by hand or for a cause, and record each switch."""

    def _confirmed(self, dev: DeviceRecord, on: bool, now: float) -> None:
        if on and not dev.on:
            dev.killer.came_on(now)
        elif not on:
            dev.killer.went_off()
        dev.on = on

    def _kill(self, dev: DeviceRecord, power_w: float, now: float) -> None:
        threshold = dev.killer.threshold_w or 0.0
        below_s = now - (dev.killer.below_since or now)
        detail = {"power_w": round(power_w, 2), "threshold_w": threshold, "below_s": round(below_s, 1)}
        text = f"standby killer: {power_w:.1f} W, below {threshold:g} W for {below_s:.0f} s"
        self._spawn_switch(dev, False, "standby_killer", detail, text)

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

    async def _call_driver(self, dev: DeviceRecord, on: bool) -> bool:
        if dev.is_async:
            return bool(await dev.driver.switch(on))  # type: ignore[misc]
        return bool(await self._pool.run(lambda: dev.driver.switch(on)))

    def _spawn_switch(
        self, dev: DeviceRecord, on: bool, cause: Cause, detail: Mapping[str, Any], text: str
    ) -> None:
        # Counted at once: a reading that comes before the task runs must not start another.
        dev.switching += 1
        self._spawn(self._switch(dev, on, cause, detail, text, queued=True))

    async def _switch(
        self,
        dev: DeviceRecord,
        on: bool,
        cause: Cause,
        detail: Mapping[str, Any],
        text: str,
        queued: bool = False,
    ) -> SwitchEvent:
        """Switch `dev`, wait for its confirmation, record why; never raises for the device's failure."""
        if not queued:
            dev.switching += 1
        try:
            return await self._switch_locked(dev, on, cause, detail, text)
        finally:
            dev.switching -= 1

    async def _switch_locked(
        self, dev: DeviceRecord, on: bool, cause: Cause, detail: Mapping[str, Any], text: str
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
            if dev.removed:
                return event  # removed while it switched: nothing of it may come back
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
        self, dev: DeviceRecord, on: bool, held: float | str, now: float, caller: Caller
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
