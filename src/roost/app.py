"""App: what a user program creates. It assembles the hub, the built-in features and the server."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gc
import logging
import os
import signal
import weakref
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from roost.auth import AuthComponent, AuthSettings
from roost.auth.policy import parse_networks
from roost.core.schedule import Daily, Repeating, Unit, parse_days, parse_time
from roost.devices import Devices, DeviceSettings, Driver
from roost.devices.driver import Absent, register_driver
from roost.live import LiveHub
from roost.mqtt.adapters import Plugs
from roost.rules.engine import Alerts
from roost.rules.model import Rule
from roost.rules.notifications import Notifications
from roost.runtime.clock import Clock, SystemClock, resolve_timezone
from roost.runtime.component import Component
from roost.runtime.hub import Hub
from roost.runtime.state import StateTree
from roost.runtime.systemd import Watchdog
from roost.runtime.triggers import Cron, Sun, SunEvent
from roost.runtime.workers import Every, Trigger, Worker
from roost.store import HistorySettings, HistoryUnavailable, Recorder
from roost.web.server import WebServer, WebSettings

if TYPE_CHECKING:
    from roost.mqtt import MqttBridge, MqttSettings

log = logging.getLogger(__name__)
# A loop this late on its timers serves nobody: systemd's watchdog is not fed, and restarts the node.
LOOP_LAG_FATAL_S = 10.0
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Settings the `roost` command imposes on whatever App a program creates."""

    host: str | None = None
    port: int | None = None
    data_dir: Path | None = None
    memory_limit_mb: float | None = None
    restart_on_memory_limit: bool = False
    # --mqtt URL, --mqtt-ca, --mqtt-cert, --mqtt-key: the bridge, replacing one the program set up.
    mqtt: str | None = None
    mqtt_ca: Path | None = None
    mqtt_cert: Path | None = None
    mqtt_key: Path | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    raspend_auth: bool = False
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Overrides:
    """What `roost.testing` imposes on every App a program creates while the kit loads it.

    Such an App runs on `clock`, keeps its files in `data_dir`, and its `run()`
    returns at once: the kit starts and stops it. `zone_known` gets each App's
    time zone as soon as it is resolved, before anything reads the clock (the
    kit sets the fake clock's start there, in local time).
    """

    clock: Clock
    data_dir: Path
    timezone: str | None = None
    zone_known: Callable[[tzinfo], None] | None = None


# Set by `roost run` before it executes a program; App.run() honours it.
_cli_options: RunOptions | None = None
# Set by roost.testing while it executes a program (a context variable: per thread and task).
overrides: ContextVar[Overrides | None] = ContextVar("roost_app_overrides", default=None)
_apps: weakref.WeakSet[App] = weakref.WeakSet()


def log_to_stderr(level: str | int = "INFO") -> None:
    """Send roost's own log records to stderr, once; the root logger stays the program's.

    Programs often call `logging.basicConfig(filename=...)` themselves, which does
    nothing once the root logger has a handler, so roost never configures it.
    """
    logger = logging.getLogger("roost")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def default_data_dir(name: str) -> Path:
    """Return `$ROOST_DATA_DIR`, else `$XDG_DATA_HOME/roost/<name>` (~/.local/share by default)."""
    if env := os.environ.get("ROOST_DATA_DIR"):
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "roost" / name


class App:
    """A roost node: state, workers, commands, and the web server that shows them.

    >>> app = App("home")
    >>> @app.every(60)
    ... def basement(): app.state["basement/party_room"] = 17.8
    """

    def __init__(
        self,
        name: str = "roost",
        *,
        host: str = "127.0.0.1",
        port: int | None = 8080,
        data_dir: str | Path | None = None,
        timezone: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        cors_origins: Sequence[str] = (),
        max_body_bytes: int = 1 << 20,
        idle_timeout_s: float = 15.0,
        command_timeout_s: float = 30.0,
        command_max_in_flight: int = 4,
        worker_stuck_after_s: float | None = None,
        memory_limit_mb: float | None = None,
        restart_on_memory_limit: bool = False,
        clock: Clock | None = None,
        history: HistorySettings | bool = True,
        mqtt: str | MqttSettings | None = None,
        auth: AuthSettings | bool = True,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        imposed = overrides.get()
        if imposed is not None:
            clock, data_dir = imposed.clock, imposed.data_dir
            timezone = imposed.timezone or timezone
        self.name = name
        self.latitude = latitude
        self.longitude = longitude
        tz = resolve_timezone(timezone)
        if imposed is not None and imposed.zone_known is not None:
            imposed.zone_known(tz)
        path = Path(data_dir) if data_dir is not None else default_data_dir(name)
        self.hub = Hub(
            name,
            clock or SystemClock(),
            tz,
            path,
            command_timeout_s=command_timeout_s,
            command_max_in_flight=command_max_in_flight,
            worker_stuck_after_s=worker_stuck_after_s,
        )
        # Under roost.testing, run() leaves starting and stopping to the kit.
        self.held = imposed is not None
        # port=None: no HTTP server at all (workers, components and bridges still run),
        # unless start() or the `roost` command's --port asks for one.
        self.http = port is not None
        self.web_settings = WebSettings(
            host=host,
            port=8080 if port is None else port,
            max_body_bytes=max_body_bytes,
            idle_timeout_s=idle_timeout_s,
            cors_origins=tuple(cors_origins),
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
        self.server: WebServer | None = None
        self.ran = False
        # Over memory_limit_mb of RSS the node is degraded; with restart_on_memory_limit
        # it also stops cleanly and run() exits with EXIT_MEMORY_LIMIT for systemd to restart it.
        self.set_memory_limit(memory_limit_mb, restart_on_memory_limit)
        self.hub.process.on_exit_request = self._exit_for_restart
        self.exit_status = 0
        # Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while the loop is alive.
        self._watchdog = Watchdog(self._service_status)

        # Users, tokens, cross-site protection and the audit log; first, so it stops last
        # (the audit entries of every other component's last calls are written).
        # auth=False leaves the node without any check: only for tests and embedding.
        self.auth: AuthComponent | None = None
        if auth is not False:
            auth_settings = auth if isinstance(auth, AuthSettings) else AuthSettings()
            if not auth_settings.allowed_origins and cors_origins:
                auth_settings = replace(auth_settings, allowed_origins=tuple(cors_origins))
            self.auth = self.hub.add_component(AuthComponent(self.hub, auth_settings))

        # -- built-in features, each a Component (the web server picks up their routes) --
        # History of numeric state in SQLite, unless history=False. It starts first: it
        # puts retained values back into the tree before any other component reads it.
        self.history: Recorder | None = None
        if history is not False:
            settings = history if isinstance(history, HistorySettings) else HistorySettings()
            self.history = self.hub.add_component(Recorder(self.hub, settings))
        # Live push on /api/live and /api/events; tune with `app.live.settings = LiveSettings(...)`.
        self.live = self.hub.add_component(LiveHub(self.hub))
        # The MQTT bridge: off unless a broker is given (here, by enable_mqtt, or by --mqtt).
        self.mqtt: MqttBridge | None = None
        # Tasmota, Shelly and zigbee2mqtt plugs, through the bridge (without one: the empty found list).
        self.mqtt_plugs = self.hub.add_component(Plugs(None, self._device_drivers))
        if mqtt is not None:
            self.enable_mqtt(mqtt)

        # Devices: switches and plugs with schedules, a standby killer and overrides (/api/devices).
        self.devices = self.hub.add_component(
            Devices(
                self.hub,
                latitude=latitude,
                longitude=longitude,
                history=self._history_values,
                buckets=self._history_buckets,
            )
        )

        # Notification channels (the page, the log, apprise URLs; /api/channels): the alert
        # engine's Notifier.
        self.notifications = self.hub.add_component(Notifications(self.hub))
        # Alert rules over the state tree and health (/api/alerts, /api/rules); after the
        # channels, so that it starts once delivery runs and stops before it.
        self.alerts = self.hub.add_component(
            Alerts(
                self.hub,
                self.notifications,
                channel_names=lambda: self.notifications.channels,
                link=lambda: self.notifications.link,
            )
        )

        self._stop_requested: asyncio.Event | None = None
        _apps.add(self)

    # -- what user programs touch ------------------------------------------------

    @property
    def state(self) -> StateTree:
        """The state tree: `app.state["a/b"] = 1`, `app.state["a/b"]`, `app.state.update(...)`."""
        return self.hub.state

    @property
    def stopping(self) -> Any:
        """A threading.Event set when the app begins to stop; long loops in workers should check it."""
        return self.hub.stopping

    @property
    def data_dir(self) -> Path:
        """Where history and other files of this node live."""
        return self.hub.data_dir

    def meta(self, pattern: str, **fields: Any) -> None:
        """Declare unit, label, kind and recording settings for a path or pattern (`plugs/*/power`).

        `retain=True` keeps the value (or subtree) across restarts, in the history database.
        """
        if fields.get("retain") and self.history is None:
            raise ValueError("retain=True keeps values in the history database: not with history=False")
        self.hub.set_meta(pattern, **fields)

    @overload
    def command(self, func: F, *, name: str | None = None, scope: str = "control") -> F: ...
    @overload
    def command(
        self, func: None = None, *, name: str | None = None, scope: str = "control"
    ) -> Callable[[F], F]: ...

    def command(
        self, func: F | None = None, *, name: str | None = None, scope: str = "control"
    ) -> F | Callable[[F], F]:
        """Expose a function or bound method as a command (usable bare or with `name=`, `scope=`).

        `scope` is what a caller needs to run it: `"control"` (the default), `"admin"`
        for settings and the like, or `"read"` for a command that changes nothing.
        """

        def register(f: F) -> F:
            self.hub.commands.add(f, name, scope)
            return f

        return register(func) if func is not None else register

    def device(self, device_id: str, driver: Driver, **settings: Any) -> DeviceSettings:
        """Declare a device (`app.device("tv", SimulatedPlug(92), name="TV", category="media")`).

        `settings` are its fields: name, location, category, always_on, production,
        record, schedule, schedule_enabled, standby_hold_s, start_grace_s,
        confirm_timeout_s. Settings edited in the page since win at start.
        """
        return self.devices.add(device_id, driver, **settings)

    def alert(
        self,
        name: str,
        path: str | None = None,
        *,
        above: float | None = None,
        below: float | None = None,
        equals: str | float | bool | None = None,
        stale_s: float | None = None,
        health: str | None = None,
        for_s: float = 0.0,
        clear_for_s: float = 0.0,
        hysteresis: float = 0.0,
        label: str = "",
        severity: str = "warning",
        channels: Sequence[str] = ("page",),
        repeat_s: float = 0.0,
        escalate_after: int = 0,
        escalate_to: Sequence[str] = (),
        every_s: float = 30.0,
    ) -> Any:
        """Declare an alert rule; with no condition given, decorate a check that runs every `every_s`.

        `app.alert("boiler-hot", "boiler/flow_temperature", above=80, for_s=120, hysteresis=5)`;
        `below=`, `equals=` (door open), `stale_s=` (no update for that long), or
        `health="workers/NAME"` (or `consumers/...`, `components/...`, `"*"`) pick
        the kind. As a decorator, the check returns something falsy when all is
        well, and True or a text saying what is wrong otherwise; it runs as a
        worker (in a thread: it may read history or block).
        """
        fields: dict[str, Any] = {
            "label": label,
            "for_s": float(for_s),
            "clear_for_s": float(clear_for_s),
            "severity": severity,
            "channels": tuple(channels),
            "repeat_s": float(repeat_s),
            "escalate_after": escalate_after,
            "escalate_to": tuple(escalate_to),
        }
        if above is not None or below is not None:
            rule = Rule(
                name, "threshold", path or "", above=above, below=below, hysteresis=hysteresis, **fields
            )
        elif equals is not None:
            rule = Rule(name, "equals", path or "", equals=equals, **fields)
        elif stale_s is not None:
            rule = Rule(name, "stale", path or "", stale_s=float(stale_s), **{**fields, "for_s": 0.0})
        elif health is not None:
            rule = Rule(name, "health", health, **fields)
        else:
            if path is not None:
                raise ValueError("a rule on a path needs above=, below=, equals= or stale_s=")
            return self._alert_check(Rule(name, "program", every_s=float(every_s), **fields))
        if rule.kind != "health" and not rule.path:
            raise ValueError(f"rule {name!r} needs the path it watches")
        return self.alerts.add(rule)

    def _alert_check(self, rule: Rule) -> Callable[[F], F]:
        def register(check: F) -> F:
            added = self.alerts.add(
                replace(rule, check=check, label=rule.label or _first_line(check.__doc__))
            )

            def run() -> None:
                self.alerts.report(added.name, check())

            self.schedule(run, Every(added.every_s, True), f"alert-{added.name}")
            return check

        return register

    def _history_values(self, path: str, start: float, end: float) -> list[float]:
        # The devices component reads today's energy counter from history after a restart.
        if self.history is None:
            return []
        series = self.history.query(path, start, end, points=100_000, resolution="raw")
        return list(series[0].mean) if series else []

    def _history_buckets(
        self, path: str, start: float, end: float, resolution: str
    ) -> list[tuple[float, float, float]] | None:
        # The device view's energy bars: a counter's (start, min, max) per hour or day; None: no history.
        if self.history is None:
            return None
        series = self.history.query(path, start, end, points=100_000, resolution=resolution)
        if not series:
            return []
        s = series[0]
        return list(zip(s.t, s.min, s.max, strict=True))

    def every(
        self, interval_s: float, *, name: str | None = None, immediately: bool = True
    ) -> Callable[[F], F]:
        """Run the function every `interval_s` seconds, first at start unless `immediately=False`."""
        return self._worker(Every(float(interval_s), immediately), name)

    def daily(self, at: str, days: str | None = None, *, name: str | None = None) -> Callable[[F], F]:
        """Run at a local time (`"07:30"`) on chosen days (`"mon-fri"`, `"sat,sun"`; default every day)."""
        return self._worker(Daily(parse_time(at), parse_days(days), self.hub.tz), name)

    def cron(self, expr: str, *, name: str | None = None) -> Callable[[F], F]:
        """Run on a five-field cron expression in local time."""
        return self._worker(Cron(expr, self.hub.tz), name)

    def sun(
        self,
        event: SunEvent,
        offset: float | timedelta = 0,
        days: str | None = None,
        *,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Run at sunrise, sunset, dawn, dusk or noon plus `offset` (seconds or a timedelta)."""
        if self.latitude is None or self.longitude is None:
            raise ValueError("sun schedules need App(latitude=..., longitude=...)")
        delta = offset if isinstance(offset, timedelta) else timedelta(seconds=offset)
        rule = Sun(event, delta, self.latitude, self.longitude, self.hub.tz, parse_days(days))
        return self._worker(rule, name)

    def sunrise(
        self, offset: float | timedelta = 0, days: str | None = None, *, name: str | None = None
    ) -> Callable[[F], F]:
        """Run at sunrise plus `offset`."""
        return self.sun("sunrise", offset, days, name=name)

    def sunset(
        self, offset: float | timedelta = 0, days: str | None = None, *, name: str | None = None
    ) -> Callable[[F], F]:
        """Run at sunset plus `offset`."""
        return self.sun("sunset", offset, days, name=name)

    def repeat(
        self, unit: Unit, factor: int = 1, start: datetime | str | None = None, *, name: str | None = None
    ) -> Callable[[F], F]:
        """Run every `factor` seconds/minutes/hours/days/weeks/months from `start` (local; default now)."""
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start is None:
            start = datetime.fromtimestamp(self.hub.clock.time(), self.hub.tz).replace(
                tzinfo=None, microsecond=0
            )
        elif start.tzinfo is not None:
            start = start.astimezone(self.hub.tz).replace(tzinfo=None)
        return self._worker(Repeating(start, unit, factor, self.hub.tz), name)

    def schedule(self, func: Callable[[], Any], trigger: Trigger, name: str | None = None) -> Worker:
        """Run `func` on any trigger (the decorators' shared path)."""
        return self.hub.scheduler.add(func, trigger, name)

    def _worker(self, trigger: Trigger, name: str | None) -> Callable[[F], F]:
        def register(f: F) -> F:
            self.schedule(f, trigger, name)
            return f

        return register

    def add_component(self, component: Component) -> Component:
        """Plug in a feature (recorder, bridge, adapter); it starts and stops with the app."""
        return self.hub.add_component(component)

    def enable_mqtt(self, broker: str | MqttSettings, **fields: Any) -> MqttBridge:
        """Put this node on an MQTT broker: `mqtt://user:pass@host:1883` (or `mqtts://`) or MqttSettings.

        `fields` are MqttSettings fields (`include=`, `exclude=`, `scope=`, `discovery=`,
        `ca_file=`, ...). Needs the mqtt extra (`pip install 'roost[mqtt]'`). Before start only.
        """
        from roost.mqtt import MqttBridge, MqttSettings, parse_broker_url

        settings = parse_broker_url(broker, **fields) if isinstance(broker, str) else broker
        if isinstance(broker, MqttSettings) and fields:
            settings = replace(broker, **fields)
        if self.mqtt is not None:
            self.hub.components.remove(self.mqtt)
        self.hub.components.remove(self.mqtt_plugs)
        self.mqtt = self.hub.add_component(MqttBridge(self.hub, settings))
        # Tasmota, Shelly and zigbee2mqtt plugs speak through the bridge's connection.
        self.mqtt_plugs = self.hub.add_component(Plugs(self.mqtt, self._device_drivers))
        return self.mqtt

    def _device_drivers(self) -> list[tuple[str, Any]]:
        return [(d["id"], d["driver"]) for d in self.devices.describe_all()]

    def _register_plug_drivers(self) -> None:
        """Let specs of MQTT plugs build drivers on this node's bridge, or say why there is none."""
        for kind in self.mqtt_plugs.kinds.values():
            if self.mqtt is not None:
                register_driver(kind.type, self.mqtt_plugs.build, doc=kind.doc, fields=kind.fields)
            else:
                # Kept with its spec, offline, and saying how to bring it to life.
                doc = f"{kind.doc}; needs the MQTT bridge (--mqtt)"
                register_driver(
                    kind.type, functools.partial(_no_broker, kind.type), doc=doc, fields=kind.fields
                )

    def set_memory_limit(self, limit_mb: float | None, restart: bool = False) -> None:
        """Mark the node degraded over `limit_mb` of resident memory; with `restart`, also stop it."""
        if limit_mb is not None and not limit_mb > 0:
            raise ValueError("the memory limit must be a positive number of MB")
        process = self.hub.process
        process.memory_limit_bytes = None if limit_mb is None else int(limit_mb * 2**20)
        process.exit_on_memory_limit = restart

    def _service_status(self) -> tuple[bool, str]:
        # For systemd: alive while the loop keeps its timers (this runs on it), and one
        # line naming what is degraded, for `systemctl status`.
        health = self.hub.health()
        bad = [
            f"worker {n}" + (" stuck" if w.get("stuck") else " failing")
            for n, w in health["workers"].items()
            if not w["ok"]
        ]
        bad += [f"command {n} stuck" for n in health["commands"]["stuck"]]
        bad += [f"{n} failing" for n, c in health["components"].items() if not c.get("ok", True)]
        if not health["process"]["ok"]:
            bad.append("memory over its limit")
        alive = self.hub.process.loop_lag_s < LOOP_LAG_FATAL_S
        if not alive:
            bad.append(f"event loop {self.hub.process.loop_lag_s:.1f} s late")
        return alive, health["status"] + (": " + ", ".join(bad) if bad else "")

    def _exit_for_restart(self, status: int) -> None:
        # On the loop: stop in order (history flushed), then run() exits with `status`.
        self.exit_status = status
        if self._stop_requested is not None:
            self._stop_requested.set()

    # -- running -------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        """The port the server listens on, once started."""
        return self.server.port if self.server else None

    @property
    def url(self) -> str:
        """The base URL of the running server."""
        return f"{self.web_settings.scheme}://{self.web_settings.host}:{self.port}"

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        """Start the hub, its components and workers, then the server (if any). Loop only."""
        settings = self.web_settings
        if host is not None:
            settings = replace(settings, host=host)
        if port is not None:
            settings = replace(settings, port=port)
        self.web_settings = settings
        if port is not None:
            self.http = True
        try:
            self.hub.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # Not fatal: the page, commands and workers run; history says it is unavailable.
            log.warning("cannot create the data directory %s: %s", self.hub.data_dir, exc.strerror or exc)
        if self.auth is not None:
            self.auth.bind_host = settings.host
        self._stop_requested = asyncio.Event()
        # Driver types are process-wide: the node starting now decides what an MQTT plug's spec builds.
        self._register_plug_drivers()
        await self.hub.start()
        if self.http:
            # Authentication's guard decides who each request comes from; without it,
            # everyone who reaches the port is an admin.
            if self.auth is not None:
                self.server = WebServer(self.hub, settings, self.auth.guard.check)
            else:
                self.server = WebServer(self.hub, settings)
            try:
                await self.server.start()
            except BaseException:
                await self.hub.stop()
                raise
            if settings.host not in ("0.0.0.0", "::", ""):
                self.notifications.link = self.url + "/"
        else:
            log.info("no HTTP server (port None)")
        await self._watchdog.start()
        # Everything imported and built so far lives as long as the process: move it out
        # of the collector's way, so full collections (measured at up to 40 ms with 1,000
        # live clients) walk only what was made since.
        gc.freeze()

    async def stop(self) -> None:
        """Stop the server, the workers and the components, flushing what they hold. Loop only.

        Command calls in flight are answered first, with 503 `unavailable`: their
        callers hear that the node stops instead of losing the connection.
        """
        await self._watchdog.stop()
        aborted = await self.hub.commands.abort_calls()
        if aborted:
            log.info("stopping: %d command calls in flight answered 503", aborted)
        if self.server is not None:
            await self.server.stop()
        await self.hub.stop()

    def request_stop(self) -> None:
        """Ask a running `serve()` to stop (thread-safe)."""
        loop, event = self.hub.loop, self._stop_requested
        if loop is not None and event is not None:
            loop.call_soon_threadsafe(event.set)

    async def serve(self, host: str | None = None, port: int | None = None) -> None:
        """Start, run until SIGINT/SIGTERM or `request_stop()`, then stop in order. Loop only."""
        await self.start(host, port)
        assert self._stop_requested is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._stop_requested.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        try:
            await self._stop_requested.wait()
            log.info("stopping")
        finally:
            # The handlers stay while stopping: a second Ctrl-C or SIGTERM must not
            # kill the process in the middle of the history flush.
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    def run(self, host: str | None = None, port: int | None = None) -> None:
        """Serve until stopped (blocking). Under `roost run`, the command's options win.

        Under `roost.testing` it returns at once: the test starts and stops the App.
        """
        if self.held:
            self.ran = True
            return
        opts = _cli_options
        if opts is not None:
            host = opts.host if opts.host is not None else host
            port = opts.port if opts.port is not None else port
            if opts.data_dir is not None:
                self.hub.data_dir = opts.data_dir
            if opts.memory_limit_mb is not None:
                self.set_memory_limit(opts.memory_limit_mb, opts.restart_on_memory_limit)
            if opts.mqtt is not None:
                self.enable_mqtt(
                    opts.mqtt, ca_file=opts.mqtt_ca, cert_file=opts.mqtt_cert, key_file=opts.mqtt_key
                )
            self._apply_security_options(opts)
        self.ran = True
        if not logging.getLogger("roost").handlers:
            log_to_stderr()
        try:
            asyncio.run(self.serve(host, port))
        except HistoryUnavailable as exc:  # the data directory is in use by another node
            raise SystemExit(f"roost: {exc}") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                where = f"{self.web_settings.host}:{self.web_settings.port}"
                raise SystemExit(
                    f"roost: {where} is already in use; choose another port with --port"
                ) from None
            raise
        if self.exit_status:
            raise SystemExit(self.exit_status)

    def _apply_security_options(self, opts: RunOptions) -> None:
        if opts.tls_cert is not None:
            self.web_settings = replace(self.web_settings, tls_cert=opts.tls_cert, tls_key=opts.tls_key)
        if opts.allowed_origins:
            origins = (*self.web_settings.cors_origins, *opts.allowed_origins)
            self.web_settings = replace(self.web_settings, cors_origins=origins)
        if self.auth is not None and (opts.trusted_proxies or opts.raspend_auth or opts.allowed_origins):
            settings = self.auth.settings
            self.auth.settings = replace(
                settings,
                trusted_proxies=(*settings.trusted_proxies, *opts.trusted_proxies),
                raspend_auth=settings.raspend_auth or opts.raspend_auth,
                allowed_origins=(*settings.allowed_origins, *opts.allowed_origins),
            )
            self.auth.trusted = parse_networks(self.auth.settings.trusted_proxies)


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def _no_broker(kind: str, spec: Any) -> Driver:
    return Absent(
        spec, f"a {kind} plug speaks MQTT: this node has no broker (start it with --mqtt mqtt://HOST:1883)"
    )


def apps_created() -> list[App]:
    """Return the App instances alive in this process (for `roost run`)."""
    return list(_apps)
