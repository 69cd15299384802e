"""Sending one message to one URL through apprise, in a child process: blocking, off the loop.

apprise is an optional extra (`pip install 'roost[alerts]'`). The node never
imports it: each send runs `sender.py` in a child process, which loads apprise,
sends, prints the outcome and exits. A send costs a process start (a third of
a second here, a few seconds on a small Pi; alerts are rare), and in return the
node's memory stays as it was (apprise and its service modules would add about
19 MB for good) and a send that hangs is killed, not left on a thread.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from roost.rules.secrets import scrub

INSTALL_HINT = "URL channels need apprise: pip install 'roost[alerts]'"
SENDER = Path(__file__).with_name("sender.py")
# apprise's own words for a severity (its notify types pick icons and colours).
_TYPES = {"info": "info", "warning": "warning", "critical": "failure", "resolved": "success"}


class SendFailed(Exception):
    """A channel did not take a message; the text says why, with secrets masked."""


@dataclass(frozen=True, slots=True)
class Message:
    """What one send carries: a title, a body, and how bad it is."""

    title: str
    body: str
    kind: str = "info"  # "info" | "warning" | "critical" | "resolved"


def apprise_state() -> str:
    """Return "installed" or "missing" (looked up, never imported here)."""
    return "installed" if importlib.util.find_spec("apprise") is not None else "missing"


def send(url: str, message: Message, timeout_s: float = 60.0) -> None:
    """Send `message` to `url`; raise SendFailed with the reason. Blocking: not on the event loop."""
    if apprise_state() == "missing":
        raise SendFailed(INSTALL_HINT)
    request = {"url": url, "title": message.title, "body": message.body, "type": _TYPES[message.kind]}
    try:
        # -P: the sender's folder (roost/rules) is not put on the child's import path.
        done = subprocess.run(
            [sys.executable, "-P", str(SENDER)],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise SendFailed(f"no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise SendFailed(f"cannot start the sender: {exc.strerror or exc}") from None
    try:
        outcome = json.loads(done.stdout.decode(errors="replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = done.stderr.decode(errors="replace").strip().splitlines()
        raise SendFailed(
            scrub(f"the sender exited with {done.returncode}: {tail[-1] if tail else 'no output'}", url)
        ) from None
    if outcome.get("missing"):
        raise SendFailed(INSTALL_HINT)
    if not outcome.get("ok"):
        raise SendFailed(scrub(str(outcome.get("error") or "the service did not take the message"), url))
