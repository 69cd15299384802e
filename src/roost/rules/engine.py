"""The alert engine: rules over the change stream and the clock, alerts through their states, notices out.

An alert goes ok -> pending (its condition holds, waiting out `for_s`) ->
firing (a notice to the rule's channels) -> acknowledged (by a person: repeats
stop) -> resolved (the condition cleared for `clear_for_s`: a last notice). A
pending alert whose condition clears before `for_s` leaves no trace. Open
alerts live in memory and in alerts.db, so a restart neither loses an alert nor
sends its firing notice again.

Rules of a path are evaluated when the change stream brings that path; timed
steps (a `for_s` elapsing, a repeat, a stale sensor, a snooze ending) by one
loop that sleeps until the earliest deadline. Loop only, except `report()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from roost.core.caller import Caller
from roost.core.errors import Conflict, InvalidArguments, NotFound
from roost.core.metrics import Metric
from roost.rules import alert_routes
from roost.rules.alertdb import ALERTS_FILE, Alert, AlertStore
from roost.rules.model import Rule, bad, check_name, parse_rule, validate
from roost.rules.notice import Event, Notice, Notifier
from roost.rules.rulestore import RULES_FILE, RuleStore
from roost.runtime.clock import sleep_unless_woken
from roost.runtime.component import Component
from roost.runtime.consumer import Consumer
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.runtime.settingsfile import SettingsUnreadable
from roost.runtime.state import Change

log = logging.getLogger(__name__)
MAX_WAKE_S = 60.0  # the loop looks at the clock at least this often
HEALTH_EVERY_S = 5.0  # how often health rules look at /healthz's view
REOPEN_EVERY_S = 5.0  # how often an alerts.db that could not be opened is tried again
STALE_POLL_S = 2.0  # how often a firing stale alert looks for a write that changed nothing
RECENT = 50  # resolved alerts GET /api/alerts lists
MAX_SNOOZE_S = 30 * 86400.0
MAX_RULES = 5000

Verdict = tuple[bool | None, Any, str]  # bad?, the value, what to say


def duration_text(seconds: float) -> str:
    """Return seconds as messages say them: "2 min", "1 h 30 min", "45 s"."""
    s = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size} {unit}")
            s %= size
    return " ".join(parts) or "0 s"


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class Alerts(Component):
    """The rules, their alerts, and the routes /api/alerts and /api/rules."""

    name = "alerts"

    def __init__(
        self,
        hub: Hub,
        notifier: Notifier,
        *,
        channel_names: Callable[[], Iterable[str]] = lambda: ("page", "log"),
        link: Callable[[], str] = lambda: "",
    ) -> None:
        self.hub = hub
        self.notifier = notifier
        self.channel_names = channel_names
        self.link = link
        self.program_rules: dict[str, Rule] = {}
        self.page_rules: dict[str, Rule] = {}
        self.rules: dict[str, Rule] = {}  # what runs: the program's, then the page's
        self._by_path: dict[str, list[Rule]] = {}
        self.open: dict[str, Alert] = {}  # by rule name
        self.recent: deque[Alert] = deque(maxlen=RECENT)
        self._clear_since: dict[str, float] = {}
        self._deadline: dict[str, float] = {}
        self._reports: dict[str, Verdict] = {}  # program checks' latest answers
        self._health: dict[str, dict[str, Any]] = {}
        self._next_health = 0.0
        self.store = AlertStore(hub.data_dir / ALERTS_FILE)
        self.rule_store = RuleStore(hub.data_dir / RULES_FILE)
        self.load_error: str | None = None
        self.started_at = 0.0
        self.running = False
        self._lock = asyncio.Lock()
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._reopen: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._planned = float("inf")
        self._dirty = False
        self.notices = 0
        self.evaluations = 0

    # -- declaring rules (the program) -------------------------------------------------

    def add(self, rule: Rule) -> Rule:
        """Add (or replace) a rule the program declares; it runs from start, or at once if running."""
        check_name(rule.name)
        validate(rule)
        if rule.kind not in ("health", "program"):
            parse_rule(rule.name, {k: v for k, v in rule.to_json().items() if k != "every_s"})
        rule = replace(rule, source="program")
        self.program_rules[rule.name] = rule
        if self.running:
            self._apply_rules()
        return rule

    def report(self, name: str, result: Any, value: Any = None) -> None:
        """Take a program check's answer (falsy: all well; True or a text: bad). Thread-safe."""
        verdict: Verdict = (bool(result), value, result if isinstance(result, str) else "")
        loop = self.hub.loop
        if loop is None:
            self._reports[name] = verdict
            return
        loop.call_soon_threadsafe(self._take_report, name, verdict)

    def _take_report(self, name: str, verdict: Verdict) -> None:
        self._reports[name] = verdict
        rule = self.rules.get(name)
        if rule is not None and self.running:
            self._evaluate(rule, self.hub.clock.time())
            self._publish()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Read rules.json and alerts.db, evaluate every rule now, then follow changes and the clock."""
        self.store = AlertStore(self.hub.data_dir / ALERTS_FILE)
        self.rule_store = RuleStore(self.hub.data_dir / RULES_FILE)
        try:
            self.page_rules = await asyncio.to_thread(self.rule_store.load)
            self.load_error = None
        except SettingsUnreadable as exc:
            self.load_error = exc.message
            log.error("%s; the page's rules are off until it is fixed", exc.message)
        try:
            stored = await self.store.open()
            self.recent.extend(reversed(await self.store.recent(RECENT)))
        except Exception as exc:  # a broken file must not stop the node
            log.error("alerts.db cannot be used (%s): alerts are kept in memory until it can", exc)
            self.store.last_error = str(exc)
            stored = []
            self._reopen = asyncio.create_task(self._reopen_store(), name="roost-alerts-reopen")
        now = self.hub.clock.time()
        self.started_at = now
        self.running = True
        self._apply_rules(reason=None)
        for alert in stored:
            rule = self.rules.get(alert.rule)
            if rule is None or not rule.enabled or alert.rule in self.open:
                self._close_quietly(
                    alert, now, "its rule is gone" if rule is None else "its rule is disabled"
                )
            else:
                self.open[alert.rule] = alert
        self._consumer = self.hub.consume("alerts", self._on_batch)
        self._wake = asyncio.Event()
        for rule in self.rules.values():
            self._evaluate(rule, now)
        self._publish(force=True)
        self._task = asyncio.create_task(self._loop(), name="roost-alerts")

    async def _reopen_store(self) -> None:
        """Try alerts.db again now and then (a data directory made writable); then write what it missed."""
        while not self.store.available:
            await asyncio.sleep(REOPEN_EVERY_S)
            try:
                await self.store.open()
            except Exception as exc:
                self.store.last_error = str(exc)
                continue
            self.store.last_error = None
            for alert in [*self.recent, *self.open.values()]:
                self.store.save(alert)
            log.info("alerts.db is open again: the alerts kept in memory are written")

    async def stop(self) -> None:
        """Stop evaluating; what alerts.db still has to write is written."""
        self.running = False
        for task in (self._task, self._reopen):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._reopen = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        await self.store.close()

    # -- the rules in force ---------------------------------------------------------------

    def _apply_rules(self, reason: str | None = "") -> None:
        rules = {
            **{n: r for n, r in self.page_rules.items() if n not in self.program_rules},
            **self.program_rules,
        }
        for name in self.page_rules.keys() & self.program_rules.keys():
            log.warning("rule %s is declared in the program: the page's rule of that name is not used", name)
        self.rules = rules
        self._by_path = {}
        for rule in rules.values():
            if rule.enabled and rule.kind in ("threshold", "equals", "stale"):
                self._by_path.setdefault(rule.path, []).append(rule)
        now = self.hub.clock.time()
        if reason is None:
            return
        for name, alert in list(self.open.items()):
            current = rules.get(name)
            if current is None or not current.enabled:
                del self.open[name]
                why = "its rule was deleted" if current is None else "its rule was disabled"
                self._close_quietly(alert, now, why)
        for name in list(self._deadline):
            if name not in rules:
                del self._deadline[name]
        for rule in rules.values():
            self._evaluate(rule, now)
        self._publish()
        self._poke()

    # -- evaluation --------------------------------------------------------------------

    def _on_batch(self, changes: Sequence[Change]) -> None:
        touched: dict[str, Rule] = {}
        for change in changes:
            for path in change.values:
                for rule in self._by_path.get(path, ()):
                    touched[rule.name] = rule
            for path in change.removed:
                for rule in self._by_path.get(path, ()):
                    touched[rule.name] = rule
        if not touched:
            return
        now = self.hub.clock.time()
        for rule in touched.values():
            self._evaluate(rule, now)
        self._publish()

    def _observe(self, rule: Rule, now: float, firing: bool) -> Verdict:
        state = self.hub.state
        if rule.kind in ("threshold", "equals"):
            value = state.get(rule.path)
            return bad(rule, value, firing), value, ""
        if rule.kind == "stale":
            assert rule.stale_s is not None
            seen = state.last_seen(rule.path)
            last = seen if seen is not None else self.started_at
            silent = now - last
            text = f"no update for {duration_text(silent)}" if silent >= rule.stale_s else ""
            return silent >= rule.stale_s, state.get(rule.path), text
        if rule.kind == "health":
            failing = [
                (name, entry) for name, entry in self._health.items() if rule.path == "*" or name == rule.path
            ]
            broken = [(n, e) for n, e in failing if not e.get("ok", True)]
            if not failing and rule.path != "*":
                return None, None, ""
            text = "; ".join(f"{n}: {e.get('last_error') or e.get('error') or 'failing'}" for n, e in broken)
            return bool(broken), None, text
        return self._reports.get(rule.name, (None, None, ""))

    def _evaluate(self, rule: Rule, now: float) -> None:
        """Move the rule's alert on as its condition and the clock say."""
        self.evaluations += 1
        name = rule.name
        if not rule.enabled:
            self._deadline.pop(name, None)
            return
        alert = self.open.get(name)
        firing = alert is not None and alert.state != "pending"
        verdict, value, text = self._observe(rule, now, firing)
        if alert is None:
            if verdict:
                alert = self._new_alert(rule, now, value, text)
                if rule.for_s <= 0:
                    self._fire(rule, alert, now)
        elif alert.state == "pending":
            if verdict is not None:
                alert.value, alert.message = value, text or alert.message
            if verdict is False:
                del self.open[name]
                self.store.delete(alert.id)
                self._dirty = True
            elif now - alert.since >= rule.for_s:
                self._fire(rule, alert, now)
        else:
            self._follow_open(rule, alert, verdict, value, text, now)
        self._plan(rule, now)

    def _follow_open(
        self, rule: Rule, alert: Alert, verdict: bool | None, value: Any, text: str, now: float
    ) -> None:
        name = rule.name
        if verdict is not None and value is not None:
            alert.value = value
        if verdict is False:
            start = self._clear_since.setdefault(name, now)
            if now - start >= rule.clear_for_s:
                self._resolve(rule, alert, now)
            return
        if verdict:
            self._clear_since.pop(name, None)
            if text:
                alert.message = text
        if alert.state != "firing":
            return
        due = self._repeat_due(rule, alert)
        if due is not None and now >= due:
            alert.repeats += 1
            alert.last_sent = now
            if alert.snoozed_until is not None and alert.snoozed_until <= now:
                alert.snoozed_until = None
            self._send(rule, alert, "repeat", now)
            if rule.escalate_after and not alert.escalated and alert.repeats >= rule.escalate_after:
                alert.escalated = True
                self._send(rule, alert, "escalated", now, rule.escalate_to)
            self._save(alert)

    def _repeat_due(self, rule: Rule, alert: Alert) -> float | None:
        """When the next reminder of a firing alert goes out: a repeat, or the end of a snooze."""
        snooze = alert.snoozed_until
        sent = alert.last_sent if alert.last_sent is not None else alert.fired_at or alert.since
        if rule.repeat_s:
            due = sent + rule.repeat_s
            return max(due, snooze) if snooze is not None else due
        return snooze  # a snooze ending reminds once, even without repeats

    def _plan(self, rule: Rule, now: float) -> None:
        alert = self.open.get(rule.name)
        when: float | None = None
        if alert is not None and alert.state == "pending":
            when = alert.since + rule.for_s
        elif alert is not None:
            if rule.name in self._clear_since:
                when = self._clear_since[rule.name] + rule.clear_for_s
            elif alert.state == "firing":
                when = self._repeat_due(rule, alert)
            if rule.kind == "stale":
                when = min(when or now + STALE_POLL_S, now + STALE_POLL_S)
        elif rule.kind == "stale":
            assert rule.stale_s is not None
            seen = self.hub.state.last_seen(rule.path)
            when = (seen if seen is not None else self.started_at) + rule.stale_s
        if when is None:
            self._deadline.pop(rule.name, None)
            return
        self._deadline[rule.name] = when
        if when < self._planned:
            self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            now = self.hub.clock.time()
            try:
                self._tick(now)
            except Exception:
                log.exception("the alert loop failed; it goes on")
            wake = min([now + MAX_WAKE_S, *self._deadline.values()])
            if any(r.kind == "health" and r.enabled for r in self.rules.values()):
                wake = min(wake, self._next_health)
            self._planned = wake
            self._wake.clear()
            await sleep_unless_woken(self.hub.clock, wake - now, self._wake)

    def _tick(self, now: float) -> None:
        due = [n for n, t in self._deadline.items() if t <= now]
        health = [r for r in self.rules.values() if r.kind == "health" and r.enabled]
        if health and now >= self._next_health:
            self._next_health = now + HEALTH_EVERY_S
            self._health = self._health_entries()
            due += [r.name for r in health]
        for name in dict.fromkeys(due):
            rule = self.rules.get(name)
            if rule is None:
                self._deadline.pop(name, None)
            else:
                self._evaluate(rule, now)
        self._publish()

    def _health_entries(self) -> dict[str, dict[str, Any]]:
        report = self.hub.health()
        out: dict[str, dict[str, Any]] = {}
        for section in ("workers", "consumers", "components"):
            for name, entry in (report.get(section) or {}).items():
                if section == "components" and name == self.name:
                    continue  # its own health says nothing a rule could act on
                if isinstance(entry, dict):
                    out[f"{section}/{name}"] = entry
        return out

    # -- transitions -------------------------------------------------------------------

    def _new_alert(self, rule: Rule, now: float, value: Any, text: str) -> Alert:
        meta = self.hub.meta(rule.path) if rule.kind in ("threshold", "equals", "stale") else None
        alert = Alert(
            id=self.store.new_id(),
            rule=rule.name,
            state="pending",
            severity=rule.severity,
            label=rule.title,
            path=rule.path if rule.kind != "program" else "",
            since=now,
            value=value,
            unit=(meta.unit or "") if meta is not None else "",
            message=text,
        )
        self.open[rule.name] = alert
        self._save(alert)
        return alert

    def _fire(self, rule: Rule, alert: Alert, now: float) -> None:
        alert.state = "firing"
        alert.fired_at = alert.last_sent = now
        self._clear_since.pop(rule.name, None)
        self._send(rule, alert, "firing", now)
        self._save(alert)
        log.warning("alert %s firing: %s", rule.name, self._body(rule, alert, "firing", now).splitlines()[0])

    def _resolve(self, rule: Rule, alert: Alert, now: float) -> None:
        alert.state = "resolved"
        alert.resolved_at = now
        self._clear_since.pop(rule.name, None)
        del self.open[rule.name]
        channels = (*rule.channels, *rule.escalate_to) if alert.escalated else rule.channels
        self._send(rule, alert, "resolved", now, channels)
        self._save(alert)
        self.recent.appendleft(alert)
        log.info("alert %s resolved", rule.name)

    def _close_quietly(self, alert: Alert, now: float, why: str) -> None:
        """Resolve an alert whose rule went away: no notice (nothing about the world changed)."""
        alert.state = "resolved"
        alert.resolved_at = now
        alert.message = why
        self._clear_since.pop(alert.rule, None)
        if alert.fired_at is None:
            self.store.delete(alert.id)
        else:
            self._save(alert)
            self.recent.appendleft(alert)
        self._dirty = True

    def _save(self, alert: Alert) -> None:
        self.store.save(alert)
        self._dirty = True

    def _send(
        self, rule: Rule, alert: Alert, event: Event, now: float, channels: Sequence[str] | None = None
    ) -> None:
        targets = list(dict.fromkeys(rule.channels if channels is None else channels))
        if rule.escalate_to and alert.escalated and event == "repeat":
            targets = list(dict.fromkeys([*targets, *rule.escalate_to]))
        if not targets:
            return
        base = self.link()
        link = f"{base}#alerts/{alert.id}" if base else ""
        notice = Notice(
            rule=rule.name,
            alert_id=alert.id,
            event=event,
            severity=rule.severity,
            title=rule.title,
            body=self._body(rule, alert, event, now),
            link=link,
            at=now,
        )
        self.notices += 1
        try:
            self.notifier.send(notice, targets)
        except Exception:
            log.exception("handing the notice of alert %s to its channels failed", rule.name)

    def _body(self, rule: Rule, alert: Alert, event: Event, now: float) -> str:
        """The message: the value with its unit and label, what the rule says, since when."""
        meta = self.hub.meta(rule.path) if rule.kind in ("threshold", "equals", "stale") else None
        label = (meta.label if meta is not None and meta.label else None) or rule.path or rule.title
        unit = f" {alert.unit}" if alert.unit else ""
        value = f"{label} {_num(alert.value)}{unit}" if alert.value is not None else label
        held = f" for {duration_text(rule.for_s)}" if rule.for_s else ""
        since = datetime.fromtimestamp(alert.since, self.hub.tz).strftime("%H:%M")
        if event == "resolved":
            span = duration_text(now - (alert.fired_at or alert.since))
            return f"{value}; back to normal after {span}"
        if rule.kind == "threshold":
            over = rule.above is not None
            limit = rule.above if over else rule.below
            what = f"{value}, {'above' if over else 'below'} {_num(limit)}{unit}{held}"
        elif rule.kind == "equals":
            what = f"{value}{held}" if alert.value is not None else f"{label} is {rule.equals}{held}"
        elif rule.kind == "stale":
            assert rule.stale_s is not None
            seen = self.hub.state.last_seen(rule.path)
            last = f" (last {_num(alert.value)}{unit})" if alert.value is not None else ""
            what = f"{label}: no update for {duration_text(now - (seen or self.started_at))}{last}"
        else:
            what = alert.message or f"{rule.title}{held}"
        if alert.message and rule.kind in ("health",) and alert.message not in what:
            what = f"{what}: {alert.message}"
        extra = f"; reminder {alert.repeats}" if event in ("repeat", "escalated") else ""
        return f"{what}\nsince {since}{extra}"

    # -- publishing ----------------------------------------------------------------

    def _publish(self, force: bool = False) -> None:
        """Put the banner's list and the open alerts in the state tree (the page follows them)."""
        if not (self._dirty or force):
            return
        self._dirty = False
        now = self.hub.clock.time()
        firing = [
            {"id": a.id, "label": a.label, "severity": a.severity}
            for a in self.open.values()
            if a.state == "firing" and not (a.snoozed_until and a.snoozed_until > now)
        ]
        active = [
            {"id": a.id, "rule": a.rule, "state": a.state, "snoozed_until": a.snoozed_until}
            for a in self.open.values()
        ]
        if not active and "alerts/active" not in self.hub.state:
            return  # a node that never had an alert keeps its tree as the program made it
        self.hub.state.update("alerts", {"firing": firing, "active": active})

    # -- what the routes call ----------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Return the open alerts (most severe and newest first) and the recent resolved ones."""
        order = {"critical": 0, "warning": 1, "info": 2}
        states = {"firing": 0, "acknowledged": 1, "pending": 2}
        active = sorted(
            self.open.values(), key=lambda a: (states[a.state], order.get(a.severity, 3), -a.since)
        )
        return {"active": [self.view(a) for a in active], "recent": [self.view(a) for a in self.recent]}

    def view(self, alert: Alert) -> dict[str, Any]:
        """Return the alert as the API shows it: a pending one also says when it fires if it holds."""
        out = alert.to_json()
        rule = self.rules.get(alert.rule)
        if alert.state == "pending" and rule is not None:
            out["fires_at"] = alert.since + rule.for_s
        return out

    def describe_alert(self, alert_id: str) -> dict[str, Any]:
        """Return one alert, open or recent; raise NotFound."""
        return self.view(self.find(alert_id))

    def find(self, alert_id: str) -> Alert:
        """Return the alert with id `alert_id` (open or recent); raise NotFound."""
        for alert in (*self.open.values(), *self.recent):
            if str(alert.id) == alert_id:
                return alert
        raise NotFound(f"there is no alert {alert_id} (or it is older than the recent {RECENT})")

    def _open_alert(self, alert_id: str, doing: str) -> tuple[Rule, Alert]:
        alert = self.find(alert_id)
        if alert.state == "resolved":
            raise Conflict(f"alert {alert.id} is resolved: there is nothing to {doing}")
        if alert.state == "pending":
            raise Conflict(f"alert {alert.id} is pending: it has not fired, nothing was sent to {doing}")
        return self.rules[alert.rule], alert

    def acknowledge(self, alert_id: str, caller: Caller) -> dict[str, Any]:
        """Acknowledge a firing alert: its repeats and escalation stop; it still says when it resolves."""
        _, alert = self._open_alert(alert_id, "acknowledge")
        if alert.state == "firing":
            alert.state = "acknowledged"
            alert.acked_at = self.hub.clock.time()
            alert.acked_by = caller.principal or caller.describe()
            self._save(alert)
            self._publish()
            log.info("alert %s acknowledged by %s", alert.rule, caller.describe())
        return self.view(alert)

    def snooze(self, alert_id: str, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
        """Hold a firing alert's reminders: `{"minutes": N}` or `{"until": epoch}` (`null` ends it)."""
        rule, alert = self._open_alert(alert_id, "snooze")
        now = self.hub.clock.time()
        extra = sorted(set(body) - {"minutes", "until"})
        if extra:
            raise InvalidArguments(f"unknown field {extra[0]!r}; snooze takes minutes or until", extra[0])
        if len(body) != 1:
            raise InvalidArguments(
                'snooze takes one of {"minutes": N} or {"until": epoch seconds}', "minutes"
            )
        key, value = next(iter(body.items()))
        if value is None and key == "until":
            until = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArguments(f"{key} must be a number", key)
        else:
            until = now + value * 60 if key == "minutes" else float(value)
            if until <= now:
                raise InvalidArguments(f"{key}: the snooze must end in the future", key)
            if until - now > MAX_SNOOZE_S:
                raise InvalidArguments(f"{key}: snooze for at most 30 days", key)
        alert.snoozed_until = until
        self._save(alert)
        self._plan(rule, now)
        self._publish()
        log.info("alert %s snoozed until %s by %s", alert.rule, until, caller.describe())
        return self.view(alert)

    def describe_rules(self) -> list[dict[str, Any]]:
        """Return every rule: the program's first, then the page's, each by name."""
        ordered = sorted(self.rules.values(), key=lambda r: (r.source != "program", r.name))
        return [r.to_json() for r in ordered]

    def describe_rule(self, name: str) -> dict[str, Any]:
        """Return one rule; raise NotFound."""
        rule = self.rules.get(name)
        if rule is None:
            raise NotFound(f"there is no rule named {name!r}")
        return rule.to_json()

    async def put_rule(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace a page rule and save it; return it."""
        async with self._lock:
            self._refuse(name)
            rule = parse_rule(name, body, list(self.channel_names()))
            if name not in self.page_rules and len(self.page_rules) >= MAX_RULES:
                raise Conflict(f"a node keeps at most {MAX_RULES} rules from the page")
            updated = {**self.page_rules, name: rule}
            await asyncio.to_thread(self.rule_store.save, updated)
            self.page_rules = updated
            alert = self.open.get(name)
            if alert is not None:
                alert.label, alert.severity = rule.title, rule.severity
                self._save(alert)
            self._apply_rules()
        return rule.to_json()

    async def delete_rule(self, name: str) -> None:
        """Delete a page rule; its open alert resolves without a notice."""
        async with self._lock:
            self._refuse(name)
            if name not in self.page_rules:
                raise NotFound(f"there is no rule named {name!r}")
            updated = {k: v for k, v in self.page_rules.items() if k != name}
            await asyncio.to_thread(self.rule_store.save, updated)
            self.page_rules = updated
            self._apply_rules()

    def _refuse(self, name: str) -> None:
        check_name(name)
        if name in self.program_rules:
            raise Conflict(f"rule {name!r} is declared in the program: change it there")
        if self.load_error is not None:
            raise SettingsUnreadable(self.load_error)

    # -- Component ------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        """Return /api/alerts and /api/rules."""
        return alert_routes.routes(self)

    def openapi_paths(self) -> dict[str, Any]:
        """Return the OpenAPI description of the alert and rule routes."""
        return alert_routes.openapi_paths()

    def health(self) -> dict[str, Any]:
        """Return the counts; not ok while rules.json or alerts.db cannot be used."""
        states = [a.state for a in self.open.values()]
        out: dict[str, Any] = {
            "ok": self.load_error is None and self.store.last_error is None,
            "rules": len(self.rules),
            "firing": states.count("firing"),
            "acknowledged": states.count("acknowledged"),
            "pending": states.count("pending"),
            "notices": self.notices,
        }
        if self.load_error is not None:
            out["error"] = self.load_error
        if self.store.last_error is not None:
            out["store_error"] = self.store.last_error
        return out

    def metrics(self) -> list[Metric]:
        """Return rule, alert and notice figures."""
        states = [a.state for a in self.open.values()]
        return [
            Metric.single("roost_alert_rules", "gauge", "Alert rules in force.", len(self.rules)),
            Metric(
                "roost_alerts",
                "gauge",
                "Open alerts, by state.",
                [({"state": s}, float(states.count(s))) for s in ("pending", "firing", "acknowledged")],
            ),
            Metric.single(
                "roost_alert_notices_total", "counter", "Notices the rules handed to channels.", self.notices
            ),
            Metric.single(
                "roost_alert_evaluations_total",
                "counter",
                "Times a rule looked at its condition.",
                self.evaluations,
            ),
        ]
