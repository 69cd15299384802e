"""`roost config export` / `import`: a node's device settings and schedules as one JSON document.

The document is the settings file itself (`devices.json`, with its schema
number): devices (for a program's devices only the settings edited in the
page; for devices added by import or the API all settings and the driver),
schedules, and manual overrides. An import checks every part before it
writes anything, and writes crash-safely; run it while the node is stopped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from roost.core.errors import InvalidValue, RoostError
from roost.core.weekplan import parse_schedule
from roost.devices.driver import build_driver
from roost.devices.model import DeviceSettings, Override, apply_settings, check_id
from roost.devices.storage import SETTINGS_FILE, load_document, save_document, upgrade


def export_config(data_dir: Path) -> dict[str, Any]:
    """Return the node's device settings document."""
    return load_document(data_dir / SETTINGS_FILE)


def check_config(doc: Any, where: str = "the document") -> dict[str, Any]:
    """Return `doc` upgraded and checked; raise a RoostError naming the first bad part."""
    out = upgrade(doc, where)
    for name, raw in out["schedules"].items():
        try:
            parse_schedule(raw, name)
        except RoostError as exc:
            raise InvalidValue(f"schedule {name!r}: {exc.message}") from None
    for device_id, entry in out["devices"].items():
        try:
            check_id(device_id)
            if not isinstance(entry, Mapping):
                raise InvalidValue("must be an object with settings")
            apply_settings(DeviceSettings(device_id), entry.get("settings", {}))
            if entry.get("source", "config") == "config":
                build_driver(entry.get("driver", {}))
        except RoostError as exc:
            raise InvalidValue(f"device {device_id!r}: {exc.message}") from None
    for device_id, raw in out["overrides"].items():
        try:
            Override.from_json(raw)
        except (KeyError, TypeError, ValueError):
            raise InvalidValue(f"override of {device_id!r} is not an override") from None
    return out


def merge_config(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with the devices, schedules and overrides of `extra` added or replaced."""
    out = {**base}
    for key in ("devices", "schedules", "overrides"):
        out[key] = {**base.get(key, {}), **extra.get(key, {})}
    return out


def import_config(data_dir: Path, doc: Any, *, replace: bool = False) -> dict[str, int]:
    """Check `doc` and write it into the node's settings (merged, or replacing them); return counts."""
    checked = check_config(doc)
    path = data_dir / SETTINGS_FILE
    result = checked if replace else merge_config(load_document(path), checked)
    save_document(path, result)
    return {"devices": len(checked["devices"]), "schedules": len(checked["schedules"])}


def read_json_file(path: Path) -> Any:
    """Return the JSON in `path`; raise InvalidValue saying why it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidValue(f"{path} is not JSON: {exc}") from None
