"""One comparison of a list filter: ``column <op> value``, as ``user.get`` and
``department.get`` read their filters.

The operator is a Bitrix filter prefix without its field (``">="``, ``"%"``,
``"!@"``...; ``""`` is equality). A list value means "any of" for equality and
"none of" for its negations. Integers are compared exactly whatever their size:
one beyond what an ``Integer`` column holds matches no row, rather than reaching
a database that refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, String, and_, cast, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement as Column
from sqlalchemy.sql.elements import Grouping

from b24local.rest.errors import ErrorSpec
from b24local.rest.params import php_str
from b24local.store.idlists import any_of
from b24local.store.types import INTEGER_MAX, storable

EQUAL = ("", "=", "@")
#: Longer than any text b24local stores: a pattern this long matches nothing (and
#: SQLite refuses LIKE patterns past 50,000 bytes).
MAX_PATTERN = 4096
#: Distinct patterns one field's filter may compare with: each is a LIKE of its own.
MAX_PATTERNS = 1000
#: Terms per parenthesised group: SQLite nests a chain of ORs one level per term and
#: stops at 1,000 levels, so long chains are built as a shallow tree of groups.
GROUP = 32

TOO_MANY_PATTERNS = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    f"Too many values to match in one filter field: at most {MAX_PATTERNS}",
    "user.get, user.search, department.get: a %-style filter with more distinct patterns"
    " than a query can hold",
)
NOT_EQUAL = ("!", "!=", "!@")
ORDER = (">", ">=", "<", "<=")


def values_of(value: Any) -> list[Any]:
    """A filter value as a list: a PHP array's values, or the one value."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [value]


def _out_of_range(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not storable(value)


def _like_pattern(value: Any, wrap: bool) -> str:
    text = php_str(value)
    return f"%{text}%" if wrap else text


def compare(
    column: Column, op: str, value: Any, convert: Callable[[Any], Any] = lambda v: v
) -> ColumnElement[bool]:
    """One prefixed comparison; an unknown operator compares nothing."""
    many = [convert(v) for v in values_of(value)]
    if op in EQUAL or op in NOT_EQUAL:
        # Values no row can hold match nothing, and exclude nothing.
        kept = [v for v in many if not _out_of_range(v)]
        if many and not kept:
            return false() if op in EQUAL else column.is_not(None)
        if op in EQUAL:
            return any_of(column, kept) if len(kept) != 1 else column == kept[0]
        return not_(any_of(column, kept)) if len(kept) != 1 else column != kept[0]
    if op in ORDER:
        single = many[0] if many else None
        if single is None:
            return false()
        if _out_of_range(single):
            # Every stored value is below a value past the top, and above one past the bottom.
            below = single > INTEGER_MAX
            return column.is_not(None) if below == (op in ("<", "<=")) else false()
        if isinstance(column.type, Boolean):
            # Bitrix keeps flags as 'N' < 'Y': the order of 0 < 1.
            column, single = cast(column, Integer), int(single)
        return {
            ">": column > single,
            ">=": column >= single,
            "<": column < single,
            "<=": column <= single,
        }[op]
    if op in ("%", "=%", "%=", "!%", "!=%", "!%="):
        negated = op.startswith("!")
        patterns = _patterns(many, wrap=op in ("%", "!%"))
        if negated:
            return shallow(and_, [not_(_as_text(column).ilike(p)) for p in patterns], true())
        return shallow(or_, [_as_text(column).ilike(p) for p in patterns], false())
    return true()


def _patterns(values: list[Any], *, wrap: bool) -> list[str]:
    """Distinct LIKE patterns; one longer than any stored text matches nothing."""
    patterns = list(dict.fromkeys(_like_pattern(v, wrap) for v in values))
    if len(patterns) > MAX_PATTERNS:
        raise TOO_MANY_PATTERNS()
    return [p for p in patterns if len(p) <= MAX_PATTERN]


def shallow(join: Callable[..., Any], terms: list[Any], empty: Any) -> ColumnElement[bool]:
    """``join(*terms)`` as nested groups of :data:`GROUP`, however many terms there are."""
    if not terms:
        return empty
    while len(terms) > GROUP:
        terms = [Grouping(join(*terms[i : i + GROUP])) for i in range(0, len(terms), GROUP)]
    return join(*terms)


def _as_text(column: Column) -> ColumnElement[Any]:
    """A pattern matches a number by its digits, as MySQL's ``LIKE`` does (PostgreSQL
    would refuse to match an integer at all)."""
    return column if isinstance(column.type, String) else cast(column, String)
