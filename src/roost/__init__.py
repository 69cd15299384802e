"""roost: a small, fast framework for home-automation backends.

The names below are the public API; everything else may change between releases.
"""

from roost.app import App
from roost.auth import AuthSettings
from roost.auth.crypto import ScryptParams
from roost.core.errors import (
    CommandError,
    InvalidArguments,
    InvalidPath,
    InvalidValue,
    RoostError,
    UnknownCommand,
    UnknownPath,
)
from roost.core.meta import PathMeta
from roost.core.version import __version__
from roost.live import LiveSettings
from roost.runtime.component import Component
from roost.runtime.state import Change, StateTree
from roost.store import HistorySettings

__all__ = [
    "App",
    "AuthSettings",
    "Change",
    "CommandError",
    "Component",
    "HistorySettings",
    "InvalidArguments",
    "InvalidPath",
    "InvalidValue",
    "LiveSettings",
    "PathMeta",
    "RoostError",
    "ScryptParams",
    "StateTree",
    "UnknownCommand",
    "UnknownPath",
    "__version__",
]
