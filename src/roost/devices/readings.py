"""Readings of devices: polled or pushed, published, counted into energy, shown to the standby killer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from roost.devices.base import DeviceRecord
from roost.devices.driver import Reading
from roost.devices.energy import counter_increase
from roost.devices.switching import Switching

log = logging.getLogger(__name__)


class Readings(Switching):
    """Take readings from the drivers."""

    def _pusher(self, loop: asyncio.AbstractEventLoop, dev: DeviceRecord) -> Callable[[Reading], None]:
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

    async def _read(self, dev: DeviceRecord) -> None:
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

    def _on_reading(self, dev: DeviceRecord, reading: Reading) -> None:
        """Take one reading: publish it, count energy, and let the standby killer look. Loop only."""
        if dev.removed:
            return
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
