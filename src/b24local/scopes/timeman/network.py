"""Office networks: the ranges ``timeman.networkrange.set`` takes, and matching
an address against them. Pure: no storage, no HTTP.

A range is a block ``first-last`` or a single address, IPv4 or IPv6 (the real
module knows only IPv4 and checks just the shape; here both ends must be real
addresses of one family, in order).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, Literal

from b24local.rest.params import php_str

Address = IPv4Address | IPv6Address

#: The real module answers this for its own loopback address, whatever the ranges.
LOCALHOST = "127.0.0.1"


#: More ranges than any office has: a bound on what a set may store and each check
#: walks (the real module has none; the request size was its only bound).
MAX_RANGES = 1_000
#: ``RANGES`` as a JSON string is decoded here, past the transport's own count of
#: JSON values: a bound on what that decoding may cost.
MAX_JSON_CHARS = 256 * 1024


class WrongFormat(ValueError):
    """``RANGES`` is not a list of range objects at all (or far too long a one)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        #: Said instead of the real wrapper's words when they would not tell why.
        self.detail = detail


@dataclass(frozen=True, slots=True)
class NetworkRange:
    #: As stored and answered: ``first-last`` or one address, spaces removed.
    ip_range: str
    name: str
    version: int
    # The ends as integers: comparing ints is many times cheaper than comparing
    # ipaddress objects, and every check walks the whole list.
    low: int
    high: int

    @property
    def first(self) -> Address:
        return ip_address(self.low) if self.version == 4 else IPv6Address(self.low)

    @property
    def last(self) -> Address:
        return ip_address(self.high) if self.version == 4 else IPv6Address(self.high)

    def contains(self, address: Address) -> bool:
        return address.version == self.version and self.low <= int(address) <= self.high


def _address(text: str) -> Address | None:
    text = text.strip()
    # Zone IDs (fe80::1%eth0) name an interface, not a network.
    if "%" in text:
        return None
    try:
        return ip_address(text)
    except ValueError:
        return None


def parse_range(text: str, name: str = "") -> NetworkRange | None:
    """A range from its text, or None when the text is malformed."""
    ends = text.split("-")
    if len(ends) > 2:
        return None
    addresses = [_address(end) for end in ends]
    first, last = addresses[0], addresses[-1]
    if first is None or last is None or first.version != last.version or first > last:
        return None
    canonical = "-".join(end.strip() for end in ends)
    return NetworkRange(canonical, name, first.version, int(first), int(last))


@dataclass(frozen=True, slots=True)
class Reading:
    """``RANGES`` read: the good ranges, and the bad ones as they were given."""

    correct: tuple[NetworkRange, ...]
    errors: tuple[dict[str, Any], ...]


def decode(value: Any) -> Any:
    """``RANGES`` as given: a string is JSON (``'[{"ip_range": ...}]'``), like the
    real wrapper decodes it; anything else is taken as it is."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_JSON_CHARS:
        raise WrongFormat(f"RANGES is longer than {MAX_JSON_CHARS} characters")
    try:
        return json.loads(value)
    except ValueError:
        raise WrongFormat from None


def _items(ranges: Any) -> Iterable[Any]:
    # Form encoding gives RANGES[0][ip_range]=... as a mapping keyed "0", "1", ...
    if not isinstance(ranges, Mapping | list):
        raise WrongFormat
    if len(ranges) > MAX_RANGES:
        raise WrongFormat(f"RANGES holds more than {MAX_RANGES} ranges")
    return ranges.values() if isinstance(ranges, Mapping) else ranges


def read_ranges(ranges: Any) -> Reading:
    """Each item an object with ``ip_range`` and ``name`` (keys in any case)."""
    correct: list[NetworkRange] = []
    errors: list[dict[str, Any]] = []
    for item in _items(ranges):
        if not isinstance(item, Mapping):
            raise WrongFormat
        given = {str(key).lower(): value for key, value in item.items()}
        text = given.get("ip_range")
        parsed = parse_range(text, php_str(given.get("name"))) if isinstance(text, str) else None
        if parsed is None:
            errors.append(given)
        else:
            correct.append(parsed)
    return Reading(tuple(correct), tuple(errors))


def find(ranges: Sequence[NetworkRange], address: Address) -> NetworkRange | None:
    """The first range holding the address."""
    version, value = address.version, int(address)
    for candidate in ranges:
        if candidate.version == version and candidate.low <= value <= candidate.high:
            return candidate
    return None


def check(ranges: Sequence[NetworkRange], ip: str) -> dict[str, str] | Literal[False]:
    """``timeman.networkrange.check``'s answer for an address (already trimmed).

    As in the real module: its loopback address is always "localhost", and with
    no ranges at all every address counts as the office network.
    """
    if ip == LOCALHOST:
        return {"ip": ip, "range": ip, "name": "localhost"}
    if not ranges:
        return {"ip": ip, "range": ip, "name": ip}
    address = _address(ip)
    found = find(ranges, address) if address is not None else None
    if found is None:
        return False
    return {"ip": ip, "range": found.ip_range, "name": found.name}
