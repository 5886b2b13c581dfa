"""Long lists of IDs in ``IN (...)``.

Every bound value is one statement parameter, and PostgreSQL takes at most 32,767
of them per statement (SQLite 32,766 by default). Lookups by ID therefore run in
chunks; a filter, which has to stay one condition, writes a long list of integers
into the statement instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam

#: IDs per statement: well below both limits.
CHUNK = 5_000


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
