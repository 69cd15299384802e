"""Authentication's errors, answered as roost's JSON error object.

RoostError
├── Unauthenticated (401 unauthenticated)   no valid credentials where they are needed
├── Forbidden (403 forbidden, core.errors) credentials too weak for what was asked
│   ├── CrossSite (403 cross_site)          another web site asked (Origin, Sec-Fetch-Site)
│   ├── CsrfFailed (403 csrf_failed)        a session's unsafe request without its CSRF token
│   ├── HostRefused (403 host_refused)      an open node asked by a non-loopback Host (DNS rebinding)
│   └── SetupRefused (403 setup_refused)    wrong, used or absent set-up code
└── LoginThrottled (429 login_throttled)    too many failed logins; `retry_after_s` says when
"""

from __future__ import annotations

import math

from roost.core.errors import Forbidden, RoostError


class Unauthenticated(RoostError):
    status = 401
    code = "unauthenticated"


class CrossSite(Forbidden):
    status = 403
    code = "cross_site"


class CsrfFailed(Forbidden):
    status = 403
    code = "csrf_failed"


class HostRefused(Forbidden):
    status = 403
    code = "host_refused"


class SetupRefused(Forbidden):
    status = 403
    code = "setup_refused"


class LoginThrottled(RoostError):
    status = 429
    code = "login_throttled"

    def __init__(self, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many failed logins; try again in {seconds} s", retry_after_s=seconds)
        self.retry_after_s = seconds
