"""Pure request decisions: cross-site refusals, loopback names, forwarded addresses."""

from __future__ import annotations

import pytest

from roost.auth.policy import (
    client_address,
    cross_site_refusal,
    forwarded_proto,
    is_loopback_name,
    normalize_origin,
    own_origin,
    parse_networks,
)

OWN = "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("HTTP://Example.COM:80", "http://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("null", None),
        ("file://", None),
        ("http://x:notaport", None),
    ],
)
def test_normalize_origin(origin: str, expected: str | None) -> None:
    assert normalize_origin(origin) == expected


@pytest.mark.parametrize(
    ("method", "origin", "site", "sensitive", "refused"),
    [
        ("POST", "http://evil.example", None, False, True),
        ("POST", "null", None, False, True),
        ("POST", OWN, None, False, False),
        ("POST", "http://127.0.0.1:8080/", None, False, False),
        ("DELETE", "http://127.0.0.1:9999", None, False, True),  # another port is another origin
        ("GET", "http://evil.example", None, False, False),  # a read: unreadable without CORS
        ("GET", "http://evil.example", None, True, True),  # a WebSocket or a GET that runs a command
        ("GET", None, "cross-site", True, True),  # <img src="/cmd?...">
        ("GET", None, "same-site", True, True),
        ("GET", None, "same-origin", True, False),
        ("POST", None, "none", False, False),  # typed into the address bar / bookmarks
        ("POST", None, None, False, False),  # curl
        ("POST", "http://allowed.example", None, False, False),
    ],
)
def test_cross_site_refusal(
    method: str, origin: str | None, site: str | None, sensitive: bool, refused: bool
) -> None:
    reason = cross_site_refusal(
        method=method,
        origin=origin,
        fetch_site=site,
        own=own_origin("http", "127.0.0.1:8080"),
        allowed=["http://allowed.example"],
        sensitive=sensitive,
    )
    assert (reason is not None) == refused


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("evil.example", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_is_loopback_name(host: str, loopback: bool) -> None:
    assert is_loopback_name(host) is loopback


PROXIES = parse_networks(["10.0.0.1", "172.16.0.0/12"])


@pytest.mark.parametrize(
    ("remote", "xff", "expected"),
    [
        ("192.168.1.9", "1.2.3.4", "192.168.1.9"),  # not a proxy: its header is the client's own word
        ("10.0.0.1", "192.168.1.9", "192.168.1.9"),
        ("10.0.0.1", "6.6.6.6, 192.168.1.9", "192.168.1.9"),  # the leftmost was written by the client
        ("10.0.0.1", "192.168.1.9, 172.16.0.3", "192.168.1.9"),  # two proxies in a row
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "garbage", "garbage"),
    ],
)
def test_client_address(remote: str, xff: str | None, expected: str) -> None:
    assert client_address(remote, xff, PROXIES) == expected


def test_forwarded_proto_only_from_proxies() -> None:
    assert forwarded_proto("10.0.0.1", "https", PROXIES) == "https"
    assert forwarded_proto("192.168.1.9", "https", PROXIES) is None
    assert forwarded_proto("10.0.0.1", "gopher", PROXIES) is None


def test_bad_proxy_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        parse_networks(["not-an-address"])
