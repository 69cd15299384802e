"""Password hashes, secrets and the set-up code."""

from __future__ import annotations

import pytest

from roost.auth import crypto

FAST = crypto.ScryptParams(n=2**10, r=8, p=1)


def test_hash_verifies_only_its_password() -> None:
    stored = crypto.hash_password("correct horse", FAST)
    assert stored.startswith("scrypt$1024$8$1$")
    assert crypto.verify_password("correct horse", stored)
    assert not crypto.verify_password("correct horsE", stored)


def test_same_password_gets_another_salt() -> None:
    assert crypto.hash_password("pw12345678", FAST) != crypto.hash_password("pw12345678", FAST)


@pytest.mark.parametrize("stored", [None, "", "plain", "scrypt$x$8$1$aa$bb", "md5$1$2$3$4$5"])
def test_missing_or_broken_hash_fails(stored: str | None) -> None:
    assert not crypto.verify_password("anything", stored)


def test_overlong_password_fails_without_error() -> None:
    stored = crypto.hash_password("a" * 8, FAST)
    assert not crypto.verify_password("a" * 100_000, stored)


def test_rehash_when_parameters_change() -> None:
    assert crypto.needs_rehash(crypto.hash_password("pw12345678", FAST))
    assert not crypto.needs_rehash(crypto.hash_password("pw12345678", FAST), FAST)


def test_tokens_are_unique_and_prefixed() -> None:
    a, b = crypto.new_token(), crypto.new_token()
    assert a != b and a.startswith("roost_") and len(a) > 40
    assert crypto.digest(a) != crypto.digest(b)


def test_setup_code_is_typeable() -> None:
    code = crypto.new_setup_code()
    assert len(code) == 19 and code.count("-") == 3
    assert crypto.normalize_setup_code(code.lower().replace("-", " ")) == code.replace("-", "")


@pytest.mark.parametrize(("pw", "ok"), [("short", False), ("long enough", True), ("x" * 2000, False)])
def test_password_rules(pw: str, ok: bool) -> None:
    assert (crypto.check_password_rules(pw) is None) is ok
