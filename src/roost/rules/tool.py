"""`roost notify test URL`: send one test message to a channel URL, say whether it went through."""

from __future__ import annotations

import time

from roost.core.errors import InvalidArguments
from roost.rules import messages, transport
from roost.rules.channels import check_url
from roost.rules.secrets import mask_url

# Exit statuses: 0 sent, 1 the channel failed, 2 the URL or the installation is unusable.
SENT, FAILED, UNUSABLE = 0, 1, 2


def notify_test(url: str, timeout_s: float = 60.0) -> tuple[int, str]:
    """Send a test message to `url`; return an exit status and a line to print (secrets masked)."""
    try:
        check_url(url)
    except InvalidArguments as exc:
        return UNUSABLE, f"not a channel URL: {exc}"
    if transport.apprise_state() == "missing":
        return UNUSABLE, transport.INSTALL_HINT
    notice = messages.probe_notice("from the command line", time.time())
    shown = mask_url(url)
    try:
        transport.send(url, messages.one(notice), timeout_s)
    except transport.SendFailed as exc:
        return FAILED, f"{shown}: {exc}"
    return SENT, f"sent a test message to {shown}"
