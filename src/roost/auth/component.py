"""The component the App adds: the Auth service with its guard and its routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roost.auth.guard import Guard
from roost.auth.routes import AuthApi
from roost.auth.service import Auth
from roost.auth.settings import AuthSettings
from roost.runtime.hub import Hub
from roost.runtime.routes import Route


class AuthComponent(Auth):
    """Authentication as a feature: `guard.check()` for the web server, and the /api auth routes."""

    def __init__(self, hub: Hub, settings: AuthSettings | None = None) -> None:
        super().__init__(hub, settings)
        self.guard = Guard(self)
        self.api = AuthApi(self, self.guard)

    def routes(self) -> Sequence[Route]:
        """Return the authentication routes."""
        return self.api.routes()

    def openapi_paths(self) -> dict[str, Any]:
        """Describe the authentication routes."""
        from roost.auth.openapi import auth_paths

        return auth_paths()
