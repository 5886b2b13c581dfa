"""Application and user options: the pure rules behind ``app.option.*`` and
``user.option.*``.

The real ``rest`` module keeps each application's options as one PHP array
(and each user's, per application, as another): ``set`` merges the given map
into it, ``get`` answers the whole array or one key. Values are kept exactly as
sent, so a JSON call round-trips numbers, booleans and nested arrays, while a
form-encoded call stores strings (as PHP would).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

#: At most this many names in one application's (or one user's) options.
MAX_OPTIONS = 1_000
#: At most this many bytes of JSON for all of them together.
MAX_BYTES = 256 * 1024


class OptionsError(Exception):
    """The ``options`` given cannot be saved; ``kind`` says why."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "empty" | "too_many" | "too_large"


def given_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The name→value map a ``set`` call carries.

    Like the real method, a call without ``options`` (or with ``options: null``)
    saves its parameters themselves, so ``app.option.set?a=1`` stores ``a``.
    A list becomes a map of its positions, as a PHP array would.
    """
    options = params.get("options")
    if options is None:
        options = dict(params)
    if isinstance(options, list):
        options = {str(i): value for i, value in enumerate(options)}
    if not isinstance(options, dict) or not options:
        raise OptionsError("empty")
    if len(options) > MAX_OPTIONS:
        raise OptionsError("too_many")  # before any work proportional to the values
    return {str(name): value for name, value in options.items()}


def merged(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The options after a ``set``: new names are added, existing ones replaced,
    others kept. Refuses a result over the caps, leaving nothing half-saved."""
    result = {**stored, **given}
    if len(result) > MAX_OPTIONS:
        raise OptionsError("too_many")
    try:
        size = len(encode(result))
    except orjson.JSONEncodeError:  # e.g. an integer past 64 bits: not storable
        raise OptionsError("too_large") from None
    if size > MAX_BYTES:
        raise OptionsError("too_large")
    return result


def option_key(option: Any) -> str | None:
    """The stored name ``option`` reads, as PHP turns an array key to a name;
    None for a value no name can equal (an array or an object)."""
    if isinstance(option, bool):
        return "1" if option else "0"
    if isinstance(option, float):
        return str(int(option)) if option == option and abs(option) < 2**63 else None
    if isinstance(option, int | str):
        return str(option)
    return None


def read(stored: Mapping[str, Any], option: Any) -> Any:
    """``get``'s answer: everything without ``option``, else that one value
    (null for a name never set, or set to null)."""
    if option is None:
        return as_php_array(stored)
    key = option_key(option)
    return None if key is None else stored.get(key)


def as_php_array(options: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
    """How PHP's json_encode shows the array: ``[]`` when empty, and a list when
    its names are exactly 0, 1, 2, ... in order."""
    if all(name == str(i) for i, name in enumerate(options)):
        return list(options.values())
    return dict(options)


def encode(options: Mapping[str, Any]) -> bytes:
    return orjson.dumps(options, option=orjson.OPT_NON_STR_KEYS)


def decode(text: str | bytes | None) -> dict[str, Any]:
    if not text:
        return {}
    found = orjson.loads(text)
    return found if isinstance(found, dict) else {}
