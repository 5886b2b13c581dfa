"""Rows read under one version of the database, reused until anything is committed.

SQLite tells cheaply whether anything was committed since a number was last read,
by any connection of any process (``PRAGMA data_version``). While that number
stays the same, a ``SELECT`` gives the same rows as last time, so the rows of the
lookups every call makes (the portal, the caller, their presence, their workday
settings) can be kept and handed out again without touching the database. Any
commit — a status change here, ``b24local webhook remove`` from the command line —
changes the number and retires every entry at once.

Only statements marked with :func:`cached` are kept: they are built once at import
(a statement built per call would never be seen again), and their rows depend on
nothing but the database and the bound parameters.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

from sqlalchemy.engine import FrozenResult
from sqlalchemy.sql import Executable

S = TypeVar("S", bound=Executable)

_PREBUILT: set[Executable] = set()
_CACHED: set[Executable] = set()


def prebuilt(statement: S) -> S:
    """Mark a statement built once at import, whose SQL does not depend on which
    parameters a call gives (every value a bound parameter of its own). The SQLite
    store compiles it once and runs it straight on the driver
    (:class:`b24local.store.sqlite._Plan`)."""
    _PREBUILT.add(statement)
    return statement


def is_prebuilt(statement: Any) -> bool:
    return statement in _PREBUILT


def cached(statement: S) -> S:
    """Mark a prebuilt ``SELECT`` as safe to answer from the snapshot: its rows
    depend on nothing but the database and the bound parameters."""
    _CACHED.add(statement)
    return prebuilt(statement)


def key_of(statement: Executable, parameters: Mapping[str, Any] | None) -> Hashable | None:
    """The cache key of one execution, or None when it may not be cached (an unmarked
    statement, or a parameter that is a list)."""
    if statement not in _CACHED:
        return None
    key = (statement, tuple(parameters.items()) if parameters else ())
    try:
        hash(key)
    except TypeError:
        return None
    return key


class RowCache:
    """Frozen results of marked statements, all read under one database version,
    and the objects made from them.

    Bounded: when full, the oldest entry goes first.
    """

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._entries: dict[Hashable, FrozenResult] = {}
        self._made: dict[Hashable, Any] = {}
        self._version: int | None = None

    def at(self, version: int) -> None:
        """Start answering for ``version``: forget everything read under another."""
        if version != self._version:
            self._entries.clear()
            self._made.clear()
            self._version = version

    def get(self, key: Hashable) -> FrozenResult | None:
        return self._entries.get(key)

    def put(self, key: Hashable, rows: FrozenResult) -> None:
        _bounded_put(self._entries, key, rows, self._size)

    def made(self, key: Hashable) -> Any:
        """What was made of the rows of ``key`` (by one converter), or :data:`MISSING`."""
        return self._made.get(key, MISSING)

    def keep_made(self, key: Hashable, value: Any) -> None:
        _bounded_put(self._made, key, value, self._size)


#: No object was made yet.
MISSING: Any = object()


def _bounded_put(entries: dict[Hashable, Any], key: Hashable, value: Any, size: int) -> None:
    entries[key] = value
    if len(entries) > size:
        del entries[next(iter(entries))]
