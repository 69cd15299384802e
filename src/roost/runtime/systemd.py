"""Talking to systemd: readiness, status and the watchdog over $NOTIFY_SOCKET (sd_notify), no library.

The protocol is a datagram of `KEY=value` lines on the unix socket systemd
names in $NOTIFY_SOCKET (a leading `@` means the abstract namespace). With
`WatchdogSec=` in the unit, systemd also sets $WATCHDOG_USEC and restarts
the service when `WATCHDOG=1` does not come within that time: the node sends
it from its event loop, so a loop that hangs (or lags past the deadline) gets
the node restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send `message` (`READY=1`, `WATCHDOG=1`, `STATUS=...`) to systemd; False when not under it."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address or address[0] not in "/@":
        return False
    target = "\0" + address[1:] if address[0] == "@" else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(target)
            s.sendall(message.encode())
    except OSError as exc:
        log.debug("sd_notify to %s failed: %s", address, exc)
        return False
    return True


def watchdog_interval_s() -> float | None:
    """Return how often to send WATCHDOG=1 (half systemd's WatchdogSec), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6 / 2
    except ValueError:
        return None


class Watchdog:
    """Tells systemd the node is ready, feeds its watchdog while the node is alive, says when it stops."""

    def __init__(self, status: Callable[[], tuple[bool, str]]) -> None:
        # status() -> (alive, one line): alive False withholds WATCHDOG=1, so systemd restarts.
        self._status = status
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Send READY=1 and start feeding the watchdog if systemd asked for one. Loop only."""
        if not notify(f"READY=1\nSTATUS={self._status()[1]}\nMAINPID={os.getpid()}"):
            return
        interval = watchdog_interval_s()
        if interval is not None:
            log.info("systemd watchdog: WATCHDOG=1 every %g s while the node is alive", interval)
            self._task = asyncio.get_running_loop().create_task(self._feed(interval), name="systemd-watchdog")

    async def stop(self) -> None:
        """Send STOPPING=1 and stop feeding. Loop only."""
        notify("STOPPING=1")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _feed(self, interval_s: float) -> None:
        while True:
            alive, line = self._status()
            if alive:
                notify(f"WATCHDOG=1\nSTATUS={line}")
            else:
                log.error("systemd watchdog withheld: %s", line)
                notify(f"STATUS={line}")
            await asyncio.sleep(interval_s)
