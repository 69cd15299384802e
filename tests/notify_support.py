"""Real transports for the channel tests, all on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP sink."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from roost import App
from roost.rules.notice import Notice
from roost.testing import fake_clock

SMTP_USER = "alice"
SMTP_PASSWORD = "s3cret-Pa55"
TZ = "Europe/Berlin"


@dataclass
class SmtpSink:
    """A local SMTP server that keeps what it receives; it takes AUTH without TLS (loopback only)."""

    port: int = 0
    mails: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        ok = data.login.decode() == SMTP_USER and data.password.decode() == SMTP_PASSWORD
        return AuthResult(success=ok, handled=False)

    def url(self, password: str = SMTP_PASSWORD) -> str:
        """Return an apprise mailto:// URL for this server: plain SMTP, no TLS, with AUTH."""
        return (
            f"mailto://{SMTP_USER}:{password}@127.0.0.1:{self.port}"
            "?smtp=127.0.0.1&mode=insecure&from=roost@example.org&to=me@example.org"
        )

    def bodies(self) -> list[str]:
        """Return the plain-text body of each mail."""
        out = []
        for mail in self.mails:
            part = mail.get_body(("plain",))
            out.append(part.get_content() if part is not None else "")
        return out


@asynccontextmanager
async def smtp_server() -> AsyncIterator[SmtpSink]:
    """Serve SMTP on a free port of 127.0.0.1 on this loop."""
    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, authenticator=sink.authenticate, auth_require_tls=False, hostname="sink.local"),
        "127.0.0.1",
        0,
    )
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class HttpSink:
    """A local HTTP server that keeps every POST; a path under /hang/ never answers."""

    port: int = 0
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    hanging: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/hang/"):
            self.hanging += 1
            await self.release.wait()
            return web.Response(status=503)
        self.posts.append((request.path, dict(request.headers), await request.read()))
        return web.json_response({"id": "1", "event": "message"})

    def json_posts(self, path: str) -> list[Any]:
        """Return the decoded JSON bodies posted to `path`."""
        return [json.loads(body) for p, _, body in self.posts if p == path]


@asynccontextmanager
async def http_server() -> AsyncIterator[HttpSink]:
    """Serve HTTP on a free port of 127.0.0.1 on this loop."""
    sink = HttpSink()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sink.port = runner.addresses[0][1]
    try:
        yield sink
    finally:
        sink.release.set()
        await runner.cleanup()


def make_app(data_dir: Path, start: str = "2026-12-01 12:00", **kwargs: Any) -> App:
    """Return a node on a fake clock (local time `start`, Berlin) with no history and no auth (unless asked)."""
    from zoneinfo import ZoneInfo

    clock = fake_clock(start, ZoneInfo(TZ))
    kwargs.setdefault("auth", False)
    kwargs.setdefault("history", False)
    return App("notify-test", data_dir=data_dir, clock=clock, timezone=TZ, **kwargs)


def notice(
    title: str = "Flow temperature above 80 °C", event: str = "firing", at: float = 0.0, **kw: Any
) -> Notice:
    """Return a notice for tests."""
    fields: dict[str, Any] = {
        "rule": "boiler-overheat",
        "alert_id": 17,
        "event": event,
        "severity": "warning",
        "title": title,
        "body": "Flow temperature 83.4 °C (Boiler flow) since 12:00",
        "link": "http://127.0.0.1:8080/#alerts",
        "at": at,
    }
    fields.update(kw)
    return Notice(**fields)
