"""Settings, schedules, overrides and switch events of the devices, to and from the data directory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roost.core.errors import RoostError
from roost.core.weekplan import Schedule, parse_schedule
from roost.devices.base import DeviceBase, DeviceRecord
from roost.devices.driver import Driver, is_async, spec_of
from roost.devices.model import EDITABLE, DeviceSettings, Override, SwitchEvent, apply_settings, check_id
from roost.devices.storage import EventLog, empty_document, save_document

log = logging.getLogger(__name__)
SAVE_DELAY_S = 1.0  # settings changes are gathered this long into one write


class Persistence(DeviceBase):
    """Load and save what persists: a crash-safe settings file, an appended event log."""

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
                    dev = self._devices[device_id] = DeviceRecord(values, driver, is_async(driver), "config")
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
        # a run of switches) into one write, and so does the wait between writes: a steady
        # stream of switches costs a write a second, not one write after another (each turns
        # every device into JSON). The file is never much more than this behind.
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), SAVE_DELAY_S)
            if not (self._dirty or self._pending_events or self._purge):
                return
            self._dirty = False
            snapshot = self._snapshot()
            events, self._pending_events = self._pending_events, []
            purge, self._purge = self._purge, set()
            try:
                # Turning 500 devices into JSON takes milliseconds: not on the loop.
                await asyncio.to_thread(self._write_files, snapshot, events, purge)
            except OSError:
                log.exception("saving device settings to %s failed", self.settings_path)
                return

    def _write_files(self, snapshot: _Snapshot, events: list[dict[str, Any]], purge: set[str]) -> None:
        save_document(self.settings_path, _build_document(snapshot))
        log_ = EventLog(self.events_path, self.events_per_device)
        if purge:
            # A removed device's events go with it: a new device given its id starts with none.
            log_.compact(e for e in log_.read() if e.get("device") not in purge)
            events = [e for e in events if e.get("device") not in purge]
        log_.append(events)


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
