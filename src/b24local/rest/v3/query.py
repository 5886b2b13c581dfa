"""``filter``, ``select``, ``order`` and ``pagination`` as REST 3.0 reads them: pure
functions from a parameter (of any type: it came from a client) and an entity to
a :class:`Query`, or a REST 3.0 error. The store turns a Query into SQL."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

import orjson

from .errors import (
    INVALID_FILTER,
    INVALID_ORDER,
    INVALID_PAGINATION,
    INVALID_SELECT,
    UNKNOWN_OPERATOR,
    UNKNOWN_PROPERTY,
    VALIDATION,
    V3Error,
)
from .schema import COMPARISONS, Entity, Field

DEFAULT_LIMIT = 50
#: The largest page b24local hands out (see docs/compat.md).
MAX_LIMIT = 1000
#: Values one ``in`` may carry.
MAX_IN = 1000
#: How deep ``logic`` groups may nest.
MAX_DEPTH = 8
#: Conditions one filter may hold, and values all its conditions together: each
#: becomes SQL, and the databases refuse expressions and parameter lists past a
#: size (SQLite: a depth of 1,000, 32,766 parameters).
MAX_CONDITIONS = 100
MAX_VALUES = 2000


@dataclass(frozen=True, slots=True)
class Condition:
    field: Field
    operator: str
    #: One value, a tuple for ``in``, a pair for ``between``.
    value: Any


@dataclass(frozen=True, slots=True)
class Group:
    """Conditions joined by OR (``{"logic": "or"}``) or AND."""

    any: bool
    terms: tuple[Condition | Group, ...]


@dataclass(frozen=True, slots=True)
class Query:
    #: Top-level terms, joined by AND.
    where: tuple[Condition | Group, ...]
    select: tuple[str, ...]
    order: tuple[tuple[Field, bool], ...]  # (field, descending)
    limit: int
    offset: int


def _unknown(name: str, entity: Entity) -> V3Error:
    return UNKNOWN_PROPERTY(f"Unknown field `{name}` for {entity.noun} `{entity.name}`")  # type: ignore[return-value]


def _show(value: Any) -> str:
    """A client's value in an error message, as JSON (the way the client wrote it)."""
    if isinstance(value, str):
        return value[:100]
    try:
        return orjson.dumps(value).decode()[:100]
    except (TypeError, orjson.JSONEncodeError):
        return str(type(value).__name__)


# --- select ----------------------------------------------------------------------------


def parse_select(raw: Any, entity: Entity) -> tuple[str, ...]:
    """The fields to answer with, in the entity's order; all of them by default."""
    if raw is None:
        return tuple(f.name for f in entity.fields)
    if not isinstance(raw, list):
        raise INVALID_SELECT(f"Unable to recognize select expression `{_show(raw)}`")
    wanted: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            raise INVALID_SELECT(f"Unable to recognize select expression `{_show(item)}`")
        if item in entity.by_name:
            wanted.add(item)
        elif "." in item or not entity.lenient_select:
            # A related object's field: this entity has no relations to follow.
            raise _unknown(item.split(".", 1)[0] if "." in item else item, entity)
    return tuple(f.name for f in entity.fields if f.name in wanted)


# --- filter ----------------------------------------------------------------------------


def parse_filter(raw: Any, entity: Entity, zone: tzinfo = UTC) -> tuple[Condition | Group, ...]:
    """The top-level terms; a missing filter filters nothing."""
    if raw is None:
        return ()
    if isinstance(raw, dict) and "logic" not in raw:
        # A JSON object with numeric keys is the same list as PHP reads it.
        raw = list(raw.values())
    elif isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise VALIDATION.invalid("filter", "Field `filter` must be an array")
    terms = tuple(_term(item, entity, zone, 0) for item in raw)
    conditions = list(_conditions(terms))
    values = sum(len(c.value) if c.operator == "in" else 1 for c in conditions)
    if len(conditions) > MAX_CONDITIONS or values > MAX_VALUES:
        raise INVALID_FILTER(
            f"A filter may hold at most {MAX_CONDITIONS} conditions and {MAX_VALUES} values"
        )
    return terms


def _conditions(terms: Iterable[Condition | Group]) -> Iterable[Condition]:
    for term in terms:
        if isinstance(term, Group):
            yield from _conditions(term.terms)
        else:
            yield term


def _term(raw: Any, entity: Entity, zone: tzinfo, depth: int) -> Condition | Group:
    if isinstance(raw, dict):
        if depth >= MAX_DEPTH:
            raise INVALID_FILTER("Filter groups are nested too deeply")
        logic = raw.get("logic", "and")
        conditions = raw.get("conditions")
        if not isinstance(logic, str) or logic.lower() not in ("and", "or"):
            raise INVALID_FILTER(f"Unknown filter logic `{_show(logic)}`")
        if not isinstance(conditions, list):
            raise INVALID_FILTER("A filter group needs a `conditions` array")
        terms = tuple(_term(item, entity, zone, depth + 1) for item in conditions)
        return Group(logic.lower() == "or", terms)
    if not isinstance(raw, list) or len(raw) not in (2, 3) or not isinstance(raw[0], str):
        raise INVALID_FILTER(f"Unable to recognize filter condition `{_show(raw)}`")
    if len(raw) == 2:
        name, value = raw
        operator = "in" if isinstance(value, list) else "="
    else:
        name, operator, value = raw
        if not isinstance(operator, str) or operator.lower() not in COMPARISONS:
            raise UNKNOWN_OPERATOR(f"Unknown filter operator `{_show(operator)}`")
        operator = operator.lower()
    field = entity.by_name.get(name)
    if field is None:
        raise _unknown(name, entity)
    if operator not in field.operators:
        raise INVALID_FILTER(f"Operator `{operator}` is not available for field `{name}`")
    return Condition(field, operator, _operand(field, operator, value, zone))


def _operand(field: Field, operator: str, value: Any, zone: tzinfo) -> Any:
    if operator == "in":
        if not isinstance(value, list) or not value or len(value) > MAX_IN:
            raise _wrong_type(field)
        return tuple(dict.fromkeys(_value(field, item, zone) for item in value))
    if operator == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _wrong_type(field)
        return (_value(field, value[0], zone), _value(field, value[1], zone))
    return _value(field, value, zone)


def _wrong_type(field: Field) -> V3Error:
    return VALIDATION.invalid(
        f"filter.{field.name}", f"Value of field `{field.name}` does not fit its type"
    )


#: An integer as text: ASCII digits only ("²" and "--5" are digits to str.isdigit).
_INTEGER = re.compile(r"-?[0-9]{1,19}")
#: Integers a column holds on every dialect.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _value(field: Field, value: Any, zone: tzinfo) -> Any:
    kind = field.kind
    if kind == "int":
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            value = int(value.strip())
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not _INT_MIN <= value <= _INT_MAX
        ):
            raise _wrong_type(field)
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("Y", "N", "true", "false", 0, 1):
            return value in ("Y", "true", 1)
        raise _wrong_type(field)
    if kind == "datetime":
        moment = read_datetime(value, zone)
        if moment is None:
            raise _wrong_type(field)
        return moment
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _wrong_type(field)
    return str(value)


def read_datetime(value: Any, zone: tzinfo) -> datetime | None:
    """An ISO date or date-time (``2025-01-01``, ``2025-01-01T10:00:00+02:00``) as an
    aware moment; a date, or a time without an offset, is on ``zone``'s clock."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time())
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    # Compared in UTC: keep clear of the years an offset could push out of range.
    return moment if 1 < moment.year < 9999 else None


# --- order and pagination -------------------------------------------------------------------


def parse_order(raw: Any, entity: Entity) -> tuple[tuple[Field, bool], ...]:
    if raw is None or raw == []:
        return ()
    if not isinstance(raw, dict):
        raise INVALID_ORDER(f"Unable to recognize order expression `{_show(raw)}`")
    order = []
    for name, direction in raw.items():
        field = entity.by_name.get(name)
        if field is None:
            raise _unknown(name, entity)
        if not field.sortable:
            raise INVALID_ORDER(f"Field `{name}` is not available for sorting")
        if not isinstance(direction, str) or direction.upper() not in ("ASC", "DESC"):
            raise INVALID_ORDER(f"Unable to recognize order expression `{_show(direction)}`")
        order.append((field, direction.upper() == "DESC"))
    return tuple(order)


def _count(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _INT_MAX:
        raise INVALID_PAGINATION(f"Unable to recognize pagination parameter `{name}`")
    return value


def parse_pagination(raw: Any) -> tuple[int, int]:
    """(limit, offset): ``page`` and ``limit`` give the offset when both are there."""
    if raw is None or raw == []:
        return DEFAULT_LIMIT, 0
    if not isinstance(raw, dict):
        raise INVALID_PAGINATION(f"Unable to recognize pagination parameter `{_show(raw)}`")
    limit, page, offset = _count(raw, "limit"), _count(raw, "page"), _count(raw, "offset")
    if limit == 0:
        raise INVALID_PAGINATION("Unable to recognize pagination parameter `limit`")
    size = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    # Page 0 is the first page: the JS SDK's callList starts its walk from it.
    if page:
        return size, min((page - 1) * size, _INT_MAX)
    return size, offset or 0


def parse_query(params: Mapping[str, Any], entity: Entity, zone: tzinfo = UTC) -> Query:
    limit, offset = parse_pagination(params.get("pagination"))
    return Query(
        where=parse_filter(params.get("filter"), entity, zone),
        select=parse_select(params.get("select"), entity),
        order=parse_order(params.get("order"), entity),
        limit=limit,
        offset=offset,
    )
