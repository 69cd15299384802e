"""Password hashing (scrypt from the standard library), secrets, and constant-time checks.

A password hash is stored as `scrypt$N$r$p$salt$hash` (salt and hash in
urlsafe base64), so the parameters can be raised later without locking anyone
out: `needs_rehash()` tells the login to store a new hash.

API tokens and session ids are 256-bit random secrets: a fast SHA-256 of them
is enough to store (no dictionary can guess them), and lets a request find its
token by the digest in a dict without any database read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

# 16 MiB of memory and about 50-80 ms of one x86 core per hash (docs/security.md has
# the figures, and a Raspberry Pi's); RFC 7914's interactive-login parameters.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# Passwords longer than this are refused before hashing: scrypt's first step
# (PBKDF2) costs time in the length, and nobody types more.
MAX_PASSWORD_CHARS = 1024
MIN_PASSWORD_CHARS = 8
TOKEN_PREFIX = "roost_"


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt's cost parameters."""

    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    @property
    def maxmem(self) -> int:
        """Memory scrypt may use: 128 * n * r * p plus slack."""
        return 128 * self.n * self.r * self.p + (1 << 20)


DEFAULT_PARAMS = ScryptParams()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=HASH_BYTES,
    )


def hash_password(password: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """Return the storable hash of `password` with a fresh salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, params)
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        params = ScryptParams(int(parts[1]), int(parts[2]), int(parts[3]))
        return params, _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None


# Hashed against when the user does not exist, so an unknown name costs the same
# scrypt run as a wrong password and the reply time tells nothing.
_dummies: dict[ScryptParams, tuple[ScryptParams, bytes, bytes]] = {}


def _dummy(params: ScryptParams) -> tuple[ScryptParams, bytes, bytes]:
    if params not in _dummies:
        salt = secrets.token_bytes(SALT_BYTES)
        _dummies[params] = (params, salt, secrets.token_bytes(HASH_BYTES))
    return _dummies[params]


def verify_password(password: str, stored: str | None, params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """Return whether `password` matches `stored`.

    `None` (no such user), a broken hash or an overlong password fail after the
    same work: one scrypt with `params`, the parameters new hashes get.
    """
    parsed = _parse(stored) if stored is not None else None
    if parsed is None or len(password) > MAX_PASSWORD_CHARS:
        parsed = _dummy(params)
        stored = None
    params, salt, expected = parsed
    ok = hmac.compare_digest(_scrypt(password, salt, params), expected)
    return ok and stored is not None


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """Return whether `stored` was made with other parameters than `params`."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] != params


def check_password_rules(password: str) -> str | None:
    """Return why `password` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"a password has at most {MAX_PASSWORD_CHARS} characters"
    return None


def new_secret(nbytes: int = 32) -> str:
    """Return a random URL-safe secret of `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


def new_token() -> str:
    """Return a new API token secret (`roost_` and 43 URL-safe characters)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Return the hex SHA-256 of a high-entropy secret (token, session id, ticket)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Compare two strings in constant time (for their length)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def new_setup_code() -> str:
    """Return a one-time set-up code that is easy to type: four groups of four characters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_setup_code(code: str) -> str:
    """Return `code` upper-cased without spaces or dashes (people type it as they like)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())
