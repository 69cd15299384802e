"""The one check every request passes: cross-site, credentials, CSRF, scope; it builds the Caller.

Order matters and is the same for every route: a request from another web site
is refused first (also on an open node, also for raspend's routes), then the
credentials are read (a bearer token, a one-time ticket in the URL, or the
session cookie with its CSRF token on unsafe methods), then the route's scope
is compared with the caller's. The web server's middleware calls `check()`;
WebSocket messages and command calls carry the Caller built here, and the
command registry checks each command's own scope.
"""

from __future__ import annotations

from aiohttp import web

from roost.auth import crypto
from roost.auth.errors import CrossSite, CsrfFailed, HostRefused, Unauthenticated
from roost.auth.policy import (
    SAFE_METHODS,
    client_address,
    cross_site_refusal,
    forwarded_proto,
    host_name,
    is_loopback_name,
    own_origin,
)
from roost.auth.service import NOBODY, Auth, Identity
from roost.core.caller import Caller, Scope
from roost.core.errors import Unavailable
from roost.runtime.credentials import CREDENTIAL
from roost.runtime.routes import Route, transport_of

SESSION_COOKIE = "roost_session"
CSRF_HEADER = "X-CSRF-Token"
TICKET_PARAM = "ticket"
# Reachable without credentials on a node that requires them: the page's shell and
# assets (which show the login screen), signing in and out, the first-run set-up,
# who-am-I, and liveness.
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/"),
        ("HEAD", "/"),
        ("POST", "/api/login"),
        ("POST", "/api/logout"),
        ("GET", "/api/me"),
        ("POST", "/api/setup"),
        ("GET", "/healthz"),
    }
)
RASPEND_PREFIX = "raspend"
# What the guard found, for the handlers of /api/me, /api/logout and /api/tickets.
IDENTITY = web.RequestKey("roost_identity", Identity)


def is_raspend(route: Route) -> bool:
    """Return whether `route` is one of raspend's compatibility routes."""
    return route.name.startswith(RASPEND_PREFIX)


class Guard:
    """Builds the Caller of each request for the web server's one middleware. Loop only."""

    def __init__(self, auth: Auth) -> None:
        self.auth = auth

    def scheme(self, request: web.Request) -> str:
        """Return the scheme the client used (a trusted proxy's word for it counts)."""
        remote = request.remote or ""
        proto = forwarded_proto(remote, request.headers.get("X-Forwarded-Proto"), self.auth.trusted)
        return proto or ("https" if request.secure else "http")

    def address(self, request: web.Request) -> str:
        """Return the client's address (through trusted proxies)."""
        remote = request.remote or ""
        return client_address(remote, request.headers.get("X-Forwarded-For"), self.auth.trusted)

    def check(self, request: web.Request, route: Route | None) -> Caller:
        """Return the Caller of `request`, or raise CrossSite, CsrfFailed, HostRefused or Unauthenticated."""
        headers = request.headers
        method = request.method
        websocket = headers.get("Upgrade", "").lower() == "websocket"
        needed = route.scope if route is not None else Scope.READ
        transport = transport_of(request)
        sensitive = websocket or needed >= Scope.CONTROL
        # Only unsafe and sensitive requests are judged: a plain GET (the hot path) costs nothing here.
        if (method not in SAFE_METHODS or sensitive) and (route is None or not route.cross_site):
            refusal = cross_site_refusal(
                method=method,
                origin=headers.get("Origin"),
                fetch_site=headers.get("Sec-Fetch-Site"),
                own=own_origin(self.scheme(request), headers.get("Host", "")),
                allowed=self.auth.settings.allowed_origins,
                sensitive=sensitive,
            )
            if refusal is not None:
                raise CrossSite(refusal)
        address = self.address(request)
        identity = self.identify(request)
        request[IDENTITY] = identity
        public = route is None or (method, route.path) in PUBLIC
        # Signing in and out and the set-up authenticate themselves (and are never
        # cross-site, see above); everything else a session does unsafely needs the token.
        if identity.kind == "session" and method not in SAFE_METHODS and not public:
            given = headers.get(CSRF_HEADER, "")
            if not given or not crypto.same(given, identity.csrf):
                raise CsrfFailed(f"this request needs the session's CSRF token in {CSRF_HEADER}")
        if identity.scope is not None:
            if identity.key:
                request[CREDENTIAL] = identity.key
            caller = Caller(transport, address, identity.principal, identity.scope)
        elif not self.auth.required:
            # Open node (loopback, no user): only for names that mean this machine, so
            # that a DNS name rebound to 127.0.0.1 by another site gets nothing.
            if not is_loopback_name(host_name(headers.get("Host", ""))):
                raise HostRefused("this node is open to local clients only: use 127.0.0.1 or localhost")
            caller = Caller(transport, address, "", Scope.ADMIN)
        elif route is not None and is_raspend(route) and not self.auth.settings.raspend_auth:
            caller = Caller(transport, address, "", Scope.CONTROL)  # as open to the LAN as raspend was
        elif public:
            caller = Caller(transport, address, "", Scope.READ)
            # These routes look at the principal themselves; "read" is the least a Caller holds.
            return caller
        elif self.auth.unavailable is not None:
            raise Unavailable(self.auth.unavailable)
        else:
            raise Unauthenticated("sign in, or send an API token as 'Authorization: Bearer ...'")
        return caller  # the web server compares the route's scope with the caller's

    def identify(self, request: web.Request) -> Identity:
        """Return what the request's credentials prove; raise Unauthenticated for bad ones."""
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
            identity = self.auth.by_token(secret.strip())
            if identity is None:
                raise Unauthenticated("unknown, expired or revoked API token")
            return identity
        ticket = request.query.get(TICKET_PARAM)
        if ticket is not None:
            identity = self.auth.by_ticket(ticket)
            if identity is None:
                raise Unauthenticated("unknown, used or expired ticket; ask POST /api/tickets for a new one")
            return identity
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            identity = self.auth.by_session(cookie)
            if identity is not None:
                return identity
            # A stale cookie is no credential: the request goes on as anonymous (the
            # page then shows its login screen), and the reply clears it.
        return NOBODY
