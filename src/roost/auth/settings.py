"""What authentication tolerates and how long things live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from roost.auth.crypto import DEFAULT_PARAMS, ScryptParams

DAY_S = 86_400.0
MIN_AUDIT_KEEP_DAYS = 90


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Authentication's settings; the defaults suit a home network.

    `require`: None decides by the bind address (open on loopback while there is
    no user, required anywhere else); True or False forces it.
    `trusted_proxies`: addresses or networks whose `X-Forwarded-For` and
    `X-Forwarded-Proto` are believed. `allowed_origins`: other sites whose pages
    may call this node (CORS is opened for them by the web server too).
    `raspend_auth`: raspend's routes need a token too (else open to the LAN, as
    raspend had them, but never to other sites).
    """

    require: bool | None = None
    session_idle_s: float = 7 * DAY_S
    session_max_s: float = 30 * DAY_S
    ticket_ttl_s: float = 30.0
    trusted_proxies: Sequence[str] = field(default_factory=tuple)
    allowed_origins: Sequence[str] = field(default_factory=tuple)
    raspend_auth: bool = False
    audit_keep_days: float = 400.0
    # How often sessions, tokens and the database are looked at (expiry, revocation
    # from the command line, audit flush): a revoked token's streams close within this.
    tick_s: float = 0.25
    scrypt: ScryptParams = DEFAULT_PARAMS
    max_concurrent_hashes: int = 2

    def __post_init__(self) -> None:
        if self.audit_keep_days < MIN_AUDIT_KEEP_DAYS:
            raise ValueError(f"audit_keep_days must be at least {MIN_AUDIT_KEEP_DAYS}")
        if self.session_idle_s <= 0 or self.session_max_s <= 0:
            raise ValueError("session lifetimes must be positive")
