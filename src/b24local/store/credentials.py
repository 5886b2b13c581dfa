"""Secrets are stored as hashes and compared in constant time."""

from __future__ import annotations

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
