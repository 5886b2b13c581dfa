"""Bitrix access codes: which ones a user holds, and how each is named.

A code names a set of people: ``G2`` everyone (visitors included), ``AU`` every
authorised user, ``G1`` the administrators' group, ``U<id>`` one user, ``D<id>``
the direct members of a department and ``DR<id>`` the members of a department and
of every department below it. ``user.access`` asks whether the caller holds any
of some codes and ``access.name`` names them; both are pure functions of the user,
the department tree and the people the codes name, so they are tested alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from b24local.entities import User
from b24local.store.departments import Department, ancestry
from b24local.store.types import INTEGER_MAX, storable

EVERYONE = "G2"
AUTHORIZED = "AU"
ADMINS = "G1"
#: The name Bitrix gives its built-in administrators' group.
ADMINS_NAME = "Administrators"

# The shapes the real providers accept (``^U[0-9]+$`` and so on).
_NUMBERED = re.compile(r"(G|U|D|DR)([0-9]+)")


def user_codes(user: User, tree: Mapping[int, Department]) -> frozenset[str]:
    """Every code the user holds: ``DR`` for each department they are in and every
    department above it, as a member of a sub-department is one of the parent's."""
    codes = {EVERYONE, AUTHORIZED, f"U{user.id}"}
    if user.is_admin:
        codes.add(ADMINS)
    for department_id in user.departments:
        codes.add(f"D{department_id}")
        codes.update(f"DR{department.id}" for department in ancestry(dict(tree), department_id))
    return frozenset(codes)


def holds_any(held: frozenset[str], requested: Iterable[str]) -> bool:
    """Codes are compared as written (``U01`` is not ``U1``), as the real check does."""
    return any(code in held for code in requested)


def requested(value: Any) -> list[str]:
    """The ``ACCESS`` parameter as a list of codes: one code alone is a list of one;
    anything that is not a string names nobody and is dropped."""
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    return [item for item in items if isinstance(item, str)]


@dataclass(frozen=True, slots=True)
class Numbered:
    prefix: str
    id: int


def parse(code: str) -> Numbered | None:
    """``U12`` → (U, 12); ``AU``, ``G2`` and anything unknown → None."""
    match = _NUMBERED.fullmatch(code)
    if match is None:
        return None
    # An ID no row can hold names nobody; counting digits first keeps int() from
    # a client's ten-thousand-digit number (Python refuses past 4,300 digits).
    digits = match[2].lstrip("0") or "0"
    if len(digits) > len(str(INTEGER_MAX)) or not storable(int(digits)):
        return None
    return Numbered(match[1], int(digits))


def user_ids(codes: Iterable[str]) -> set[int]:
    """The users the ``U`` codes name, to be looked up before :func:`names`."""
    return {p.id for p in map(parse, codes) if p is not None and p.prefix == "U"}


def _entry(provider: str, name: str, provider_id: str) -> dict[str, str]:
    return {"provider": provider, "name": name, "provider_id": provider_id}


def names(
    codes: Iterable[str], users: Mapping[int, User], tree: Mapping[int, Department]
) -> dict[str, dict[str, str]]:
    """``access.name``: an entry per code that names something, keyed by the code's
    canonical form (``U01`` is answered as ``U1``); the rest are left out."""
    found: dict[str, dict[str, str]] = {}
    for code in codes:
        if code == EVERYONE:
            found[code] = _entry("", "All visitors", "other")
        elif code == AUTHORIZED:
            found[code] = _entry("", "All authorized users", "other")
        elif (p := parse(code)) is None:
            continue
        elif p.prefix == "G" and p.id == 1:
            found["G1"] = _entry("User groups", ADMINS_NAME, "group")
        elif p.prefix == "U" and p.id in users:
            found[f"U{p.id}"] = _entry("Users", users[p.id].full_name, "user")
        elif p.prefix in ("D", "DR") and p.id in tree:
            department = tree[p.id]
            label = department.name
            if p.prefix == "DR":
                label += " (with subdepartments)"
            found[f"{p.prefix}{p.id}"] = _entry("Departments", label, "intranet")
    return found
