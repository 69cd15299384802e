"""`roost import plugwise CONFIG_DIR`: Plugwise-2-py's circles, schedules and energy logs.

Plugwise-2-py keeps its configuration in a folder:

- `pw-conf.json` `{"static": [...]}`: per circle `mac`, `name`, `location`,
  `category`, `loginterval` (minutes, a string), `always_on` and `production`
  (the strings "True"/"False");
- `pw-control.json` `{"dynamic": [...]}`: per circle `mac`, `switch_state`,
  `schedule_state` ("on"/"off"), `schedule` (a name or ""), `savelog` and
  `monitor` ("yes"/"no");
- `schedules/NAME.json` `{"name", "description", "schedule": [7 x 96]}`, the
  same grid roost uses, so it loads unchanged;
- energy logs `pw-<MAC>.log` and `pw-YYYY-MM-DD-<MAC>.log`: lines
  `timestamp, average W, Wh`, the timestamp in epoch seconds or local
  `YYYY-MM-DD HH:MM:SS`.

Circles become devices with a `{"type": "plugwise", "mac": ...}` driver spec
(offline until a Plugwise driver exists, but nothing is lost); each log line
becomes a `power_w` sample and a step of the `energy_kwh` counter in history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from roost.core.errors import InvalidValue, RoostError
from roost.core.weekplan import Schedule, parse_schedule
from roost.devices.model import slugify
from roost.devices.storage import SETTINGS_FILE, load_document, save_document

_LOG_NAME = re.compile(r"^pw-(?:(\d{4}-\d{2}-\d{2})-)?([0-9A-Fa-f]{16})\.log$")
# Plugwise-2-py's categories are free text: map the usual ones onto roost's.
_CATEGORY_WORDS = (
    (("tv", "media", "audio", "hifi", "computer", "pc", "game"), "media"),
    (("light", "lamp"), "light"),
    (("fridge", "freezer", "kitchen", "dish", "coffee", "oven", "cook", "kettle", "wash"), "kitchen"),
    (("pv", "solar", "inverter"), "solar"),
    (("heat", "boiler", "pump"), "heating"),
)


@dataclass
class PlugwiseReport:
    """What an import found and did."""

    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    samples: list[tuple[str, float, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return a few lines for the terminal."""
        lines = [
            f"imported {len(self.devices)} devices ({', '.join(self.devices)}) "
            f"and {len(self.schedules)} schedules ({', '.join(self.schedules) or 'none'})"
        ]
        if self.samples:
            lines.append(f"and {len(self.samples)} history samples from energy logs")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def category_of(text: str) -> str:
    """Return roost's category for a Plugwise-2-py category (`PV` -> solar, `fridge` -> kitchen)."""
    low = text.lower()
    for words, category in _CATEGORY_WORDS:
        if any(w in low for w in words):
            return category
    return "other"


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "on", "yes", "1")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidValue(f"{path} is not JSON: {exc}") from None


def read_config(config_dir: Path) -> PlugwiseReport:
    """Read a Plugwise-2-py configuration folder into devices (settings documents) and schedules."""
    report = PlugwiseReport()
    static = _read(config_dir / "pw-conf.json")
    circles = static.get("static") if isinstance(static, Mapping) else None
    if not isinstance(circles, list):
        raise InvalidValue(f'{config_dir / "pw-conf.json"} has no "static" list of circles')
    control_path = config_dir / "pw-control.json"
    dynamic = _read(control_path).get("dynamic", []) if control_path.exists() else []
    controls = {str(c.get("mac", "")).upper(): c for c in dynamic if isinstance(c, Mapping)}
    for path in sorted((config_dir / "schedules").glob("*.json")):
        try:
            schedule = parse_schedule(_read(path), path.stem)
        except RoostError as exc:
            report.warnings.append(f"{path.name} left out: {exc}")
            continue
        report.schedules[schedule.name] = schedule
    for circle in circles:
        if not isinstance(circle, Mapping) or not circle.get("mac"):
            report.warnings.append(f"a circle without a mac left out: {circle!r}")
            continue
        mac = str(circle["mac"]).upper()
        control = controls.get(mac, {})
        name = str(circle.get("name") or mac)
        device_id = _unique(slugify(name), report.devices)
        wanted = str(control.get("schedule") or "")
        if wanted and wanted not in report.schedules:
            report.warnings.append(f"{device_id}: schedule {wanted!r} is not in schedules/; left without one")
            wanted = ""
        try:
            interval_min = int(str(circle.get("loginterval", "60")))
        except ValueError:
            interval_min = 60
        settings = {
            "name": name[:80],
            "location": str(circle.get("location", ""))[:80],
            "category": category_of(str(circle.get("category", ""))),
            "always_on": _flag(circle.get("always_on", "False")),
            "production": _flag(circle.get("production", "False")),
            "record": _flag(control.get("savelog", "yes")),
            "schedule": wanted,
            "schedule_enabled": bool(wanted) and _flag(control.get("schedule_state", "off")),
        }
        driver = {
            "type": "plugwise",
            "mac": mac,
            "loginterval_min": interval_min,
            "monitor": _flag(control.get("monitor", "no")),
            "switch_state": "on" if _flag(control.get("switch_state", "off")) else "off",
        }
        report.devices[device_id] = {
            "source": "config",
            "edited": sorted(settings),
            "settings": settings,
            "driver": driver,
        }
    return report


def _unique(slug: str, taken: Mapping[str, Any]) -> str:
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def read_logs(logs_dir: Path, report: PlugwiseReport, tz: tzinfo) -> None:
    """Add history samples from the energy logs in `logs_dir` for the devices in `report`."""
    by_mac = {d["driver"]["mac"]: device_id for device_id, d in report.devices.items()}
    totals: dict[str, float] = {}
    files = sorted(p for p in logs_dir.glob("pw-*.log") if _LOG_NAME.match(p.name))
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for path in files:
        mac = _LOG_NAME.match(path.name)[2].upper()  # type: ignore[index]
        device_id = by_mac.get(mac)
        if device_id is None:
            report.warnings.append(f"{path.name}: no circle with mac {mac}")
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            parsed = _log_line(line, tz)
            if parsed is None:
                report.warnings.append(f"{path.name}:{number}: not `timestamp, W, Wh`: {line[:60]!r}")
                continue
            rows.setdefault(device_id, []).append(parsed)
    for device_id, entries in rows.items():
        entries.sort()
        total = totals.get(device_id, 0.0)
        for ts, watts, wh in entries:
            total += wh / 1000
            report.samples.append((f"devices/{device_id}/power_w", ts, round(watts, 3)))
            report.samples.append((f"devices/{device_id}/energy_kwh", ts, round(total, 6)))
        totals[device_id] = total


def _log_line(line: str, tz: tzinfo) -> tuple[float, float, float] | None:
    parts = [p.strip() for p in line.split(",")]
    if len(parts) < 3:
        return None
    try:
        watts, wh = float(parts[1]), float(parts[2])
        if re.fullmatch(r"\d+(\.\d+)?", parts[0]):
            ts = float(parts[0])
        else:
            ts = datetime.fromisoformat(parts[0]).replace(tzinfo=tz).timestamp()
    except ValueError:
        return None
    if not (0 < ts < 2**33) or watts != watts or wh != wh:
        return None
    return ts, watts, wh


def import_plugwise(config_dir: Path, data_dir: Path, logs_dir: Path | None, tz: tzinfo) -> PlugwiseReport:
    """Read the configuration (and logs) and merge the devices and schedules into the node's settings."""
    if not config_dir.is_dir():
        raise InvalidValue(f"{config_dir} is not a folder")
    report = read_config(config_dir)
    if logs_dir is not None:
        read_logs(logs_dir, report, tz)
    path = data_dir / SETTINGS_FILE
    doc = load_document(path)
    doc["devices"].update(report.devices)
    doc["schedules"].update({name: s.to_json() for name, s in report.schedules.items()})
    save_document(path, doc)
    return report
