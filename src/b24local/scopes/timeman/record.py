"""``timeman.record.list/field.list/field.get``: workday records on REST 3.0 only.

Thin adapters: the query grammar is :mod:`b24local.rest.v3.query`'s, the SQL the
store's, who may read whose records :mod:`.access`'s, and the worked and break
time the workday rules'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24local.rest.call import Call
from b24local.rest.envelope import atom
from b24local.rest.registry import MethodGroup
from b24local.rest.v3 import errors as v3
from b24local.rest.v3.query import Condition, Group, Query, parse_query, parse_select
from b24local.rest.v3.schema import Entity, Field, V3Spec
from b24local.store import users as user_store
from b24local.store import workdays

from . import access
from .workday import break_length, duration, status

methods = MethodGroup("timeman")
methods.errors = v3.V3_ERRORS

_PAGES = "timeman/record/"
_SINCE = frozenset({"=", ">", ">=", "<", "<=", "between"})

#: The record as timeman.record.field.list describes it, in its order.
RECORD = Entity(
    "RecordDto",
    (
        Field("id", "int", "int", "id", sortable=True),
        Field("userId", "int", "int", "user_id", frozenset({"=", "in"}), sortable=True),
        Field("startTime", "datetime", "object", "started_at", _SINCE, sortable=True),
        Field("endTime", "datetime", "object", "finished_at", sortable=True),
        Field("duration", "int", "int", "duration", sortable=True),
        Field("breakLength", "int", "int", "break_length"),
        Field("state", "string", "object"),
        Field("isApproved", "bool", "bool"),
    ),
)

#: A field's description as the ``*.field.*`` methods answer it.
FIELD_DTO = Entity(
    "DtoFieldDto",
    tuple(
        Field(name, "string", "string")
        for name in (
            "name",
            "type",
            "title",
            "description",
            "validationRules",
            "requiredGroups",
            "filterable",
            "sortable",
            "editable",
            "multiple",
            "elementType",
        )
    ),
    lenient_select=False,
    noun="object",
)
#: What the pages' examples show when no select is given.
_FIELD_DEFAULT = ("name", "type", "title", "filterable", "sortable")


def describe(field: Field, select: tuple[str, ...]) -> dict[str, Any]:
    known: dict[str, Any] = {
        "name": field.name,
        "type": field.shown_type,
        "title": field.name,
        "description": None,
        "validationRules": [],
        "requiredGroups": [],
        "filterable": field.filterable,
        "sortable": field.sortable,
        "editable": False,
        "multiple": False,
        "elementType": None,
    }
    return {name: known[name] for name in select}


def _field_select(params: Mapping[str, Any]) -> tuple[str, ...]:
    if params.get("select") is None:
        return _FIELD_DEFAULT
    return parse_select(params["select"], FIELD_DTO)


def _target_user(query: Query) -> int:
    """The one employee the filter names (required, and only one)."""
    named: set[int] = set()
    for term in query.where:
        if isinstance(term, Condition) and term.field.name == "userId":
            named.update(term.value if term.operator == "in" else (term.value,))
        elif isinstance(term, Group) and _mentions_user(term):
            raise v3.INVALID_FILTER("Pass `userId` as a condition of its own, outside groups")
    if not named:
        raise v3.VALIDATION.invalid(
            "filter.userId", "Required field `filter.userId` is not specified"
        )
    if len(named) > 1:
        raise v3.INVALID_FILTER("Multiple different `userId` values were provided in one request")
    return named.pop()


def _mentions_user(group: Group) -> bool:
    return any(
        _mentions_user(t) if isinstance(t, Group) else t.field.name == "userId" for t in group.terms
    )


def record_item(day: workdays.StoredDay, select: tuple[str, ...], now) -> dict[str, Any]:
    shown = day.day.display_zone
    values: dict[str, Any] = {}
    for name in select:
        if name == "id":
            values[name] = day.id
        elif name == "userId":
            values[name] = day.user_id
        elif name == "startTime":
            values[name] = atom(day.day.start, shown)
        elif name == "endTime":
            values[name] = atom(day.day.finish, shown) if day.day.finish else None
        elif name == "duration":
            values[name] = int(duration(day.day).total_seconds())
        elif name == "breakLength":
            values[name] = int(break_length(day.day).total_seconds())
        elif name == "state":
            values[name] = status(day.day, now)
        elif name == "isApproved":
            values[name] = day.day.active
    return values


@methods.method(
    "timeman.record.list",
    summary="An employee's workday records (REST 3.0)",
    reference=_PAGES + "timeman-record-list.md",
    v3=V3Spec("timeman", RECORD, ("filter", "select", "order", "pagination"), listing=True),
    v2=False,
)
async def record_list(call: Call) -> dict[str, Any]:
    query = parse_query(call.params, RECORD, call.portal.zone)
    user_id = _target_user(query)
    target = await user_store.get(call.conn, call.portal.id, user_id) if _fits(user_id) else None
    if not await access.can_read_records(call.conn, call.user, target):
        raise v3.ACCESS_DENIED()
    days = await workdays.record_page(call.conn, call.portal.id, user_id, query)
    return {"items": [record_item(day, query.select, call.now) for day in days]}


def _fits(user_id: int) -> bool:
    return 0 < user_id < 2**31


@methods.method(
    "timeman.record.field.list",
    summary="The fields of a workday record (REST 3.0)",
    reference=_PAGES + "timeman-record-field-list.md",
    v3=V3Spec("timeman", FIELD_DTO, ("select",), listing=True),
    v2=False,
)
async def record_field_list(call: Call) -> dict[str, Any]:
    select = _field_select(call.params)
    return {"items": [describe(field, select) for field in RECORD.fields]}


@methods.method(
    "timeman.record.field.get",
    summary="One field of a workday record (REST 3.0)",
    reference=_PAGES + "timeman-record-field-get.md",
    v3=V3Spec("timeman", FIELD_DTO, ("name", "select")),
    v2=False,
)
async def record_field_get(call: Call) -> dict[str, Any]:
    name = call.params.get("name")
    if name is None or name == "":
        raise v3.VALIDATION.invalid("name", "Required field `name` is not specified")
    if not isinstance(name, str):
        raise v3.VALIDATION.invalid("name", "Field `name` must be a string")
    select = _field_select(call.params)
    field = RECORD.by_name.get(name)
    if field is None:
        raise v3.FIELD_NOT_FOUND(f"Field `{name[:100]}` not found")
    return {"item": describe(field, select)}
