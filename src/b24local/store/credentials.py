"""Secrets are stored as hashes and compared in constant time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def new_code(length: int = 16) -> str:
    """A webhook code shaped like the real service's: lowercase letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_token() -> str:
    return secrets.token_hex(32)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret; enough since such secrets cannot be guessed."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def scopes_from(text: str) -> frozenset[str]:
    """Scopes as stored: a comma-separated list."""
    return frozenset(s for s in text.split(",") if s)


def scopes_text(scopes) -> str:
    return ",".join(sorted(set(scopes)))


# Passwords are low-entropy, so they get a slow, salted, memory-hard hash (scrypt,
# in the standard library). The parameters travel with the hash, so they can grow.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_DUMMY_SALT = secrets.token_bytes(16)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    params = f"{_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}"
    return f"scrypt${params}${salt.hex()}${key.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    parsed = _parsed(stored)
    if parsed is None:
        # Nothing to check against (an unknown login, a user without a password):
        # do the same work anyway, so the answer's timing does not tell which.
        hashlib.scrypt(password.encode("utf-8"), salt=_DUMMY_SALT, **_SCRYPT)
        return False
    salt, n, r, p, key = parsed
    try:
        computed = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p)
    except ValueError:  # parameters scrypt refuses
        return False
    return hmac.compare_digest(computed.hex(), key)


def _parsed(stored: str | None) -> tuple[bytes, int, int, int, str] | None:
    try:
        scheme, n, r, p, salt, key = (stored or "").split("$")
        if scheme != "scrypt":
            return None
        return bytes.fromhex(salt), int(n), int(r), int(p), key
    except ValueError:
        return None


async def verify_password(password: str, stored: str | None) -> bool:
    """:func:`check_password` in a worker thread: scrypt takes tens of milliseconds,
    which would stall every other request on the event loop."""
    return await asyncio.to_thread(check_password, password, stored)
