"""Secrets in channel URLs: found, masked for display, and kept when a masked URL comes back.

A channel URL (apprise's form, `scheme://user:password@host/path?key=value`) may
hold a password, an API token in a query value, or a token as a host or path
part (`tgram://123456:AAH.../chat`, `discord://id/token`). Masking replaces
each such part with `****`, whole: a page, a log line or /healthz never shows
any of it. A URL sent back with `****` still in place (the page's edit form
shows what GET gave it) gets the stored secret at the same place again.

The parser is roost's own and keeps every part as written (no decoding), so
splitting and joining a URL gives back the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

MASK = "****"
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>[^\s]*)$")
# Query keys whose values are credentials (apprise's `token=`, `apikey=`, `pass=`,
# `+Authorization=` headers of json:// and form:// ...).
_SECRET_KEY = re.compile(r"pass|token|key|secret|auth|sid|signature|hash|code|priv|pin|cred", re.I)
# A host or path part this long, of letters and digits together (and no dot, which
# names a host), is a token: Telegram's bot token, a Discord or Slack webhook secret.
_TOKEN = re.compile(r"^(?=[^.]*$)(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_:=+~-]{16,}$")
# Schemes whose host (after any user@) is itself the credential, however short.
_HOST_IS_SECRET = frozenset({"tgram", "pbul", "pover", "pushed", "join", "prowl", "simplepush", "spush"})
# Schemes whose user part is a credential too (pover://USER_KEY@TOKEN).
_USER_IS_SECRET = frozenset({"pover", "pbul"})


class BadUrl(ValueError):
    """Not a channel URL."""


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A channel URL cut into its parts, each as written."""

    scheme: str
    user: str | None
    password: str | None
    host: str
    path: tuple[str, ...]  # the segments after the host, split on "/"
    query: tuple[tuple[str, str | None], ...] = field(default=())  # None: a key with no "="
    has_query: bool = False

    def join(self) -> str:
        """Return the URL as text."""
        auth = ""
        if self.user is not None:
            auth = self.user + (f":{self.password}" if self.password is not None else "") + "@"
        text = f"{self.scheme}://{auth}{self.host}"
        if self.path:
            text += "/" + "/".join(self.path)
        if self.has_query:
            text += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in self.query)
        return text


def split_url(url: str) -> UrlParts:
    """Cut `url` into its parts; raise BadUrl when it is not `scheme://...`."""
    match = _URL.match(url)
    if match is None:
        raise BadUrl("a channel URL looks like scheme://..., e.g. mailto://user:password@host")
    rest = match["rest"]
    rest, has_query, query_text = rest.partition("?")
    authority, _, path_text = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    user = password = None
    if at:
        user, colon, pw = userinfo.partition(":")
        password = pw if colon else None
    path = tuple(path_text.split("/")) if path_text else ()
    query: list[tuple[str, str | None]] = []
    if query_text:
        for item in query_text.split("&"):
            key, eq, value = item.partition("=")
            query.append((key, value if eq else None))
    return UrlParts(match["scheme"].lower(), user, password, host, path, tuple(query), bool(has_query))


def _secret_places(parts: UrlParts) -> list[tuple[str, int | str]]:
    # Where the secrets are: ("password", 0), ("user", 0), ("host", 0), ("path", i), ("query", key).
    places: list[tuple[str, int | str]] = []
    if parts.password:
        places.append(("password", 0))
    if parts.user and parts.scheme in _USER_IS_SECRET:
        places.append(("user", 0))
    if parts.host and (parts.scheme in _HOST_IS_SECRET or _TOKEN.match(parts.host)):
        places.append(("host", 0))
    places += [("path", i) for i, seg in enumerate(parts.path) if _TOKEN.match(seg)]
    places += [("query", k) for k, v in parts.query if v and _SECRET_KEY.search(k.lstrip("+-:"))]
    return places


def _get(parts: UrlParts, place: tuple[str, int | str]) -> str | None:
    kind, where = place
    if kind == "password":
        return parts.password
    if kind == "user":
        return parts.user
    if kind == "host":
        return parts.host
    if kind == "path":
        assert isinstance(where, int)
        return parts.path[where] if where < len(parts.path) else None
    return next((v for k, v in parts.query if k == where), None)


def _set(parts: UrlParts, place: tuple[str, int | str], value: str) -> UrlParts:
    kind, where = place
    if kind == "password":
        return replace(parts, password=value)
    if kind == "user":
        return replace(parts, user=value)
    if kind == "host":
        return replace(parts, host=value)
    if kind == "path":
        return replace(parts, path=tuple(value if i == where else s for i, s in enumerate(parts.path)))
    return replace(parts, query=tuple((k, value if k == where else v) for k, v in parts.query))


def secrets_of(url: str) -> list[str]:
    """Return the secret parts of `url`, as written and decoded (for scrubbing texts)."""
    try:
        parts = split_url(url)
    except BadUrl:
        return []
    found: set[str] = set()
    for place in _secret_places(parts):
        value = _get(parts, place)
        if value:
            found.update({value, unquote(value)})
    # Longest first: a secret that contains another is replaced whole.
    return sorted((s for s in found if len(s) >= 3), key=lambda s: (-len(s), s))


def mask_url(url: str) -> str:
    """Return `url` with every secret part replaced by `****` (an unparsable URL is masked whole)."""
    if not url:
        return url
    try:
        parts = split_url(url)
    except BadUrl:
        return MASK
    for place in _secret_places(parts):
        parts = _set(parts, place, MASK)
    return parts.join()


def scrub(text: str, url: str) -> str:
    """Return `text` with the secrets of `url` masked (an error message, a log line)."""
    if url:
        text = text.replace(url, mask_url(url))
    for secret in secrets_of(url):
        text = text.replace(secret, MASK)
    return text


def unmask(url: str, stored: str | None) -> str:
    """Return `url` with each `****` replaced by the stored URL's secret at the same place.

    Raise BadUrl when a `****` has no stored secret to stand for.
    """
    if MASK not in url:
        return url
    parts = split_url(url)
    old = split_url(stored) if stored else None
    places: list[tuple[str, int | str]] = [("password", 0), ("user", 0), ("host", 0)]
    places += [("path", i) for i in range(len(parts.path))]
    places += [("query", k) for k, _ in parts.query]
    for place in places:
        if _get(parts, place) != MASK:
            continue
        secret = _get(old, place) if old is not None and old.scheme == parts.scheme else None
        if not secret or secret == MASK:
            raise BadUrl("the URL holds **** where no secret is stored: type the secret itself")
        parts = _set(parts, place, secret)
    if MASK in parts.join():
        raise BadUrl("the URL holds **** where no secret is stored: type the secret itself")
    return parts.join()
