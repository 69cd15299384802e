"""Send one message through apprise, in a process of its own: `python -P sender.py` < request.json.

roost runs this file as a child process for each send to a URL channel (see
transport.py): loading apprise and its hundred-odd service modules costs about
19 MB that a node would otherwise keep for good, and a child that hangs can be
killed. It reads `{"url", "title", "body", "type"}` from standard input (never
argv: `ps` shows argv) and prints one JSON line, `{"ok": true}` or
`{"ok": false, "error": ..., "missing": bool}`. Standard library and apprise
only: it must not import roost.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any


class _Keep(logging.Handler):
    """Keeps what apprise warns about: its only account of why a send failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) < 20:
            self.lines.append(record.getMessage())


def _asset(apprise: Any) -> Any:
    # Send in this thread, without apprise's own thread pools (nothing to gain for one
    # message); the parent's timeout bounds the whole process. apprise 1 has no
    # service_timeout.
    try:
        return apprise.AppriseAsset(async_mode=False, service_timeout=0)
    except TypeError:
        return apprise.AppriseAsset(async_mode=False)


def _reasons(result: Any, kept: list[str]) -> list[str]:
    # apprise 2 returns each call's log with the result; apprise 1 returns a bool.
    logs = getattr(result, "logs", None)
    if callable(logs):
        lines = [e.message for e in logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        if lines:
            return lines
    return kept


def send(request: dict[str, Any]) -> dict[str, Any]:
    """Send the message `request` describes; return the outcome as JSON."""
    try:
        import apprise
    except ImportError:
        return {"ok": False, "missing": True, "error": "apprise is not installed"}
    keep = _Keep()
    logging.getLogger("apprise").addHandler(keep)
    target = apprise.Apprise(asset=_asset(apprise))
    if not target.add(request["url"]):
        why = keep.lines[-1] if keep.lines else "unknown scheme or malformed URL"
        return {"ok": False, "error": f"apprise cannot use this URL: {why}"}
    result = target.notify(body=request["body"], title=request["title"], notify_type=request["type"])
    if result:
        return {"ok": True}
    lines = _reasons(result, keep.lines)
    return {"ok": False, "error": "; ".join(lines[-3:]) or "the service did not take the message"}


def main() -> int:
    """Read one request from standard input, send it, print the outcome."""
    try:
        outcome = send(json.loads(sys.stdin.read()))
    except Exception as exc:  # a plugin's own bug: report it rather than a traceback
        outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(outcome) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
