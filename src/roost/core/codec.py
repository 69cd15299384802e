"""JSON encoding: orjson when installed (10x faster here), the standard library otherwise."""

from __future__ import annotations

import json
import math
from typing import Any

from roost.core.errors import MalformedJSON

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only where orjson has no wheel
    _orjson = None  # type: ignore[assignment,unused-ignore]


def _fallback(obj: Any) -> Any:
    # Results of user commands may hold tuples, sets, enums or dates; say what they are
    # rather than failing the whole reply.
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if hasattr(obj, "value") and isinstance(obj.value, (str, int, float)):
        return obj.value
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def dumps(value: Any) -> bytes:
    """Encode `value` as compact UTF-8 JSON; non-finite floats become null."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, default=_fallback, option=_orjson.OPT_NON_STR_KEYS)
        except _orjson.JSONEncodeError:
            # orjson stops at 64-bit integers, which a command's result may exceed; the
            # standard library writes them (and fails, too, on what is really not JSON).
            pass
    return json.dumps(_finite(value), default=_fallback, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    """Decode JSON, raising MalformedJSON with the parser's reason."""
    try:
        if _orjson is not None:
            return _orjson.loads(data)
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJSON(f"malformed JSON: {exc}") from None


def _finite(value: Any) -> Any:
    # The standard library writes NaN, which no JSON parser reads back; orjson writes null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
