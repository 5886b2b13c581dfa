"""A REST 3.0 :class:`~b24local.rest.v3.query.Query` as SQL over one table: its
filter as a WHERE clause, its order as ORDER BY (the primary key last, so pages
never overlap), its pagination as LIMIT/OFFSET. Dialect-neutral Core only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, false, or_, true

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


def apply(statement: Select, table: Table, query: Query, *, key: str = "id") -> Select:
    """``statement`` filtered, ordered and cut to the query's page."""
    statement = statement.where(where_of(table, query.where))
    ordering = [
        table.c[f.column].desc() if descending else table.c[f.column].asc()
        for f, descending in query.order
    ]
    if key not in {f.column for f, _ in query.order}:
        ordering.append(table.c[key].asc())
    return statement.order_by(*ordering).limit(query.limit).offset(query.offset)
