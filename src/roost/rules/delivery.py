"""Delivery, the Notifier: one queue and one task per channel, sending off the loop.

`send()` is thread-safe and never blocks: it puts the notice in each named
channel's outbox. Each outbox has its own task on the loop and its own daemon
thread for apprise, so a mail server that refuses or hangs delays its own
channel only. A failed send is retried with exponential back-off and jitter
(each failure counted, the last error kept with secrets masked) and abandoned
after `max_attempts`; a send that does not return within `timeout_s` counts as
failed and its thread is left to it. During a channel's quiet hours notices are
held, and one digest goes out when they end. Every wait is on the hub clock,
so a FakeClock drives back-off, timeouts and quiet hours in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from typing import Any

from roost.rules import messages, transport
from roost.rules.channels import Channel, ChannelFailed
from roost.rules.notice import Notice
from roost.rules.secrets import mask_url, scrub
from roost.rules.transport import Message, SendFailed
from roost.runtime.clock import Clock
from roost.runtime.threads import DaemonPool

log = logging.getLogger(__name__)
notice_log = logging.getLogger("roost.notify")


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How hard delivery tries."""

    timeout_s: float = 30.0  # one send; past it the send counts as failed
    first_retry_s: float = 10.0
    max_retry_s: float = 900.0
    max_attempts: int = 8  # then the message is dropped (and counted)
    max_queued: int = 200  # per channel; past it the oldest notice is dropped (and counted)
    page_keep: int = 20  # notices the "page" channel keeps in the state tree


# How long a fake clock (tests) waits, in real time, for a send under way before it moves on.
SETTLE_REAL_S = 3.0
# The state tree path where the "page" channel puts the newest notices (newest first).
PAGE_PATH = "alerts/notices"
Sender = Callable[[Channel, Message, Sequence[Notice]], Any]


class Outbox:
    """One channel's queue, its task and its counters. Loop only, except the read-only counters."""

    def __init__(self, delivery: Delivery, channel: Channel) -> None:
        self.delivery = delivery
        self.channel = channel
        self.queue: deque[Notice] = deque()
        self.held: list[Notice] = []
        self.failures = 0
        self.sent = 0
        self.dropped = 0
        self.last_error: str | None = None
        self.last_sent: float | None = None
        self.failing = False  # the last attempt failed
        self.sending_since: float | None = None  # real monotonic time a URL send began
        self.pool = DaemonPool(f"notify-{channel.name}", 1, hard_cap=4)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the channel's task. Loop only."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"notify-{self.channel.name}")

    async def stop(self) -> None:
        """Stop the task (what is queued stays unsent). Loop only."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.pool.close()

    def put(self, notice: Notice) -> None:
        """Queue a notice. Loop only."""
        if len(self.queue) >= self.delivery.settings.max_queued:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append(notice)
        self._wake.set()

    def reconfigure(self, channel: Channel) -> None:
        """Take new settings (quiet hours, URL); a waiting task looks again. Loop only."""
        self.channel = channel
        self._wake.set()

    def describe(self) -> dict[str, Any]:
        """Return the counters for GET /api/channels and /healthz."""
        return {
            "failures": self.failures,
            "last_error": self.last_error,
            "last_sent": self.last_sent,
            "sent": self.sent,
            "dropped": self.dropped,
            "queued": len(self.queue),
            "held": len(self.held),
        }

    async def _run(self) -> None:
        clock, tz = self.delivery.clock, self.delivery.tz
        while True:
            if not self.queue and not self.held:
                self._wake.clear()
                await self._wake.wait()
                continue
            quiet = self.channel.quiet_hours
            until = quiet.until(clock.time(), tz) if quiet is not None and self.channel.enabled else None
            if until is not None:
                self.held.extend(self.queue)
                self.queue.clear()
                self._wake.clear()
                await self._sleep_or_wake(until - clock.time())
                continue
            if self.held:
                batch = self.held + list(self.queue)
                self.held, self.queue = [], deque()
                span = quiet.to_json() if quiet is not None else None
                message = messages.digest(batch, tz, f"{span['from']}-{span['to']}" if span else "")
            else:
                batch = [self.queue.popleft()]
                message = messages.one(batch[0])
            if self.channel.enabled:
                await self._deliver(message, batch)

    async def _deliver(self, message: Message, batch: Sequence[Notice]) -> None:
        settings = self.delivery.settings
        for attempt in range(1, settings.max_attempts + 1):
            try:
                await self.attempt(message, batch)
                return
            except SendFailed:
                pass
            if attempt == settings.max_attempts or not self.channel.enabled:
                break
            delay = min(settings.max_retry_s, settings.first_retry_s * 2 ** (attempt - 1))
            # Jitter: channels (and nodes) that failed together do not all retry at once.
            await self.delivery.clock.sleep(delay * random.uniform(0.8, 1.2))
        self.dropped += len(batch)
        log.error(
            "channel %s: gave up on %r after %d attempts: %s",
            self.channel.name,
            message.title,
            settings.max_attempts,
            self.last_error,
        )

    async def attempt(self, message: Message, batch: Sequence[Notice]) -> None:
        """Send once, counting the outcome; raise SendFailed. Loop only."""
        try:
            await self.delivery.sender(self, message, batch)
        except SendFailed as exc:
            self.failures += 1
            self.failing = True
            self.last_error = scrub(str(exc), self.channel.url)
            log.warning("channel %s: %s", self.channel.name, self.last_error)
            raise SendFailed(self.last_error) from None
        self.failing = False
        self.sent += 1
        self.last_sent = self.delivery.clock.time()

    async def _sleep_or_wake(self, seconds: float) -> None:
        sleep = asyncio.ensure_future(self.delivery.clock.sleep(max(seconds, 0.0)))
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleep, wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            wake.cancel()


class Delivery:
    """The Notifier: takes notices from any thread and hands them to each channel's outbox."""

    def __init__(
        self,
        clock: Clock,
        tz: tzinfo,
        write_state: Callable[[str, Any], None],
        settings: DeliverySettings | None = None,
    ) -> None:
        self.clock = clock
        self.tz = tz
        self.settings = settings or DeliverySettings()
        self.write_state = write_state
        self.outboxes: dict[str, Outbox] = {}
        self.unknown = 0  # notices for channels that do not exist
        self.page_notices: deque[dict[str, Any]] = deque(maxlen=self.settings.page_keep)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._early: list[tuple[Notice, tuple[str, ...]]] = []
        self._unwatch: Callable[[], None] | None = None

    # -- the Notifier ---------------------------------------------------------------

    def send(self, notice: Notice, channels: Sequence[str]) -> None:
        """Queue `notice` for each named channel; thread-safe and never blocks."""
        names = tuple(dict.fromkeys(channels))
        loop = self.loop
        if loop is None or loop.is_closed():
            self._early.append((notice, names))  # before start: queued when delivery starts
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(notice, names)
        else:
            loop.call_soon_threadsafe(self._enqueue, notice, names)

    def _enqueue(self, notice: Notice, names: tuple[str, ...]) -> None:
        for name in names:
            outbox = self.outboxes.get(name)
            if outbox is None:
                self.unknown += 1
                log.warning("notice %r is for channel %r, which does not exist", notice.title, name)
            elif outbox.channel.enabled:
                outbox.put(notice)

    # -- channels -------------------------------------------------------------------

    def start(self, channels: dict[str, Channel]) -> None:
        """Start an outbox for each channel and queue what was sent before. Loop only."""
        self.loop = asyncio.get_running_loop()
        watch = getattr(self.clock, "watch", None)
        if watch is not None and self._unwatch is None:
            self._unwatch = watch(self.sending)
        for channel in channels.values():
            self.configure(channel)
        early, self._early = self._early, []
        for notice, names in early:
            self._enqueue(notice, names)

    def sending(self) -> list[str]:
        """Return the channels with a send under way for less than `SETTLE_REAL_S` of real time.

        A FakeClock waits for them before it moves on, so a test's clock does not
        run past a real send (into its timeout) while the local server answers it;
        a send that hangs stops counting, and the fake clock then times it out.
        """
        now = time.monotonic()
        return [
            f"notify-{name}"
            for name, o in self.outboxes.items()
            if o.sending_since is not None and now - o.sending_since < SETTLE_REAL_S
        ]

    async def stop(self) -> None:
        """Stop every outbox. Loop only."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        for outbox in list(self.outboxes.values()):
            await outbox.stop()
        self.outboxes.clear()

    def configure(self, channel: Channel) -> None:
        """Add a channel or change its settings. Loop only."""
        outbox = self.outboxes.get(channel.name)
        if outbox is None:
            outbox = self.outboxes[channel.name] = Outbox(self, channel)
            outbox.start()
        else:
            outbox.reconfigure(channel)

    async def remove(self, name: str) -> None:
        """Stop and forget a channel. Loop only."""
        outbox = self.outboxes.pop(name, None)
        if outbox is not None:
            await outbox.stop()

    async def test(self, name: str, link: str = "") -> None:
        """Send a test message to channel `name` now (no quiet hours, no retry); raise ChannelFailed."""
        outbox = self.outboxes[name]
        notice = messages.probe_notice(name, self.clock.time(), link)
        try:
            await outbox.attempt(messages.one(notice), [notice])
        except SendFailed as exc:
            raise ChannelFailed(f"channel {name!r} failed: {exc}", channel=name) from None

    # -- sending --------------------------------------------------------------------

    async def sender(self, outbox: Outbox, message: Message, batch: Sequence[Notice]) -> None:
        """Send one message on `outbox`'s channel; raise SendFailed. Loop only."""
        channel = outbox.channel
        if channel.name == "log":
            level = logging.WARNING if message.kind in ("warning", "critical") else logging.INFO
            notice_log.log(level, "%s: %s", message.title, message.body.replace("\n", " | "))
            return
        if channel.name == "page":
            for n in batch:
                self.page_notices.appendleft(
                    {
                        "rule": n.rule,
                        "alert_id": n.alert_id,
                        "event": n.event,
                        "severity": n.severity,
                        "title": n.title,
                        "at": n.at,
                    }
                )
            self.write_state(PAGE_PATH, list(self.page_notices))
            return
        await self._send_url(outbox, channel.url, message)

    async def _send_url(self, outbox: Outbox, url: str, message: Message) -> None:
        timeout_s = self.settings.timeout_s
        call = asyncio.ensure_future(
            outbox.pool.run(partial(transport.send, url, message, timeout_s + 1), outbox.channel.name)
        )
        timer = asyncio.ensure_future(self.clock.sleep(timeout_s))
        outbox.sending_since = time.monotonic()
        try:
            await asyncio.wait({call, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            outbox.sending_since = None
        if not call.done():
            # Its thread is left to it (counted as stuck by the pool) until the child
            # process's own timeout, a second later, kills the sender.
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError, SendFailed):
                await call
            raise SendFailed(f"no answer within {timeout_s:g} s from {mask_url(url)}")
        call.result()
