"""The ``department`` scope: ``department.get`` reads the company structure, filtered,
sorted and paged; ``add``/``update``/``delete`` change it through
:mod:`b24local.structure`; ``fields`` names the fields."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement

from b24local import structure
from b24local.rest.call import Call
from b24local.rest.envelope import ListPage
from b24local.rest.errors import ErrorSpec
from b24local.rest.paging import PAGE_SIZE, page, page_start
from b24local.rest.params import Params, php_int, php_str
from b24local.rest.registry import MethodGroup
from b24local.scopes.filtering import compare
from b24local.scopes.timeman import access
from b24local.store import departments
from b24local.store.departments import Department
from b24local.store.tables import departments as table
from b24local.structure import KEEP, Changes, Refusal, StructureError

methods = MethodGroup("department")
T = TypeVar("T")


def _core(description: str, meaning: str) -> ErrorSpec:
    # The real methods throw plain exceptions, which the REST server answers as
    # ERROR_CORE with the exception's text and HTTP 400.
    return ErrorSpec("ERROR_CORE", 400, description, meaning)


ACCESS_DENIED = _core("Access denied", "department.add/update/delete by a non-administrator")
REFUSALS: dict[Refusal, ErrorSpec] = {
    Refusal.NO_NAME: _core("Department name not provided.<br>", "NAME missing or empty"),
    Refusal.NOT_FOUND: _core("Department not found", "ID names no department of the portal"),
    Refusal.SECOND_ROOT: _core(
        "There can only be one top-level department in the company structure",
        "PARENT missing or not positive where a top-level department exists",
    ),
    Refusal.BAD_PARENT: _core("Incorrect parent section!<br>", "PARENT names no department"),
    Refusal.INSIDE_ITSELF: _core(
        "Cannot move the section inside itself.<br>",
        "update: PARENT is the department itself or one below it",
    ),
    Refusal.ROOT_DELETE: _core(
        "The top-level department cannot be deleted", "delete: ID is the top-level department"
    ),
    Refusal.NO_USER: _core("User not found", "UF_HEAD names no user of the portal"),
}
methods.errors = (ACCESS_DENIED, *REFUSALS.values())

#: ``department.fields``: the page's object, word for word.
FIELDS = {
    "ID": "ID",
    "NAME": "Department Name",
    "SORT": "Sort Order",
    "PARENT": "Parent Department",
    "UF_HEAD": "Manager",
}

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


# --- changes ------------------------------------------------------------------------------


def _given(params: Params, key: str) -> bool:
    """PHP's ``isset``: present and not null."""
    return params.has(key) and params[key] is not None


def _scalar(value: Any) -> bool:
    return not isinstance(value, list | dict)


def _name(params: Params) -> str:
    value = params["NAME"] if _given(params, "NAME") else ""
    return php_str(value).strip() if _scalar(value) else ""


def _parent(params: Params) -> int | None:
    """A parent's ID; zero or less asks for the top level, as the real ``(int)`` does."""
    value = params["PARENT"]
    if not _scalar(value):
        raise StructureError(Refusal.BAD_PARENT)
    parent = php_int(value)
    return parent if parent > 0 else None


def _head(params: Params) -> int | None:
    value = params["UF_HEAD"]
    if not _scalar(value):
        raise StructureError(Refusal.NO_USER)
    head = php_int(value)
    return head if head > 0 else None


def _sort(params: Params) -> int | None:
    """A positive SORT; anything else leaves the default (add) or the old value."""
    if not _given(params, "SORT") or not _scalar(params["SORT"]):
        return None
    sort = php_int(params["SORT"])
    return sort if sort > 0 else None


def _department_id(params: Params) -> int:
    value = params["ID"] if params.has("ID") else 0
    return php_int(value) if _scalar(value) else 0


def _may_edit(call: Call) -> None:
    if not access.edits_structure(call.user):
        raise ACCESS_DENIED()


async def _refused(work: Awaitable[T]) -> T:
    """The structure's refusals in the real methods' words."""
    try:
        return await work
    except StructureError as error:
        raise REFUSALS[error.refusal]() from None


@methods.method(
    "department.fields",
    summary="Names of the department fields",
    reference="departments/department-fields.md",
)
async def department_fields_method(call: Call) -> dict[str, str]:
    return dict(FIELDS)


@methods.method(
    "department.add",
    summary="Add a department (administrators)",
    reference="departments/department-add.md",
    writes=True,
)
async def department_add(call: Call) -> int:
    _may_edit(call)
    params = call.params.upper()

    async def add() -> int:
        name = _name(params)
        if not name:
            raise StructureError(Refusal.NO_NAME)
        head = _head(params) if _given(params, "UF_HEAD") else None
        found = await structure.add(
            call.conn,
            call.portal.id,
            name=name,
            parent_id=_parent(params) if _given(params, "PARENT") else None,
            head_id=head,
            sort=_sort(params) or structure.DEFAULT_SORT,
        )
        return found.id

    return await _refused(add())


@methods.method(
    "department.update",
    summary="Change a department's name, parent, head or sort (administrators)",
    reference="departments/department-update.md",
    writes=True,
)
async def department_update(call: Call) -> bool:
    _may_edit(call)
    params = call.params.upper()

    async def update() -> None:
        department_id = _department_id(params)
        await structure.find(call.conn, call.portal.id, department_id)
        sort = _sort(params)
        changes = Changes(
            name=_name(params) if _given(params, "NAME") else KEEP,
            parent_id=_parent(params) if _given(params, "PARENT") else KEEP,
            head_id=_head(params) if _given(params, "UF_HEAD") else KEEP,
            sort=sort if sort is not None else KEEP,
        )
        await structure.update(call.conn, call.portal.id, department_id, changes)

    await _refused(update())
    return True


@methods.method(
    "department.delete",
    summary="Delete a department; its people and sub-departments move up (administrators)",
    reference="departments/department-delete.md",
    writes=True,
)
async def department_delete(call: Call) -> bool:
    _may_edit(call)
    params = call.params.upper()
    await _refused(structure.delete(call.conn, call.portal.id, _department_id(params)))
    return True
