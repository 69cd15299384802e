"""The MQTT bridge: the node's state and commands on a broker, and Home Assistant discovery.

Published (and nothing else):

- `{prefix}/{node}/state/{path}`: each chosen path's JSON value, retained
  (an empty retained payload once the path is removed);
- `{prefix}/{node}/status`: `online`, retained; `offline` as the last will;
- `{prefix}/{node}/result/{command}`: each command's reply, and the same reply
  on an MQTT 5 request's response topic with its correlation data;
- discovery configs under `homeassistant/` (see discovery.py).

Subscribed (and nothing else): `{prefix}/{node}/cmd/+` (QoS 1) and
`homeassistant/status`, plus what device adapters ask for.

It survives its broker: changes go into a bounded, coalescing outbox (newest
value per topic wins) that a sender drains while connected. A lost connection
is retried with exponential back-off and jitter; every (re)connect resubscribes
and puts the status, discovery and the whole current state back on the broker.
The session is persistent (MQTT 5 clean start off, a session expiry), so QoS 1
commands sent while the node restarts wait at the broker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from roost.core import codec
from roost.core.caller import Caller
from roost.core.errors import (
    InvalidArguments,
    PayloadTooLarge,
    RoostError,
    TooManyRequests,
    UnknownCommand,
)
from roost.core.meta import MetaRule
from roost.core.metrics import Metric
from roost.core.paths import compile_pattern, matches_any
from roost.mqtt.discovery import Discovery
from roost.mqtt.outbox import Message, Outbox
from roost.mqtt.settings import MqttSettings, check_installed
from roost.mqtt.topics import Topics, is_command_name
from roost.runtime.component import Component
from roost.runtime.consumer import Consumer
from roost.runtime.hub import Hub
from roost.runtime.state import Change

if TYPE_CHECKING:
    import aiomqtt

__all__ = ["MqttBridge", "Subscription"]

log = logging.getLogger(__name__)

# Messages sent together before waiting for their acknowledgements.
SEND_WINDOW = 128
# A broker that accepted us but went away within this is retried on the growing back-off.
STABLE_AFTER_S = 10.0

# What an adapter registers: a topic filter and the function that gets its messages.
OnMessage = Callable[[str, bytes], Awaitable[None] | None]


class Subscription:
    """A topic filter a device adapter listens to through the bridge's connection."""

    __slots__ = ("on_message", "pattern", "qos")

    def __init__(self, pattern: str, on_message: OnMessage, qos: int = 1) -> None:
        self.pattern = pattern
        self.on_message = on_message
        self.qos = qos

    def matches(self, topic: str) -> bool:
        """Whether `topic` matches this MQTT filter (`+` one level, `#` the rest)."""
        want = self.pattern.split("/")
        got = topic.split("/")
        for i, level in enumerate(want):
            if level == "#":
                return True
            if i >= len(got) or (level != "+" and level != got[i]):
                return False
        return len(want) == len(got)


class MqttBridge(Component):
    """Puts the node on an MQTT broker. Loop only, except the figures."""

    name = "mqtt"

    def __init__(self, hub: Hub, settings: MqttSettings) -> None:
        check_installed()
        self.hub = hub
        self.settings = settings
        self.node = settings.node or _topic_level(hub.name)
        self.topics = Topics(f"{settings.prefix}/{self.node}")
        self.discovery = Discovery(self.node, self.topics, settings.discovery_prefix)
        self.caller = Caller("mqtt", settings.display_url, settings.principal, settings.scope)
        self.outbox = Outbox(settings.outbox_max)
        self.client_id = settings.client_id or f"roost-{self.node}"
        self.connected = False
        self.connected_since: float | None = None
        self.reconnects = 0
        self.connects = 0
        self.published = 0
        self.commands: dict[str, int] = {}
        self.refused_response_topics = 0
        self.last_error: str | None = None
        self._include = tuple(compile_pattern(p) for p in settings.include)
        self._exclude = tuple(compile_pattern(p) for p in settings.exclude)
        self._wanted: dict[str, bool] = {}
        self._rules_of: tuple[MetaRule, ...] | None = None
        self._announced: dict[str, str] = {}  # discovery topic -> the path that made it
        self._seen: set[str] = set()  # paths considered for discovery since the last full state
        self._resync: Literal["all", "discovery"] | None = None  # what the sender streams out next
        self._subscriptions: list[Subscription] = []
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._command_slots = asyncio.Semaphore(settings.max_commands_in_flight)
        self._command_tasks: set[asyncio.Task[None]] = set()
        self._ssl: ssl.SSLContext | None = None

    # -- what adapters use -------------------------------------------------------------

    def subscribe(self, pattern: str, on_message: OnMessage, qos: int = 1) -> Subscription:
        """Listen to `pattern` on the broker (a device adapter's topics); takes effect on (re)connect."""
        sub = Subscription(pattern, on_message, qos)
        self._subscriptions.append(sub)
        client = self._client
        if client is not None and self.connected:
            task = asyncio.get_running_loop().create_task(client.subscribe(pattern, qos))
            task.add_done_callback(_quiet)
        return sub

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue a message for the broker (a device adapter's command). Loop only."""
        self.outbox.put(Message(topic, payload, qos, retain))
        self._wake.set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Follow the change stream and start connecting. Loop only."""
        self._stopping = False
        if self.settings.tls:
            self._ssl = await asyncio.to_thread(_ssl_context, self.settings)
        self._consumer = self.hub.consume("mqtt", self._on_batch)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mqtt-bridge")
        log.info("MQTT bridge to %s as %s/%s", self.settings.display_url, self.settings.prefix, self.node)

    async def stop(self) -> None:
        """Send what waits (a few seconds at most), say `offline`, disconnect. Loop only."""
        self._stopping = True
        if self._consumer is not None:
            await self._consumer.drain(2.0)
        client = self._client
        if client is not None and self.connected:
            try:
                async with asyncio.timeout(3.0):
                    while len(self.outbox) and self.connected:
                        await self._send(client, self.outbox.take(SEND_WINDOW))
                    await client.publish(self.topics.status, b"offline", qos=1, retain=True)
            except (TimeoutError, Exception) as exc:
                log.warning("MQTT bridge stopped with %d messages unsent (%s)", len(self.outbox), exc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for task in list(self._command_tasks):
            task.cancel()
        await asyncio.gather(*self._command_tasks, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.aclose()
            self._consumer = None

    # -- the change stream -------------------------------------------------------------

    def wanted(self, path: str) -> bool:
        """Whether `path` is published: its metadata allows recording it, and the patterns allow it."""
        rules = self.hub.meta_rules()
        if rules is not self._rules_of:  # metadata declared since: decide again
            self._wanted.clear()
            self._rules_of = rules
        known = self._wanted.get(path)
        if known is None:
            meta = self.hub.meta(path)
            known = (
                meta.record is not False
                and matches_any(path, self._include)
                and not matches_any(path, self._exclude)
            )
            if len(self._wanted) < 100_000:
                self._wanted[path] = known
        return known

    def _on_batch(self, changes: Sequence[Change]) -> None:
        qos = self.settings.state_qos
        for change in changes:
            for path in change.removed:
                if self.wanted(path):
                    self.outbox.put(Message(self.topics.state(path), b"", qos, True))
                    self._withdraw(path)
            for path, value in change.values.items():
                if self.wanted(path):
                    self.outbox.put(Message(self.topics.state(path), codec.dumps(value), qos, True))
                    if self.settings.discovery and path not in self._seen:
                        announced = self._announce(path)
                        if announced is not None:
                            self.outbox.put(announced)
        self._wake.set()

    def _full_state(self, with_state: bool = True) -> Iterator[Message]:
        """Yield status, discovery and every published path's current value, from one snapshot.

        Streamed straight to the broker on every (re)connect, never through the
        outbox: however small the outbox, the whole state goes out again.
        """
        qos = self.settings.state_qos
        if with_state:
            yield Message(self.topics.status, b"online", 1, True)
        if self.settings.discovery:
            self._seen.clear()
        for path, value in self.hub.state.leaves():
            if self.wanted(path):
                if self.settings.discovery:
                    announced = self._announce(path)
                    if announced is not None:
                        yield announced
                if with_state:
                    yield Message(self.topics.state(path), codec.dumps(value), qos, True)

    # -- Home Assistant discovery --------------------------------------------------------

    def _announce(self, path: str) -> Message | None:
        """Return the discovery config of `path`, if it has one."""
        self._seen.add(path)
        meta = self.hub.meta(path)
        if self.discovery.is_switch(meta):
            parent = path.rpartition("/")[0]
            power = meta.power if meta.power and self.wanted(meta.power) else None
            energy = f"{parent}/energy_kwh" if parent else None
            if energy is not None and (self.hub.state.get(energy) is None or not self.wanted(energy)):
                energy = None
            payload = self.discovery.device(
                path,
                meta,
                (power, self.hub.meta(power)) if power else None,
                (energy, self.hub.meta(energy)) if energy else None,
            )
            topic = self.discovery.device_topic(path)
        elif self.discovery.is_sensor(meta) and not self._part_of_a_device(path):
            payload = self.discovery.sensor(path, meta)
            topic = self.discovery.sensor_topic(path)
        else:
            return None
        self._announced[topic] = path
        return Message(topic, payload, 1, True)

    def _part_of_a_device(self, path: str) -> bool:
        # A plug's power and energy are components of its device config, not sensors of their own.
        sibling = f"{path.rpartition('/')[0]}/on"
        return self.discovery.is_switch(self.hub.meta(sibling)) and self.hub.state.get(sibling) is not None

    def _withdraw(self, path: str) -> None:
        self._seen.discard(path)
        for topic, source in list(self._announced.items()):
            if source == path:
                del self._announced[topic]
                self.outbox.put(Message(topic, b"", 1, True))

    # -- the connection ----------------------------------------------------------------

    def _new_client(self) -> aiomqtt.Client:
        import aiomqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        from roost.mqtt.client import Client

        s = self.settings
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = s.session_expiry_s
        client = Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            will=aiomqtt.Will(self.topics.status, b"offline", 1, True),
            clean_start=False,  # a persistent session: commands wait for us while we restart
            properties=connect,
            keepalive=s.keepalive_s,
            tls_context=self._ssl,
            max_inflight_messages=SEND_WINDOW,
            timeout=10,
            logger=logging.getLogger("roost.mqtt.client"),
        )
        # aiomqtt warns past 10 unacknowledged publishes; a window of them is how the sender works.
        client.pending_calls_threshold = 2 * SEND_WINDOW + 64
        return client

    async def _run(self) -> None:
        import aiomqtt

        attempt = 0
        while not self._stopping:
            began = asyncio.get_running_loop().time()
            try:
                client = self._new_client()
                async with client:
                    self._client = client
                    await self._on_connect(client)
                    attempt = 0
                    await _first_failure(self._send_loop(client), self._receive_loop(client))
            except (aiomqtt.MqttError, OSError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("MQTT bridge failed; reconnecting")
            finally:
                was_connected = self.connected
                self.connected = False
                self.connected_since = None
                self._client = None
            if self._stopping:
                return
            if was_connected:
                self.reconnects += 1
                log.warning(
                    "MQTT broker %s lost (%s); reconnecting", self.settings.display_url, self.last_error
                )
                if asyncio.get_running_loop().time() - began > STABLE_AFTER_S:
                    attempt = 0
            elif attempt == 0:
                log.warning(
                    "MQTT broker %s unreachable (%s); retrying", self.settings.display_url, self.last_error
                )
            delay = min(self.settings.reconnect_max_s, self.settings.reconnect_min_s * 2**attempt)
            attempt += 1
            # Jitter: many nodes that lost one broker must not all come back in the same instant.
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        filters = [(self.topics.commands, 1)]
        if self.settings.discovery:
            filters.append((self.discovery.status_topic, 1))
        filters += [(s.pattern, s.qos) for s in self._subscriptions]
        await client.subscribe(filters)
        self.connected = True
        self.connects += 1
        self.connected_since = self.hub.clock.time()
        log.info("MQTT connected to %s", self.settings.display_url)
        # Everything again (the broker may have restarted without its retained messages).
        self._resync = "all"
        self._wake.set()

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        while True:
            if self._resync is not None:
                everything = self._full_state(with_state=self._resync == "all")
                self._resync = None
                while batch := list(itertools.islice(everything, SEND_WINDOW)):
                    await self._send(client, batch)
            elif len(self.outbox):
                await self._send(client, self.outbox.take(SEND_WINDOW))
            else:
                self._wake.clear()
                await self._wake.wait()

    async def _send(self, client: aiomqtt.Client, batch: list[Message]) -> None:
        if not batch:
            return
        results = await asyncio.gather(*(self._publish(client, m) for m in batch), return_exceptions=True)
        failed: BaseException | None = None
        for message, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                self.outbox.put_back(message)
                failed = failed or result
            else:
                self.published += 1
        if failed is not None:
            raise failed

    async def _publish(self, client: aiomqtt.Client, message: Message) -> None:
        properties = None
        if message.correlation is not None:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.CorrelationData = message.correlation
        await client.publish(message.topic, message.payload, message.qos, message.retain, properties)

    async def _receive_loop(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = str(message.topic)
            payload = bytes(message.payload) if isinstance(message.payload, (bytes, bytearray)) else b""
            command = self.topics.command_of(topic)
            if command is not None:
                if message.retain:
                    # A retained command would run again on every reconnect: refuse it.
                    self._answer(command, RoostError("retained commands are not run"), message.properties)
                    continue
                await self._command_slots.acquire()
                task = asyncio.get_running_loop().create_task(
                    self._run_command(command, payload, message.properties)
                )
                self._command_tasks.add(task)
                task.add_done_callback(self._command_done)
            elif topic == self.discovery.status_topic:
                if payload.strip().lower() == b"online" and self._resync is None:
                    self._resync = "discovery"  # Home Assistant (re)started: announce everything again
                    self._wake.set()
            else:
                await self._dispatch(topic, payload)

    def _command_done(self, task: asyncio.Task[None]) -> None:
        self._command_tasks.discard(task)
        self._command_slots.release()

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        for sub in self._subscriptions:
            if sub.matches(topic):
                try:
                    result = sub.on_message(topic, payload)
                    if result is not None:
                        await result
                except Exception:
                    log.exception("MQTT handler for %s failed on %s", sub.pattern, topic)

    # -- commands ------------------------------------------------------------------------

    async def _run_command(self, command: str, payload: bytes, properties: Any) -> None:
        try:
            if len(payload) > self.settings.max_payload_bytes:
                raise PayloadTooLarge(
                    f"arguments of {len(payload)} bytes; at most {self.settings.max_payload_bytes}",
                    limit=self.settings.max_payload_bytes,
                )
            if not is_command_name(command):
                raise UnknownCommand(command[:128])
            args = codec.loads(payload) if payload.strip() else {}
            if not isinstance(args, dict):
                raise InvalidArguments("arguments must be a JSON object")
            result = await self._call(command, args)
            reply: Any = {"result": result}
            outcome = "ok"
        except RoostError as exc:
            reply, outcome = exc.to_json(), exc.code
        except Exception:
            log.exception("MQTT command %r failed", command)
            reply, outcome = RoostError("internal error").to_json(), "internal"
        self.commands[outcome] = self.commands.get(outcome, 0) + 1
        self._reply(command, codec.dumps(reply), properties)

    async def _call(self, command: str, args: dict[str, Any]) -> Any:
        # QoS 1 commands queued while the node was away arrive all at once: one refused
        # for too many calls in flight waits its turn rather than being lost.
        for _ in range(200):
            try:
                return await self.hub.commands.acall(command, args, self.caller)
            except TooManyRequests:
                await asyncio.sleep(0.05)
        return await self.hub.commands.acall(command, args, self.caller)

    def _answer(self, command: str, error: RoostError, properties: Any) -> None:
        self.commands[error.code] = self.commands.get(error.code, 0) + 1
        self._reply(command, codec.dumps(error.to_json()), properties)

    def _reply(self, command: str, body: bytes, properties: Any) -> None:
        self.outbox.put(Message(self.topics.result(command), body, 1, False))
        response = getattr(properties, "ResponseTopic", None) if properties is not None else None
        if response:
            if self.topics.may_answer_on(response, self.settings.discovery_prefix):
                correlation = getattr(properties, "CorrelationData", None)
                self.outbox.put(Message(response, body, 1, False, correlation))
            else:
                self.refused_response_topics += 1
        self._wake.set()

    # -- observability -------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Return the bridge's /healthz entry: not ok while the broker is away."""
        return {
            "ok": self.connected,
            "broker": self.settings.display_url,
            "topics": self.topics.base,
            "client_id": self.client_id,
            "connected": self.connected,
            "connected_since": self.connected_since,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "outbox": len(self.outbox),
            "outbox_bytes": self.outbox.bytes,
            "dropped": self.outbox.dropped,
            "coalesced": self.outbox.coalesced,
            "published": self.published,
            "commands": dict(self.commands),
            "last_error": self.last_error,
        }

    def metrics(self) -> list[Metric]:
        """Return the bridge's metric families."""
        return [
            Metric.single(
                "roost_mqtt_connected", "gauge", "1 while connected to the broker.", self.connected
            ),
            Metric.single("roost_mqtt_outbox", "gauge", "Messages waiting for the broker.", len(self.outbox)),
            Metric.single(
                "roost_mqtt_outbox_bytes", "gauge", "Payload bytes waiting for the broker.", self.outbox.bytes
            ),
            Metric.single(
                "roost_mqtt_dropped_total",
                "counter",
                "Messages dropped because the outbox was full.",
                self.outbox.dropped,
            ),
            Metric.single(
                "roost_mqtt_coalesced_total",
                "counter",
                "Messages replaced by a newer one for the same topic before sending.",
                self.outbox.coalesced,
            ),
            Metric.single(
                "roost_mqtt_reconnects_total", "counter", "Connections lost and made again.", self.reconnects
            ),
            Metric.single("roost_mqtt_published_total", "counter", "Messages published.", self.published),
            Metric(
                "roost_mqtt_commands_total",
                "counter",
                "Commands taken from MQTT, by outcome.",
                [({"outcome": k}, float(v)) for k, v in sorted(self.commands.items())],
            ),
        ]


def _topic_level(name: str) -> str:
    cleaned = "".join("_" if ch in "/+#" or ord(ch) < 32 else ch for ch in name)
    return cleaned or "roost"


def _ssl_context(settings: MqttSettings) -> ssl.SSLContext:
    # Reads files: built once in a thread at start.
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    if settings.cert_file is not None and settings.key_file is not None:
        context.load_cert_chain(str(settings.cert_file), str(settings.key_file))
    return context


async def _first_failure(*coros: Awaitable[None]) -> None:
    """Run `coros` together until the first one ends; cancel the rest; raise what it raised."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        exc = task.exception()
        if exc is not None:
            raise exc


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("MQTT subscribe failed: %s", task.exception())
