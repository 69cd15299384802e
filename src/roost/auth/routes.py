"""The authentication routes: sign in and out, who am I, first-run set-up, tickets, tokens, audit."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from roost.auth.db import Session
from roost.auth.errors import LoginThrottled, Unauthenticated
from roost.auth.guard import IDENTITY, SESSION_COOKIE, Guard
from roost.auth.service import NOBODY, Auth, Identity, parse_duration
from roost.core import codec
from roost.core.caller import Scope
from roost.core.errors import BadRequest, Forbidden, InvalidArguments, NotFound
from roost.runtime.routes import Route, caller_of

MAX_AUDIT_ROWS = 1000
_READ_TIMEOUT_S = 10.0


async def read_object(request: web.Request) -> dict[str, Any]:
    """Return the request's JSON object body, or raise BadRequest."""
    try:
        async with asyncio.timeout(_READ_TIMEOUT_S):
            body = await request.read()
    except TimeoutError:
        raise BadRequest(f"request body not received within {_READ_TIMEOUT_S:g} s") from None
    value = codec.loads(body) if body.strip() else {}
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise InvalidArguments(f"{key!r} must be a non-empty string", argument=key)
    return value


def _throttled(exc: LoginThrottled) -> web.Response:
    return web.Response(
        body=codec.dumps(exc.to_json()),
        status=exc.status,
        content_type="application/json",
        headers={"Retry-After": str(exc.retry_after_s)},
    )


class AuthApi:
    """Handlers of the authentication routes."""

    def __init__(self, auth: Auth, guard: Guard) -> None:
        self.auth = auth
        self.guard = guard

    def routes(self) -> list[Route]:
        """Return the routes with the scope each needs."""
        return [
            Route("POST", "/api/login", self.login, Scope.READ, "auth.login"),
            Route("POST", "/api/logout", self.logout, Scope.READ, "auth.logout"),
            Route("GET", "/api/me", self.me, Scope.READ, "auth.me"),
            Route("POST", "/api/setup", self.setup, Scope.READ, "auth.setup"),
            Route("POST", "/api/tickets", self.ticket, Scope.READ, "auth.ticket"),
            Route("GET", "/api/tokens", self.list_tokens, Scope.ADMIN, "auth.tokens"),
            Route("POST", "/api/tokens", self.create_token, Scope.ADMIN, "auth.token_create"),
            Route("DELETE", "/api/tokens/{id}", self.revoke_token, Scope.ADMIN, "auth.token_revoke"),
            Route("GET", "/api/audit", self.audit, Scope.ADMIN, "auth.audit"),
        ]

    def _me(self, request: web.Request, identity: Identity) -> dict[str, Any]:
        caller = caller_of(request)
        signed_in = identity.scope is not None
        return {
            "user": identity.principal if signed_in else None,
            "scope": caller.scope.label if signed_in or not self.auth.required else None,
            "auth": identity.kind if signed_in else ("open" if not self.auth.required else "none"),
            "required": self.auth.required,
            "setup_needed": self.auth.setup_needed,
            "csrf": identity.csrf or None,
        }

    def _set_cookie(self, request: web.Request, response: web.Response, cookie: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.guard.scheme(request) == "https",
            max_age=int(self.auth.settings.session_max_s),
        )

    def _signed_in(self, request: web.Request, cookie: str, session: Session) -> web.Response:
        user = self.auth._users[session.user]
        identity = Identity("session", user.name, user.scope, f"s:{session.digest}", session.csrf)
        body = {**self._me(request, identity), "scope": user.scope.label}
        response = web.Response(body=codec.dumps(body), content_type="application/json")
        self._set_cookie(request, response, cookie)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def login(self, request: web.Request) -> web.Response:
        """Check a user name and password; set the session cookie."""
        body = await read_object(request)
        name, password = _text(body, "name"), _text(body, "password")
        old = request.cookies.get(SESSION_COOKIE)
        try:
            cookie, session = await self.auth.login(name, password, caller_of(request).address, old)
        except LoginThrottled as exc:
            return _throttled(exc)
        return self._signed_in(request, cookie, session)

    async def logout(self, request: web.Request) -> web.Response:
        """End the session and clear its cookie (fine without one)."""
        identity = request.get(IDENTITY, NOBODY)
        if identity.session:
            await self.auth.end_session(identity.session)
            caller = caller_of(request)
            self.auth.audit("logout", identity.principal, caller.transport, caller.address)
        response = web.Response(body=codec.dumps({"ok": True}), content_type="application/json")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def me(self, request: web.Request) -> web.Response:
        """Return who the caller is, whether sign-in is required, and the session's CSRF token."""
        body = self._me(request, request.get(IDENTITY, NOBODY))
        response = web.Response(body=codec.dumps(body), content_type="application/json")
        response.headers["Cache-Control"] = "no-store"
        if request.cookies.get(SESSION_COOKIE) and body["auth"] != "session":
            response.del_cookie(SESSION_COOKIE, path="/")  # a stale one
        return response

    async def setup(self, request: web.Request) -> web.Response:
        """Create the first admin with the set-up code; signs them in."""
        body = await read_object(request)
        code, name, password = _text(body, "code"), _text(body, "name"), _text(body, "password")
        try:
            cookie, session = await self.auth.setup(code, name, password, caller_of(request).address)
        except LoginThrottled as exc:
            return _throttled(exc)
        return self._signed_in(request, cookie, session)

    async def ticket(self, request: web.Request) -> web.Response:
        """Return a single-use ticket for a stream URL (`?ticket=`), for clients that cannot set headers."""
        identity = request.get(IDENTITY, NOBODY)
        if identity.scope is None:
            raise Unauthenticated("tickets are for signed-in callers; this node is open anyway")
        ticket = self.auth.ticket_for(identity)
        return web.Response(
            body=codec.dumps({"ticket": ticket, "expires_in_s": self.auth.settings.ticket_ttl_s}),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def list_tokens(self, request: web.Request) -> web.Response:
        """List tokens (never their secrets)."""
        body = {"tokens": [t.to_json() for t in self.auth.tokens()]}
        return web.Response(body=codec.dumps(body), content_type="application/json")

    async def create_token(self, request: web.Request) -> web.Response:
        """Create a token: `{"name", "scope", "expires"?: "90d"}`; the secret is in this reply only."""
        body = await read_object(request)
        name = _text(body, "name")
        caller = caller_of(request)
        try:
            scope = Scope.parse(_text(body, "scope"))
        except ValueError as exc:
            raise InvalidArguments(str(exc), argument="scope") from None
        if not caller.allows(scope):
            raise Forbidden(
                f"you cannot give a token more than your own {caller.scope.label} scope", scope.label
            )
        expires = body.get("expires")
        if expires is not None and not isinstance(expires, str):
            raise InvalidArguments("'expires' must be a duration such as '90d'", argument="expires")
        expires_s = parse_duration(expires) if expires else None
        secret, token = await self.auth.create_token(name, scope, expires_s, caller)
        return web.Response(
            body=codec.dumps({**token.to_json(), "token": secret}),
            status=201,
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def revoke_token(self, request: web.Request) -> web.Response:
        """Revoke a token by id (or name); its open streams close."""
        token = await self.auth.revoke_token(request.match_info["id"], caller_of(request))
        if token is None:
            raise NotFound(f"no token {request.match_info['id']!r}")
        return web.Response(body=codec.dumps({"revoked": token.to_json()}), content_type="application/json")

    async def audit(self, request: web.Request) -> web.Response:
        """Return audit entries, newest first: `?limit=100&before=ID&kind=login&since=EPOCH`."""
        query = request.query
        try:
            limit = int(query.get("limit", "100"))
            before = int(query["before"]) if "before" in query else None
            since = float(query["since"]) if "since" in query else None
        except ValueError:
            raise BadRequest("limit and before are integers, since epoch seconds") from None
        if not 1 <= limit <= MAX_AUDIT_ROWS:
            raise BadRequest(f"limit must be between 1 and {MAX_AUDIT_ROWS}")
        entries = await self.auth.query_audit(
            limit=limit, before_id=before, kind=query.get("kind"), since=since
        )
        return web.Response(body=codec.dumps({"entries": entries}), content_type="application/json")
