"""Delivery over real transports on 127.0.0.1: SMTP (aiosmtpd), ntfy and JSON web hooks (aiohttp).

The node runs on a fake clock: back-off, the send timeout and quiet hours move
only when a test advances it, while the sends themselves are real and waited
for with `eventually`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notify_support import SMTP_PASSWORD, HttpSink, SmtpSink, http_server, make_app, notice, smtp_server
from roost.testing import Harness, eventually
from support import free_port


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness(make_app(tmp_path / "data"), serve=False) as harness:
        yield harness


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


@pytest.fixture
async def web_sink() -> AsyncIterator[HttpSink]:
    async with http_server() as sink:
        yield sink


async def test_an_email_reaches_the_local_smtp_server(node: Harness, smtp: SmtpSink) -> None:
    notifications = node.app.notifications
    await notifications.put("email", {"url": smtp.url()})
    notifications.send(notice(at=node.clock.time()), ["email"])
    await eventually(lambda: smtp.mails, message="no mail arrived")
    mail = smtp.mails[0]
    assert mail["Subject"] == "[FIRING] Flow temperature above 80 °C"
    assert mail["To"] == "me@example.org"
    assert "83.4 °C" in smtp.bodies()[0] and "http://127.0.0.1:8080/#alerts" in smtp.bodies()[0]
    assert smtp.logins == [("alice", SMTP_PASSWORD)]
    channel = await eventually(
        lambda: notifications.describe("email")["last_sent"] and notifications.describe("email")
    )
    assert channel["failures"] == 0 and channel["last_sent"] == node.clock.time()


async def test_ntfy_and_a_json_web_hook_get_their_posts(node: Harness, web_sink: HttpSink) -> None:
    notifications = node.app.notifications
    await notifications.put("ntfy", {"url": f"ntfy://127.0.0.1:{web_sink.port}/roost-alerts"})
    await notifications.put("hook", {"url": f"json://127.0.0.1:{web_sink.port}/hook"})
    notifications.send(notice(event="resolved", severity="warning"), ["ntfy", "hook"])
    await eventually(lambda: len(web_sink.posts) == 2)
    [hook] = web_sink.json_posts("/hook")
    assert hook["title"] == "[RESOLVED] Flow temperature above 80 °C" and "83.4 °C" in hook["message"]
    ntfy = [body for path, _, body in web_sink.posts if path != "/hook"]
    assert b"Flow temperature above 80" in ntfy[0] and b"roost-alerts" in ntfy[0]


async def test_a_refusing_and_a_hanging_channel_do_not_delay_the_others(
    node: Harness, smtp: SmtpSink, web_sink: HttpSink
) -> None:
    notifications = node.app.notifications
    await notifications.put("dead", {"url": f"json://127.0.0.1:{free_port()}/nobody"})
    # apprise's own read timeout is long here: roost's timeout (30 s on the fake clock) ends the wait.
    await notifications.put("stuck", {"url": f"json://127.0.0.1:{web_sink.port}/hang/x?rto=120"})
    await notifications.put("email", {"url": smtp.url()})
    await notifications.put("hook", {"url": f"json://127.0.0.1:{web_sink.port}/hook"})
    for i in range(3):
        notifications.send(notice(f"alert {i}"), ["dead", "stuck", "email", "hook"])
    # Without the clock moving at all: the working channels deliver everything.
    await eventually(lambda: len(smtp.mails) == 3 and len(web_sink.json_posts("/hook")) == 3)
    assert [m["Subject"] for m in smtp.mails] == [f"[FIRING] alert {i}" for i in range(3)]
    await eventually(lambda: notifications.describe("dead")["failures"] == 1)
    assert "Connection error" in notifications.describe("dead")["last_error"]
    await eventually(lambda: notifications.delivery.outboxes["email"].sent == 3)
    assert web_sink.hanging == 1 and notifications.describe("stuck")["failures"] == 0
    # The node answers meanwhile, and its health names the failing channel.
    health = node.app.hub.health()["components"]["notifications"]
    assert not health["ok"] and health["channels"]["dead"]["failures"] == 1
    assert health["channels"]["email"] == health["channels"]["email"] | {"ok": True, "sent": 3, "queued": 0}
    await node.advance(30)
    await eventually(lambda: notifications.describe("stuck")["failures"] == 1)
    assert "no answer within 30 s" in notifications.describe("stuck")["last_error"]


async def test_a_failed_send_is_retried_with_back_off_until_it_goes_through(
    node: Harness, web_sink: HttpSink
) -> None:
    notifications = node.app.notifications
    port = free_port()
    await notifications.put("hook", {"url": f"json://127.0.0.1:{port}/late"})
    notifications.send(notice(), ["hook"])
    await eventually(lambda: notifications.describe("hook")["failures"] == 1)
    await node.advance(7)  # under the first retry's 10 s less 20 % jitter: no second attempt yet
    assert notifications.describe("hook")["failures"] == 1
    await node.advance(5)
    await eventually(lambda: notifications.describe("hook")["failures"] == 2)
    # The receiver comes up: the next attempt (20 s +- 20 % later) delivers.
    await notifications.put("hook", {"url": f"json://127.0.0.1:{web_sink.port}/late"})
    await node.advance(25)
    await eventually(lambda: web_sink.json_posts("/late"))
    channel = notifications.describe("hook")
    assert channel["failures"] == 2 and channel["last_sent"] is not None
    assert node.app.hub.health()["components"]["notifications"]["ok"]
    metrics = {
        (m.name, tuple(sorted(s[0].items()))): s[1] for m in notifications.metrics() for s in m.samples
    }
    assert metrics[("roost_notify_failures_total", (("channel", "hook"),))] == 2
    assert metrics[("roost_notify_sent_total", (("channel", "hook"),))] == 1


async def test_a_channel_that_never_works_is_given_up_on_and_counted(node: Harness) -> None:
    notifications = node.app.notifications
    await notifications.put("dead", {"url": f"json://127.0.0.1:{free_port()}/x"})
    notifications.send(notice(), ["dead"])
    await eventually(lambda: notifications.describe("dead")["failures"] == 1)
    # Back-off doubles from 10 s up to 15 min: 8 attempts take under 2 hours; none comes after.
    await node.advance(hours=3)
    outbox = notifications.delivery.outboxes["dead"]
    assert outbox.failures == 8 and outbox.dropped == 1 and not outbox.queue


async def test_quiet_hours_hold_notices_and_send_one_digest_after(tmp_path: Path, web_sink: HttpSink) -> None:
    app = make_app(tmp_path / "data", start="2026-12-01 21:00")
    async with Harness(app, serve=False) as node:
        notifications = app.notifications
        url = f"json://127.0.0.1:{web_sink.port}/night"
        await notifications.put("night", {"url": url, "quiet_hours": {"from": "22:00", "to": "07:00"}})
        notifications.send(notice("before", at=node.clock.time()), ["night"])
        await eventually(lambda: len(web_sink.json_posts("/night")) == 1)
        await node.advance_to("2026-12-01 23:30")
        notifications.send(notice("boiler hot", at=node.clock.time()), ["night"])
        await node.advance_to("2026-12-02 03:10")
        notifications.send(notice("boiler hot", "resolved", at=node.clock.time()), ["night"])
        await node.advance_to("2026-12-02 06:59")
        assert len(web_sink.json_posts("/night")) == 1
        assert notifications.delivery.outboxes["night"].describe()["held"] == 2
        await node.advance_to("2026-12-02 07:00")
        await eventually(lambda: len(web_sink.json_posts("/night")) == 2)
        digest = web_sink.json_posts("/night")[1]
        assert digest["title"] == "roost digest: 1 alert notices, 1 resolved"
        assert "Tue 23:30  [FIRING] boiler hot" in digest["message"]
        assert "Wed 03:10  [RESOLVED] boiler hot" in digest["message"]
        assert "22:00-07:00" in digest["message"]
        # After the quiet hours, each notice goes out at once again.
        notifications.send(notice("morning"), ["night"])
        await eventually(lambda: len(web_sink.json_posts("/night")) == 3)


async def test_the_page_and_the_log_channels_need_nothing_installed(
    node: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    notifications = node.app.notifications
    caplog.set_level("INFO", "roost.notify")
    notifications.send(notice("first"), ["page", "log"])
    notifications.send(notice("second", severity="critical"), ["page"])
    await eventually(lambda: len(node.state.get("alerts/notices", [])) == 2)
    notices = node.state["alerts/notices"]
    assert [n["title"] for n in notices] == ["second", "first"]
    assert notices[0] | {"severity": "critical", "event": "firing", "alert_id": 17} == notices[0]
    await eventually(lambda: "[FIRING] first" in caplog.text)


async def test_a_notice_for_an_unknown_channel_is_counted_not_raised(node: Harness) -> None:
    node.app.notifications.send(notice(), ["nowhere", "page"])
    await eventually(lambda: node.state.get("alerts/notices"))
    assert node.app.hub.health()["components"]["notifications"]["unknown_channel_notices"] == 1


async def test_a_worker_thread_may_send(node: Harness) -> None:
    import asyncio

    await asyncio.to_thread(node.app.notifications.send, notice("from a thread"), ["page"])
    await eventually(lambda: node.state.get("alerts/notices"))
    assert node.state["alerts/notices"][0]["title"] == "from a thread"


async def test_ending_the_quiet_hours_early_sends_the_digest_at_once(
    tmp_path: Path, web_sink: HttpSink
) -> None:
    app = make_app(tmp_path / "data", start="2026-12-01 23:00")
    async with Harness(app, serve=False) as node:
        notifications = app.notifications
        url = f"json://127.0.0.1:{web_sink.port}/night"
        await notifications.put("night", {"url": url, "quiet_hours": {"from": "22:00", "to": "07:00"}})
        notifications.send(notice("one"), ["night"])
        notifications.send(notice("two"), ["night"])
        await node.advance(60)
        assert web_sink.posts == [] and notifications.delivery.outboxes["night"].describe()["held"] == 2
        await notifications.put("night", {"url": url, "quiet_hours": None})
        await eventually(lambda: web_sink.json_posts("/night"))
        assert "2 notices held" in web_sink.json_posts("/night")[0]["message"]
