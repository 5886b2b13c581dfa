"""A REST 3.0 :class:`~b24local.rest.v3.query.Query` as SQL over one table: its
filter as a WHERE clause, its order as ORDER BY (the primary key last, so pages
never overlap), its pagination as LIMIT/OFFSET. Dialect-neutral Core only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, false, or_, select, true

from b24local.rest.v3.query import Condition, Group, Query

from .types import INTEGER_MAX, INTEGER_MIN, storable


def _clamped(value: Any) -> Any:
    # Past what an Integer column holds, PostgreSQL refuses even to compare.
    if isinstance(value, int) and not isinstance(value, bool):
        return min(max(value, INTEGER_MIN), INTEGER_MAX)
    return value


def _condition(table: Table, term: Condition) -> ColumnElement[bool]:
    column = table.c[term.field.column]
    op, value = term.operator, term.value
    if op == "in":
        kept = [v for v in value if not isinstance(v, int) or isinstance(v, bool) or storable(v)]
        return column.in_(kept) if kept else false()
    if op == "between":
        return column.between(_clamped(value[0]), _clamped(value[1]))
    unstorable = isinstance(value, int) and not isinstance(value, bool) and not storable(value)
    if op in ("=", "!=") and unstorable:
        return false() if op == "=" else true()
    value = _clamped(value)
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "<":
        return column < value
    return column <= value


def where_of(table: Table, terms: tuple[Condition | Group, ...]) -> ColumnElement[bool]:
    parts = [_condition(table, t) if isinstance(t, Condition) else _group(table, t) for t in terms]
    return and_(true(), *parts)


def _group(table: Table, group: Group) -> ColumnElement[bool]:
    parts = [
        _condition(table, t) if isinstance(t, Condition) else _group(table, t) for t in group.terms
    ]
    if group.any:
        return or_(false(), *parts)
    return and_(true(), *parts)


def _ordering(table: Table, query: Query, key: str) -> list[ColumnElement]:
    ordering = [
        table.c[f.column].desc() if descending else table.c[f.column].asc()
        for f, descending in query.order
    ]
    if key not in {f.column for f, _ in query.order}:
        # The key breaks ties in the last field's direction, so that one index
        # on (..., field, key) serves the whole order, read forwards or back.
        last_descending = query.order[-1][1] if query.order else False
        ordering.append(table.c[key].desc() if last_descending else table.c[key].asc())
    return ordering


def apply(table: Table, scope: ColumnElement[bool], query: Query, *, key: str = "id") -> Select:
    """The rows of ``table`` within ``scope`` (the caller's own conditions, such as
    the owner) filtered, ordered and cut to the query's page.

    The page is found first as keys alone, then its rows are read by key: a deep
    page (``OFFSET 9950``) walks an index, not thousands of whole rows."""
    ordering = _ordering(table, query, key)
    keys = (
        select(table.c[key])
        .where(scope, where_of(table, query.where))
        .order_by(*ordering)
        .limit(query.limit)
        .offset(query.offset)
    )
    return select(table).where(table.c[key].in_(keys.scalar_subquery())).order_by(*ordering)
