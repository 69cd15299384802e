"""The process's own vital signs, read from /proc: memory, open files, threads, loop lag.

A leaking program shows here long before the kernel's OOM killer acts: RSS
over `memory_limit_bytes` makes the node degraded in /healthz, and when
`exit_on_memory_limit` is set the node stops cleanly with EXIT_MEMORY_LIMIT,
a non-zero status a supervisor (systemd's `Restart=on-failure`) restarts on.
On systems without /proc the figures are None and nothing is limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
from collections.abc import Callable
from typing import Any

from roost.core.metrics import Metric

log = logging.getLogger(__name__)

# EX_TEMPFAIL from sysexits.h: "try again later", what a restart is.
EXIT_MEMORY_LIMIT = 75
SAMPLE_EVERY_S = 0.5
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """Return the process's resident set size, or None without /proc."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return None


def open_files() -> int | None:
    """Return how many file descriptors the process has open, or None without /proc."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def thread_count() -> int | None:
    """Return the process's threads (all of them, not only Python's), or None without /proc."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


class ProcessMonitor:
    """Samples the loop's lag and the process's memory every SAMPLE_EVERY_S between start and stop."""

    def __init__(self, memory_limit_bytes: int | None = None, exit_on_memory_limit: bool = False) -> None:
        self.memory_limit_bytes = memory_limit_bytes
        self.exit_on_memory_limit = exit_on_memory_limit
        # Called once, on the loop, when the limit is passed and exit_on_memory_limit is set.
        self.on_exit_request: Callable[[int], None] | None = None
        self.loop_lag_s = 0.0
        self.loop_lag_max_s = 0.0
        self.over_limit = False
        self.over_limit_count = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sampling. Loop only."""
        self.over_limit = False
        self._task = asyncio.get_running_loop().create_task(self._sample(), name="process-monitor")

    async def stop(self) -> None:
        """Stop sampling. Loop only."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def check_memory(self, rss: int | None) -> None:
        """Mark the node over its memory limit (or not) for `rss`; ask for an exit if told to."""
        limit = self.memory_limit_bytes
        if rss is None or limit is None:
            self.over_limit = False
            return
        over = rss > limit
        if over and not self.over_limit:
            self.over_limit_count += 1
            log.warning(
                "memory: %.0f MB resident, over the limit of %.0f MB; the node is degraded%s",
                rss / 2**20,
                limit / 2**20,
                ", and stops to be restarted" if self.exit_on_memory_limit else "",
            )
            if self.exit_on_memory_limit and self.on_exit_request is not None:
                self.on_exit_request(EXIT_MEMORY_LIMIT)
        elif not over and self.over_limit:
            log.info("memory: back under the limit")
        self.over_limit = over

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(SAMPLE_EVERY_S)
            # How much later than asked the loop woke us: what every request waited too.
            lag = max(loop.time() - started - SAMPLE_EVERY_S, 0.0)
            self.loop_lag_s = lag
            self.loop_lag_max_s = max(self.loop_lag_max_s, lag)
            self.check_memory(resident_bytes())

    def health(self) -> dict[str, Any]:
        """Return the process's entry in /healthz: not ok while over the memory limit."""
        rss = resident_bytes()
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return {
            "ok": not self.over_limit,
            "pid": os.getpid(),
            "rss_bytes": rss,
            "memory_limit_bytes": self.memory_limit_bytes,
            "over_memory_limit": self.over_limit,
            "open_files": open_files(),
            "max_open_files": None if soft == resource.RLIM_INFINITY else soft,
            "threads": thread_count(),
            "loop_lag_ms": round(self.loop_lag_s * 1e3, 2),
            "loop_lag_max_ms": round(self.loop_lag_max_s * 1e3, 2),
        }

    def metrics(self) -> list[Metric]:
        """Return the process's gauges for /metrics."""
        families: list[Metric] = []
        rss = resident_bytes()
        if rss is not None:
            families.append(
                Metric.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss)
            )
        if self.memory_limit_bytes is not None:
            families.append(
                Metric.single(
                    "roost_memory_limit_bytes", "gauge", "The node's memory limit.", self.memory_limit_bytes
                )
            )
        families.append(
            Metric.single(
                "roost_memory_over_limit",
                "gauge",
                "1 while resident memory is over the limit.",
                float(self.over_limit),
            )
        )
        fds = open_files()
        if fds is not None:
            families.append(
                Metric.single("process_open_fds", "gauge", "Number of open file descriptors.", fds)
            )
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY:
            families.append(
                Metric.single("process_max_fds", "gauge", "Maximum number of open file descriptors.", soft)
            )
        threads = thread_count()
        if threads is not None:
            families.append(
                Metric.single("roost_process_threads", "gauge", "Threads of the process.", threads)
            )
        families.append(
            Metric.single(
                "roost_loop_lag_seconds",
                "gauge",
                "How late the event loop last ran a timer (sampled every 0.5 s).",
                self.loop_lag_s,
            )
        )
        families.append(
            Metric.single(
                "roost_loop_lag_max_seconds",
                "gauge",
                "The largest loop lag since start.",
                self.loop_lag_max_s,
            )
        )
        return families
