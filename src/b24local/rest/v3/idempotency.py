"""The ``Idempotency-Key`` rules that need no database: which keys are valid, and
what makes two calls "the same body"."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson

from .errors import INVALID_IDEMPOTENCY_KEY

HEADER = "idempotency-key"
#: How long a first answer is replayed.
KEPT_FOR = timedelta(hours=24)


def valid_key(raw: str) -> str:
    """The key as given, if it is 1 to 255 printable ASCII characters."""
    if not 1 <= len(raw) <= 255 or not all(" " <= ch <= "~" for ch in raw):
        raise INVALID_IDEMPOTENCY_KEY()
    return raw


def body_hash(params: Mapping[str, Any]) -> str:
    """A digest of the parameters, key order aside (``auth`` is already taken out:
    a token renewed between the two calls does not make them differ)."""
    canonical = orjson.dumps(dict(params), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(canonical).hexdigest()
