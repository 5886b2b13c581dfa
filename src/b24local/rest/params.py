"""Method parameters, read the way PHP reads them.

Form-encoded values arrive as strings and JSON values with their own types; the
real service coerces both with PHP's rules (``intval("12abc") == 12``,
``intval("abc") == 0``). Handlers read parameters through :class:`Params` so
that every method coerces the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# PHP's notion of leading whitespace and digits is ASCII only.
_LEADING_NUMBER = re.compile(r"[ \t\n\r\v\f]*([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
INT_MAX = 2**63 - 1
INT_MIN = -(2**63)


def _wrap(value: int) -> int:
    """A float beyond 64 bits wraps around when PHP casts it, as on 64-bit builds."""
    value %= 2**64
    return value - 2**64 if value > INT_MAX else value


def saturated(text: str) -> int:
    """An integer string (``[+-]?[0-9]+``) as PHP reads it: past 64 bits it saturates
    instead of wrapping. Read without ``int()`` past 19 digits, which Python refuses
    beyond 4,300 and which would cost time long before."""
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 19:
        return INT_MIN if negative else INT_MAX
    value = -int(digits or "0") if negative else int(digits or "0")
    return min(max(value, INT_MIN), INT_MAX)


def php_int(value: Any) -> int:
    """PHP's ``intval``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        # A JSON integer past PHP's range reaches PHP as a float (json_decode).
        return value if INT_MIN <= value <= INT_MAX else php_int(float(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return 0
        return _wrap(int(value))
    if isinstance(value, str):
        if value.isdigit() and value.isascii() and len(value) < 19:
            return int(value)  # the common case, an ID: plain digits in range
        match = _LEADING_NUMBER.match(value)
        if match is None:
            return 0
        text = match.group(1)
        if _INTEGER.fullmatch(text):
            return saturated(text)
        return php_int(float(text))
    if isinstance(value, list | dict):
        return 1 if value else 0
    return 0


def php_truthy(value: Any) -> bool:
    """PHP's truthiness, except for strings: besides ``""`` and ``"0"`` (PHP's only
    false strings), a blank one and, in any case, ``"N"`` (Bitrix's flags),
    ``"false"``, ``"no"`` and ``"off"`` are false. A form or query string can send
    ``false`` only as text, and the reference lists it as a false value."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        return lowered not in ("", "0", "n", "false", "no", "off")
    return bool(value)


def php_empty(value: Any) -> bool:
    """PHP's ``empty()``: unlike :func:`php_truthy`, ``"N"`` or ``"false"`` are not empty."""
    if isinstance(value, str):
        return value in ("", "0")
    return not value


def php_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return "Array"
    return str(value)


class Params(Mapping[str, Any]):
    """Read-only parameters of one call, with PHP coercions."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def upper(self) -> Params:
        """PHP's ``array_change_key_case($p, CASE_UPPER)``: later keys win."""
        return Params({str(k).upper(): v for k, v in self._data.items()})

    def has(self, key: str) -> bool:
        return key in self._data

    def int(self, key: str, default: int = 0) -> int:
        return php_int(self._data[key]) if key in self._data else default

    def str(self, key: str, default: str = "") -> str:
        return php_str(self._data[key]) if key in self._data else default

    def flag(self, key: str, default: bool = False) -> bool:
        return php_truthy(self._data[key]) if key in self._data else default

    def raw(self) -> dict[str, Any]:
        return dict(self._data)
