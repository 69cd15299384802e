"""Users, sessions, scoped API tokens, cross-site protection and the audit log.

Auth (service.py)        users, sessions, tokens, tickets, set-up code, audit; a Component
Guard (guard.py)         the per-request check the web server's middleware calls
AuthApi (routes.py)      /api/login, /api/logout, /api/me, /api/setup, /api/tickets, /api/tokens, /api/audit
policy.py                pure decisions: cross-site, loopback names, forwarded addresses
AuthDB (db.py)           auth.db in the data directory
tool.py                  `roost user ...` and `roost token ...`
"""

from roost.auth.component import AuthComponent
from roost.auth.guard import Guard
from roost.auth.service import Auth, Identity
from roost.auth.settings import AuthSettings

__all__ = ["Auth", "AuthComponent", "AuthSettings", "Guard", "Identity"]
