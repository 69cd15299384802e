"""Alerts: rules over the state tree, their states, and the notifications they send."""

from roost.rules.notice import Notice, Notifier

__all__ = ["Notice", "Notifier"]
