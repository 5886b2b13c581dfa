"""Rows of the hot lookups, kept until the database says they changed.

The lookups every call makes (the portal, the caller, their presence, their
workday settings) read a few rows by key. Those rows are kept and handed out
again until the change log (:mod:`b24local.store.changes`) shows a commit to one
of them — by this process, another one, or ``b24local webhook remove`` from the
command line — which retires just the entries that read it.

Only statements marked with :func:`cached` are kept: they are built once at import
(a statement built per call would never be seen again), their rows depend on
nothing but the database and the bound parameters, and they say which rows they
read (:class:`Reads`), so a change retires them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import FrozenResult
from sqlalchemy.sql import Executable

from .changes import ChangeFeed, Tag

S = TypeVar("S", bound=Executable)

_PREBUILT: set[Executable] = set()
_CACHED: dict[Executable, tuple[Reads, ...]] = {}


@dataclass(frozen=True, slots=True)
class Reads:
    """What a cached statement reads: rows of ``table``; of the portal named by the
    bound parameter ``portal`` (None: of any portal); of the user named by the bound
    parameter ``user``, or of that user ID when it is a number (None: any user)."""

    table: str
    portal: str | None = None
    user: str | int | None = None

    def tag(self, parameters: Mapping[str, Any]) -> Tag:
        if self.portal is None:
            return (self.table,)
        portal = parameters[self.portal]
        if self.user is None:
            return (self.table, portal)
        user = self.user if isinstance(self.user, int) else parameters[self.user]
        return (self.table, portal, user)


def prebuilt(statement: S) -> S:
    """Mark a statement built once at import, whose SQL does not depend on which
    parameters a call gives (every value a bound parameter of its own). The SQLite
    store compiles it once and runs it straight on the driver
    (:class:`b24local.store.sqlite._Plan`)."""
    _PREBUILT.add(statement)
    return statement


def is_prebuilt(statement: Any) -> bool:
    return statement in _PREBUILT


def cached(statement: S, *reads: Reads) -> S:
    """Mark a prebuilt ``SELECT`` as safe to answer from the cache: its rows depend on
    nothing but the database and the bound parameters, and ``reads`` say which."""
    if not reads:
        raise ValueError("a cached statement says which rows it reads")
    _CACHED[statement] = reads
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


def tags_of(statement: Executable, parameters: Mapping[str, Any] | None) -> tuple[Tag, ...]:
    """What a change must touch to retire the rows of this cached execution."""
    return tuple(reads.tag(parameters or {}) for reads in _CACHED[statement])


class RowCache:
    """Frozen results of marked statements and the objects made from them, each
    retired when the change log shows a commit to the rows it read. Bounded: when
    full, the oldest entry goes first."""

    def __init__(self, feed: ChangeFeed, size: int = 20_000) -> None:
        self._feed = feed
        self._cache = feed.cache(size)

    def get(self, key: Hashable) -> FrozenResult | None:
        return self._cache.get(key)

    def statement_keys(self) -> list[Hashable]:
        """The keys of the statements' rows kept (not of what was made of them)."""
        return [key for key in self._cache if key[0] != "made"]  # type: ignore[index]

    def put(self, key: Hashable, rows: FrozenResult, read_at: int) -> None:
        """Keep ``rows``, read at generation ``read_at`` of the feed, unless a change
        to them has been seen since."""
        tags = tags_of(key[0], dict(key[1]))  # type: ignore[index]
        if self._feed.may_put(tags, read_at):
            self._cache.put(key, rows, tags)

    def made(self, key: Hashable) -> Any:
        """What was made of the rows of ``key`` (by one converter), or :data:`MISSING`."""
        return self._cache.get(("made", key), MISSING)

    def keep_made(self, key: Hashable, value: Any, read_at: int) -> None:
        statement_key = key[0]  # type: ignore[index]
        tags = tags_of(statement_key[0], dict(statement_key[1]))
        if self._feed.may_put(tags, read_at):
            self._cache.put(("made", key), value, tags)


#: No object was made yet.
MISSING: Any = object()
