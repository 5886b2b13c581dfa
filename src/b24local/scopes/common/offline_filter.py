"""The ``filter`` and ``order`` of ``event.offline.get`` and ``event.offline.list``, read
as the real module's ``sanitizeFilter`` and ``sanitizeOrder`` read them: keys in any
case, a few operations, a few fields, and a refusal for anything else."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, false, func
from sqlalchemy.sql.elements import UnaryExpression

from b24local.rest.errors import ErrorSpec
from b24local.rest.params import php_int, php_str
from b24local.scopes.filtering import compare, values_of
from b24local.store.tables import offline_events as table

FILTER_NOT_ARRAY = ErrorSpec(
    "ERROR_ARGUMENT", 400, "The filter is not an array.", "event.offline.*: filter not a map"
)
FILTER_OPERATION = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Filter operation not allowed: …",
    "event.offline.get/list: a filter operation other than =, >, <, >=, <=, @, %",
)
FILTER_FIELD = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Filter field not allowed: …",
    "event.offline.get/list: a filter field the method does not filter by",
)
FILTER_VALUE_TYPE = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "The value of an argument '…' has an invalid type",
    "event.offline.get: a filter value given as an array",
)
ORDER_NOT_ARRAY = ErrorSpec(
    "ERROR_ARGUMENT", 400, "The order is not an array.", "event.offline.*: order not a map"
)
ORDER_FIELD = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Order field not allowed: …",
    "event.offline.get/list: an order field the method does not sort by",
)
ORDER_DIRECTION = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Order direction should be one of {ASC|DESC}",
    "event.offline.get/list: an order direction other than ASC or DESC",
)
ERRORS = (
    FILTER_NOT_ARRAY,
    FILTER_OPERATION,
    FILTER_FIELD,
    FILTER_VALUE_TYPE,
    ORDER_NOT_ARRAY,
    ORDER_FIELD,
    ORDER_DIRECTION,
)

#: The real ``sanitizeFilter``'s default operations.
OPERATIONS = ("", "=", ">", "<", ">=", "<=", "@", "%")
#: What ``event.offline.get`` filters and sorts by; ``event.offline.list`` adds two.
GET_FIELDS = ("ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID")
LIST_FIELDS = (*GET_FIELDS, "PROCESS_ID", "ERROR")
_KEY = re.compile(r"([^a-zA-Z]*)(.*)", re.DOTALL)
_SPACE = r"[ \t\n\r\v\f]*"
_NUMERIC = re.compile(rf"{_SPACE}[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?{_SPACE}")

Convert = Callable[[Any], Any]


def _moment(zone: tzinfo) -> Convert:
    def convert(value: Any) -> datetime | None:
        try:
            moment = datetime.fromisoformat(php_str(value).strip())
            return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
        except (ValueError, OverflowError):
            return None

    return convert


def _columns(zone: tzinfo) -> dict[str, tuple[Any, Convert]]:
    return {
        "ID": (table.c.id, php_int),
        "TIMESTAMP_X": (table.c.created_at, _moment(zone)),
        # Names are kept in upper case; the real (MySQL) comparison ignores case.
        "EVENT_NAME": (table.c.event, lambda v: php_str(v).upper()),
        "MESSAGE_ID": (table.c.message_id, php_str),
        "PROCESS_ID": (func.coalesce(table.c.process_id, ""), php_str),
        "ERROR": (cast(table.c.error, Integer), php_int),
    }


def _php_array(value: Any) -> dict[str, Any] | None:
    """A map or list as PHP's array with string keys; None for anything else."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return None


def conditions(
    given: Any, fields: Sequence[str], zone: tzinfo, *, scalars_only: bool = False
) -> list[ColumnElement[bool]]:
    """The filter as SQL conditions; ``scalars_only`` refuses array values, as the
    real ``event.offline.get`` does when it reserves rows."""
    filter_ = _php_array(given)
    if filter_ is None:
        raise FILTER_NOT_ARRAY()
    columns = _columns(zone)
    upper = {key.upper(): value for key, value in filter_.items()}
    found: list[ColumnElement[bool]] = []
    for key, value in upper.items():
        match = _KEY.match(key)
        assert match is not None  # the pattern matches any text
        op, name = match.groups()
        if op not in OPERATIONS:
            raise FILTER_OPERATION(f"Filter operation not allowed: {op}")
        if name not in fields:
            raise FILTER_FIELD(f"Filter field not allowed: {name}")
        if scalars_only and isinstance(value, list | dict):
            raise FILTER_VALUE_TYPE(f"The value of an argument '{key}' has an invalid type")
        column, convert = columns[name]
        converted = [convert(v) for v in values_of(value)]
        if any(v is None for v in converted):
            found.append(false())  # a time that is not one matches nothing
            continue
        found.append(compare(column, op, converted))
    return found


def order_by(given: Any, fields: Sequence[str]) -> list[UnaryExpression[Any]]:
    """The order as SQL, ties broken by ID so pages do not overlap."""
    order = _php_array(given)
    if order is None:
        raise ORDER_NOT_ARRAY()
    columns = {name: column for name, (column, _c) in _columns(UTC).items()}
    found: list[UnaryExpression[Any]] = []
    for key, value in {k.upper(): v for k, v in order.items()}.items():
        if _numeric(key):
            name = php_str(value)
            if name not in fields:
                raise ORDER_FIELD(f"Order field not allowed: {name}")
            found.append(columns[name].asc())
            continue
        if key not in fields:
            raise ORDER_FIELD(f"Order field not allowed: {key}")
        direction = php_str(value).upper()
        if direction not in ("ASC", "DESC"):
            raise ORDER_DIRECTION()
        found.append(columns[key].desc() if direction == "DESC" else columns[key].asc())
    return [*found, table.c.id.asc()]


def _numeric(key: str) -> bool:
    """PHP's ``is_numeric`` for an array key."""
    return _NUMERIC.fullmatch(key) is not None
