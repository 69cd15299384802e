"""Secrets in channel URLs: masked whole, kept when a masked URL comes back, scrubbed from texts."""

from __future__ import annotations

import pytest

from roost.rules.secrets import MASK, BadUrl, mask_url, scrub, secrets_of, split_url, unmask

TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DISCORD_TOKEN = "k3Jd8sLq0pZxW2vR7tYu9iOaSdFgHjKlZxCvBnM1"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "mailto://user:hunter2@mail.example.org?to=me@example.org",
            "mailto://user:****@mail.example.org?to=me@example.org",
        ),
        (
            "ntfy://ntfy.example.org/roost-alerts?token=tk_abc",
            "ntfy://ntfy.example.org/roost-alerts?token=****",
        ),
        ("ntfy://127.0.0.1:8080/topic", "ntfy://127.0.0.1:8080/topic"),
        (f"tgram://{TG_TOKEN}/12345678", "tgram://****/12345678"),
        (f"discord://1234567890/{DISCORD_TOKEN}", "discord://1234567890/****"),
        ("pover://userkey@apptoken", "pover://****@****"),
        (
            "json://hook.example.org/x?+Authorization=Bearer%20xyz",
            "json://hook.example.org/x?+Authorization=****",
        ),
        ("twilio://ACsid:authtok@15551234567/15557654321", "twilio://ACsid:****@15551234567/15557654321"),
        ("json://127.0.0.1:9/hook", "json://127.0.0.1:9/hook"),
    ],
)
def test_mask_hides_each_secret_whole(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert unmask(masked, url) == url  # sent back as GET showed it: the secret is kept


def test_an_unparsable_url_is_masked_whole() -> None:
    assert mask_url("not a url with hunter2") == MASK


@pytest.mark.parametrize("url", ["mailto://a:b@h/x?y=1&z", "json://h:1/a/b/c?", "tgram://t/c", "x://"])
def test_split_and_join_give_back_the_same_text(url: str) -> None:
    assert split_url(url).join() == url


def test_a_new_secret_replaces_the_stored_one_and_other_parts_may_change() -> None:
    stored = "mailto://user:old@mail.example.org?to=me@example.org"
    assert unmask("mailto://user:new@mail.example.org", stored) == "mailto://user:new@mail.example.org"
    assert (
        unmask("mailto://user:****@smtp.example.org?to=you@example.org", stored)
        == "mailto://user:old@smtp.example.org?to=you@example.org"
    )


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("mailto://user:****@mail.example.org", None),  # nothing stored
        ("mailto://user:****@mail.example.org", "mailto://user@mail.example.org"),  # no password stored
        ("mailtos://user:****@mail.example.org", "mailto://user:pw@mail.example.org"),  # another scheme
        ("ntfy://h/t?token=****", "ntfy://h/t"),
    ],
)
def test_a_mask_with_no_stored_secret_behind_it_is_refused(url: str, stored: str | None) -> None:
    with pytest.raises(BadUrl, match=r"\*\*\*\*"):
        unmask(url, stored)


def test_scrub_removes_secrets_as_written_and_decoded() -> None:
    url = "json://u:p%40ss@h/x?token=tok123"
    assert secrets_of(url) == ["p%40ss", "tok123", "p@ss"]
    assert scrub("login p@ss refused; token tok123", url) == "login **** refused; token ****"
