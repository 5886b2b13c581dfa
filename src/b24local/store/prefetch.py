"""Rows fetched for many lookups at once, kept as each lookup's own.

A ``batch`` of reads runs its commands one after another, and each command's
lookups not yet in the row cache are round trips of their own: fifty
``im.user.get`` of people not looked up lately make a hundred. A method may say
how to fetch the rows of all its commands in one statement per table
(``MethodSpec.prefetch``): the rows are split as each command's one-row lookup
would have found them and put in the row cache (:mod:`b24local.store.snapshot`),
where the commands then find them, exactly as the database would have answered.
Lookups already cached are not fetched again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import FrozenResult, Result

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


def missing(conn: Any, one: Any, portal_id: int, ids: Iterable[int]) -> list[int]:
    """Which of ``ids`` the one-ID statement ``one`` has no rows cached for."""
    rows = conn.row_cache
    if rows is None:
        return list(ids)
    return [
        user_id
        for user_id in ids
        if rows.get(key(one, {"portal_id": portal_id, "user_id": user_id})) is None
    ]


def keep(conn: Any, rows: Mapping[Key, FrozenResult]) -> None:
    """Put prefetched rows in the session's row cache, as read at its generation."""
    cache = conn.row_cache
    if cache is None:
        return
    for found_key, found in rows.items():
        cache.put(found_key, found, conn.generation)
