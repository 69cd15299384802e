"""How the devices component describes a device: its API form, card chips and a preview of what comes."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from roost.core.errors import NotFound, Unavailable
from roost.core.weekgrid import Cell, is_on, killer_w
from roost.core.weekplan import preview, value_at
from roost.devices.base import DeviceRecord, iso_time
from roost.devices.driver import spec_of
from roost.devices.energy import bucket_increases
from roost.devices.persistence import Persistence


class Views(Persistence):
    """Describe devices for the API, the page's cards and the preview."""

    def chips(self, dev: DeviceRecord) -> list[str]:
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

    def note(self, dev: DeviceRecord) -> str:
        """Return the chips as one line (published at `devices/{id}/note`)."""
        return " · ".join(self.chips(dev))

    def _publish_note(self, dev: DeviceRecord) -> None:
        self.hub.state[f"devices/{dev.id}/note"] = self.note(dev)

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
                    "at": iso_time(found[0], self.hub),
                    "on": is_on(found[1]),
                    "value": found[1],
                }
        k = dev.killer
        grace_until = None if k.on_since is None else k.on_since + k.grace_s
        last = dev.events[-1].to_json() if dev.events else None
        return {
            **dev.settings.to_json(),
            "source": dev.source,  # "program": declared in code, so the page cannot remove it
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
                    "from": iso_time(start, self.hub),
                    "to": iso_time(stop, self.hub),
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
            "from": iso_time(now, self.hub),
            "hours": hours,
            "tz": str(tz),
            "segments": segments,
        }

    async def energy(
        self, device_id: str, by: Literal["day", "month"] = "day", count: int = 0
    ) -> dict[str, Any]:
        """Return its energy per local day (the last `count`, 30 by default) or month (12). Loop only."""

        dev = self._device(device_id)
        if self.buckets is None:
            raise Unavailable("this node keeps no history: energy bars need it", id=dev.id)
        tz = self.hub.tz
        today = datetime.fromtimestamp(self.hub.clock.time(), tz).date()
        if by == "day":
            n = count or 30
            days = [today - timedelta(days=i) for i in range(n - 1, -1, -1)]
            labels = [d.isoformat() for d in days]
            first, width, resolution = days[0], 3600, "1h"
        else:
            n = count or 12
            months = [_month_back(today, i) for i in range(n - 1, -1, -1)]
            labels = [m.isoformat()[:7] for m in months]
            first, width, resolution = months[0], 86400, "1d"
        start = datetime.combine(first, time(), tz).timestamp()
        cut = 7 if by == "month" else 10
        reader = self.buckets
        path = f"devices/{dev.id}/energy_kwh"
        try:
            # One bucket before the first: the rise from it into the first counts too.
            end = self.hub.clock.time() + 1
            buckets = await asyncio.to_thread(reader, path, start - width, end, resolution)
        except NotFound:
            buckets = []  # never recorded
        if buckets is None:
            raise Unavailable("this node keeps no history: energy bars need it", id=dev.id)
        sums = bucket_increases(buckets, lambda t: datetime.fromtimestamp(t, tz).date().isoformat()[:cut])
        return {
            "id": dev.id,
            "by": by,
            "unit": "kWh",
            "production": dev.settings.production,
            "buckets": [
                {"start": label, "kwh": None if label not in sums else round(sums[label], 4)}
                for label in labels
            ],
        }


def _month_back(day: date, months: int) -> date:
    """Return the first of the month `months` before `day`'s."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
