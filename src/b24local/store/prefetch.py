"""Rows fetched for many lookups at once, answered to each lookup as its own.

A ``batch`` of reads runs its commands one after another, and each command's
lookups are round trips of their own: fifty ``im.user.get`` make a hundred. Where
the store keeps no rows between calls (PostgreSQL, until it has a row cache), a
method may say how to fetch the rows of all its commands in one statement per
table (``MethodSpec.prefetch``); :class:`Prefetched` then answers each command's
own lookup (``session.make`` of the one-row statement) from those rows, exactly as
the database would have, and sends anything else to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy.engine import FrozenResult, Result

T = TypeVar("T")
Key = tuple[Any, tuple[tuple[str, Any], ...]]


def key(statement: Any, parameters: Mapping[str, Any]) -> Key:
    """How a lookup is known: its statement and its parameters, in their order."""
    return statement, tuple(parameters.items())


def split_by(
    result: Result, column: str, one: Any, portal_id: int, ids: Iterable[int]
) -> dict[Key, FrozenResult]:
    """The rows of a many-ID ``result`` as the one-ID statement ``one`` (bound to
    ``portal_id`` and ``user_id``) would return them for each of ``ids``; an ID
    without rows gets none, as it would."""
    frozen = result.freeze()
    index = list(result.keys()).index(column)
    rows: dict[int, list[Any]] = {user_id: [] for user_id in ids}
    for row in frozen.data:
        if row[index] in rows:
            rows[row[index]].append(row)
    return {
        key(one, {"portal_id": portal_id, "user_id": user_id}): frozen.with_new_rows(found)
        for user_id, found in rows.items()
    }


class Prefetched:
    """A session answering some lookups from rows fetched beforehand."""

    __slots__ = ("_rows", "_session")

    def __init__(self, session: Any, rows: dict[Hashable, FrozenResult]) -> None:
        self._session = session
        self._rows = rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def make(self, statement: Any, parameters: Any, convert: Callable[[Result], T]) -> T:
        found = self._rows.get(key(statement, parameters)) if parameters else None
        if found is not None:
            return convert(found())  # type: ignore[arg-type]
        return await self._session.make(statement, parameters, convert)
