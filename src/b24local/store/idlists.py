"""Long lists of IDs in ``IN (...)``.

Every bound value is one statement parameter, and PostgreSQL takes at most 32,767
of them per statement (SQLite 32,766 by default). Lookups by ID therefore run in
chunks; a filter, which has to stay one condition, writes a long list of integers
into the statement instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam

#: IDs per statement: well below both limits.
CHUNK = 5_000

T = TypeVar("T")


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def any_of(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; more than :data:`CHUNK` integers are rendered inline
    (integers are safe to write into SQL, and need no parameters there)."""
    if len(values) > CHUNK and all(type(v) is int for v in values):
        inline = bindparam(None, list(values), type_=column.type, expanding=True,
                           literal_execute=True)  # fmt: skip
        return column.in_(inline)
    return column.in_(values)


async def per_user(
    conn: Any,
    portal_id: int,
    user_ids: Sequence[int],
    *,
    one: Any,
    some: Any,
    convert: Callable[[Any], dict[int, T]],
) -> dict[int, T]:
    """Rows keyed by user, looked up in chunks: ``one`` (``portal_id``, ``user_id``)
    for a single user, whose result the snapshot may keep; ``some`` (``portal_id``,
    ``user_ids``) for several. ``convert`` turns a result into ``{user_id: ...}``."""
    found: dict[int, T] = {}
    for index, chunk in enumerate(chunks(user_ids)):
        if index:
            # A read may run on the event loop (SQLite's do): let other calls in
            # between the chunks of a long list.
            await asyncio.sleep(0)
        if len(chunk) == 1:
            single = {"portal_id": portal_id, "user_id": chunk[0]}
            found.update(await conn.make(one, single, convert))
        else:
            several = {"portal_id": portal_id, "user_ids": chunk}
            found.update(convert(await conn.execute(some, several)))
    return found
