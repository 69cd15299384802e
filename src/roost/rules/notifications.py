"""Notifications: the channels component. It keeps channels.json, runs delivery, serves /api/channels.

`app.notifications` is the `Notifier` the alert engine hands its notices to
(`send(notice, channels)`); App wires the two together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from roost.core.errors import InvalidArguments
from roost.core.metrics import Metric
from roost.rules import channel_routes
from roost.rules.channels import (
    CHANNELS_FILE,
    Channel,
    ChannelStore,
    builtins,
    lookup,
    parse_channel,
    removable,
)
from roost.rules.delivery import Delivery, DeliverySettings
from roost.rules.notice import Notice
from roost.rules.secrets import mask_url
from roost.rules.transport import INSTALL_HINT, apprise_state
from roost.runtime.component import Component
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.runtime.settingsfile import SettingsUnreadable

log = logging.getLogger(__name__)


class Notifications(Component):
    """Channels and their delivery, as a component; the Notifier of the alert engine."""

    name = "notifications"

    def __init__(self, hub: Hub, settings: DeliverySettings | None = None) -> None:
        self.hub = hub
        # `roost run --data-dir` may move the data directory after construction: the path is taken at start.
        self.store = ChannelStore(hub.data_dir / CHANNELS_FILE)
        self.channels: dict[str, Channel] = builtins()
        self.delivery = Delivery(hub.clock, hub.tz, self._write_state, settings)
        # Why channels.json could not be read; PUT and DELETE are refused meanwhile (the file is kept).
        self.load_error: str | None = None
        self._lock = asyncio.Lock()
        # The page's address, for the link in a test message; App sets it once the server runs.
        self.link = ""

    def _write_state(self, path: str, value: Any) -> None:
        self.hub.state[path] = value

    # -- the Notifier -----------------------------------------------------------------

    def send(self, notice: Notice, channels: Sequence[str]) -> None:
        """Queue `notice` for each named channel; thread-safe and never blocks."""
        self.delivery.send(notice, channels)

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Read channels.json and start delivery. Loop only."""
        self.store = ChannelStore(self.hub.data_dir / CHANNELS_FILE)
        try:
            self.channels = await asyncio.to_thread(self.store.load)
            self.load_error = None
        except SettingsUnreadable as exc:
            self.load_error = exc.message
            log.error("%s; channels other than the page and the log are off until it is fixed", exc.message)
        urls = [c for c in self.channels.values() if c.url]
        if urls and apprise_state() == "missing":
            log.warning("%d channels have URLs, and apprise is missing: %s", len(urls), INSTALL_HINT)
        self.delivery.start(self.channels)

    async def stop(self) -> None:
        """Stop delivery (what is still queued is logged, not sent). Loop only."""
        left = sum(len(o.queue) + len(o.held) for o in self.delivery.outboxes.values())
        if left:
            log.warning("stopping with %d notices not yet sent", left)
        await self.delivery.stop()

    # -- what the routes call -------------------------------------------------------

    def describe(self, name: str) -> dict[str, Any]:
        """Return one channel as GET answers it (URL masked, with its counters)."""
        channel = lookup(self.channels, name)
        outbox = self.delivery.outboxes.get(name)
        counters = outbox.describe() if outbox is not None else {}
        return {
            **channel.to_json(),
            "failures": counters.get("failures", 0),
            "last_error": counters.get("last_error"),
            "last_sent": counters.get("last_sent"),
        }

    def describe_all(self) -> list[dict[str, Any]]:
        """Return every channel, built-ins first."""
        return [self.describe(name) for name in self.channels]

    async def put(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace channel `name` from a PUT body and save; return it. Loop only."""
        async with self._lock:
            self._refuse_if_unreadable()
            channel = parse_channel(name, dict(body), self.channels.get(name))
            if channel.url and channel.url != (self.channels.get(name) or channel).url:
                log.info("channel %s now sends to %s", name, mask_url(channel.url))
            updated = {**self.channels, name: channel}
            await asyncio.to_thread(self.store.save, updated)
            self.channels = updated
            self.delivery.configure(channel)
        return self.describe(name)

    async def delete(self, name: str) -> None:
        """Delete channel `name` (never a built-in) and save. Loop only."""
        async with self._lock:
            self._refuse_if_unreadable()
            removable(self.channels, name)
            updated = {k: v for k, v in self.channels.items() if k != name}
            await asyncio.to_thread(self.store.save, updated)
            self.channels = updated
            await self.delivery.remove(name)

    async def test(self, name: str) -> None:
        """Send a test message on channel `name` now; raise ChannelFailed with the reason. Loop only."""
        channel = lookup(self.channels, name)
        if not channel.enabled:
            raise InvalidArguments(f"channel {name!r} is disabled; enable it to test it", "enabled")
        await self.delivery.test(name, self.link)

    def _refuse_if_unreadable(self) -> None:
        if self.load_error is not None:
            # Writing now would replace the user's file with the built-ins alone.
            raise SettingsUnreadable(self.load_error)

    # -- Component ------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        """Return /api/channels and its sub-routes."""
        return channel_routes.routes(self)

    def openapi_paths(self) -> dict[str, Any]:
        """Return the OpenAPI description of the channel routes."""
        return channel_routes.openapi_paths()

    def health(self) -> dict[str, Any]:
        """Return each channel's counters; not ok while a channel's last attempt failed."""
        channels: dict[str, Any] = {}
        for name, outbox in self.delivery.outboxes.items():
            channels[name] = {
                "ok": not outbox.failing,
                "enabled": outbox.channel.enabled,
                **outbox.describe(),
            }
        out: dict[str, Any] = {
            "ok": self.load_error is None and all(c["ok"] for c in channels.values()),
            "channels": channels,
            "unknown_channel_notices": self.delivery.unknown,
            "apprise": apprise_state(),
        }
        if self.load_error is not None:
            out["error"] = self.load_error
        if out["apprise"] == "missing" and any(c.url for c in self.channels.values()):
            out["hint"] = INSTALL_HINT
        return out

    def metrics(self) -> list[Metric]:
        """Return per-channel counters: sent, failures, dropped, queued, held, last sent."""
        outboxes = sorted(self.delivery.outboxes.items())

        def family(name: str, kind: Any, help: str, value: Any) -> Metric:
            return Metric(name, kind, help, [({"channel": n}, float(value(o))) for n, o in outboxes])

        return [
            family("roost_notify_sent_total", "counter", "Messages a channel took.", lambda o: o.sent),
            family(
                "roost_notify_failures_total",
                "counter",
                "Failed send attempts, by channel.",
                lambda o: o.failures,
            ),
            family(
                "roost_notify_dropped_total",
                "counter",
                "Notices given up on (attempts used up, or the queue full).",
                lambda o: o.dropped,
            ),
            family("roost_notify_queued", "gauge", "Notices waiting to be sent.", lambda o: len(o.queue)),
            family("roost_notify_held", "gauge", "Notices held for quiet hours.", lambda o: len(o.held)),
            family(
                "roost_notify_last_sent_timestamp_seconds",
                "gauge",
                "When a channel last took a message (0: never).",
                lambda o: o.last_sent or 0.0,
            ),
            Metric.single(
                "roost_notify_unknown_channel_total",
                "counter",
                "Notices for channels that do not exist.",
                self.delivery.unknown,
            ),
        ]
