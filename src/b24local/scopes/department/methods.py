"""``department.get``: the company structure, filtered, sorted and paged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from b24local.rest.call import Call
from b24local.rest.envelope import ListPage
from b24local.rest.paging import PAGE_SIZE, page, page_start
from b24local.rest.params import php_int, php_str
from b24local.rest.registry import MethodGroup
from b24local.scopes.filtering import compare
from b24local.store import departments
from b24local.store.departments import Department
from b24local.store.tables import departments as table

methods = MethodGroup("department")

COLUMNS = {
    "ID": (table.c.id, php_int),
    "NAME": (table.c.name, php_str),
    "SORT": (table.c.sort, php_int),
    "PARENT": (table.c.parent_id, php_int),
    "UF_HEAD": (table.c.head_user_id, php_int),
}


def department_fields(department: Department) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ID": str(department.id),
        "NAME": department.name,
        "SORT": department.sort,
    }
    if department.parent_id is not None:
        fields["PARENT"] = str(department.parent_id)
    if department.head_user_id is not None:
        fields["UF_HEAD"] = str(department.head_user_id)
    return fields


def _conditions(params: dict[str, Any]) -> list[ColumnElement[bool]]:
    return [
        compare(column, "", params[name], convert)
        for name, (column, convert) in COLUMNS.items()
        if name in params
    ]


@methods.method(
    "department.get",
    summary="Departments by filter, sorted and paged",
    reference="departments/department-get.md",
    paged=True,
)
async def department_get(call: Call) -> ListPage:
    params = call.params.upper()
    filters = params.raw()
    # "sort" names the sort field; "SORT" with a number filters by the sort value.
    sort_key = params.str("SORT").strip().upper()
    column = table.c.id
    if sort_key in COLUMNS:
        column = COLUMNS[sort_key][0]
        filters.pop("SORT")
    descending = params.str("ORDER").strip().upper() == "DESC"
    start = page_start(params)
    found, total = await departments.search(
        call.conn,
        call.portal.id,
        _conditions(filters),
        [column.desc() if descending else column.asc(), table.c.id.asc()],
        offset=start or 0,
        limit=PAGE_SIZE,
        count=start is not None,
    )
    return page([department_fields(d) for d in found], start, total)
