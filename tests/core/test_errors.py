"""describe_error: what health shows of an exception, without the machine's folders."""

from __future__ import annotations

import pytest

from roost.core.errors import describe_error, strip_paths


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("No such file: '/sys/bus/w1/devices/28-1/w1_slave'", "No such file: 'w1_slave'"),
        ('File "/home/pi/home.py", line 3', 'File "home.py", line 3'),
        ("GET http://plug.local/cm?cmnd=Power failed", "GET http://plug.local/cm?cmnd=Power failed"),
        ("path /healthz and ./data/x.db", "path /healthz and ./data/x.db"),
        ("no paths at all", "no paths at all"),
    ],
)
def test_strip_paths_keeps_file_names_and_urls(text: str, shown: str) -> None:
    assert strip_paths(text) == shown


def test_describe_error_is_type_and_message() -> None:
    assert (
        describe_error(OSError(5, "I/O error", "/dev/ttyUSB0")) == "OSError: [Errno 5] I/O error: 'ttyUSB0'"
    )
    assert describe_error(ZeroDivisionError()) == "ZeroDivisionError"
