"""Pure decisions about requests: cross-site checks, loopback names, the client's real address.

Nothing here does I/O; the guard (guard.py) feeds it request headers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalize_origin(origin: str) -> str | None:
    """Return `scheme://host[:port]` lower-cased without a default port, or None if not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def own_origin(scheme: str, host_header: str) -> str | None:
    """Return the origin a page served by this request's `Host` has."""
    return normalize_origin(f"{scheme}://{host_header}") if host_header else None


def cross_site_refusal(
    *,
    method: str,
    origin: str | None,
    fetch_site: str | None,
    own: str | None,
    allowed: Iterable[str] = (),
    sensitive: bool = False,
) -> str | None:
    """Return why a request from another site is refused, or None to let it through.

    Unsafe methods, `sensitive` requests (ones that run a command, WebSocket
    handshakes) are checked; a plain read may come from anywhere, since without
    CORS headers no other page can read the answer. Browsers send `Origin` on
    every unsafe request and WebSocket handshake; a GET that carries none
    (an `<img src=/cmd?...>`) is judged by `Sec-Fetch-Site` instead.
    """
    if method.upper() in SAFE_METHODS and not sensitive:
        return None
    if origin is not None:
        theirs = normalize_origin(origin)  # "null" (sandboxed frames, file:) is never ours
        if theirs is not None and (theirs == own or theirs in {normalize_origin(a) for a in allowed}):
            return None
        return f"requests from {origin} are refused; this node only takes them from its own pages"
    if fetch_site is not None and fetch_site.lower() in ("cross-site", "same-site"):
        return "requests from other web sites are refused; this node only takes them from its own pages"
    return None  # curl, scripts, and old browsers' plain GETs


def host_name(host_header: str) -> str:
    """Return the host part of a `Host` header (no port, no brackets), lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback_name(host: str) -> bool:
    """Return whether `host` (a name or address, no port) means this machine only."""
    host = host.strip().lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_networks(items: Sequence[str]) -> tuple[Network, ...]:
    """Parse proxy addresses or networks (`10.0.0.1`, `10.0.0.0/8`); raise ValueError."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(remote: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Return the client's address: `remote`, or the proxy's `X-Forwarded-For` when `remote` is trusted.

    Read from the right: each trusted proxy appended the address it saw, and the
    first address that is not a trusted proxy is the client. Anything to its
    left was written by the client and proves nothing.
    """
    if not forwarded_for or not trusted or not _in(remote, trusted):
        return remote
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else remote


def forwarded_proto(remote: str, header: str | None, trusted: Sequence[Network]) -> str | None:
    """Return `X-Forwarded-Proto` when a trusted proxy sent it, else None."""
    if header and trusted and _in(remote, trusted):
        proto = header.split(",")[0].strip().lower()
        return proto if proto in ("http", "https") else None
    return None
