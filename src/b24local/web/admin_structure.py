"""Administration, departments: the tree with heads; adding, renaming, moving,
setting the head and deleting, through :mod:`..structure` as ``department.*``
does, with its refusals (one top-level department, no move inside itself, a head
who exists…) in the catalogue's words. Only those ``department.add`` lets in
(``edits_structure``) see these pages.
"""

from __future__ import annotations

from collections import Counter

from starlette.responses import RedirectResponse, Response

from b24local import structure
from b24local.scopes.timeman.access import edits_structure
from b24local.store import departments, users
from b24local.store.departments import Department
from b24local.structure import Changes, StructureError

from .administer import form_id, ordered, path_id, require
from .pages import handler
from .render import page
from .visit import Refused, Visit

Error = tuple[str, dict[str, str]]


def _refusal(error: StructureError) -> Error:
    return f"admin.departments.{error.refusal.name.lower()}", {}


def _admin(current: Visit) -> None:
    assert current.user is not None
    require(edits_structure(current.user))


async def _render(
    current: Visit,
    template: str,
    *,
    error: Error | None = None,
    status: int = 200,
    sent: dict[str, object] | None = None,
    **context: object,
) -> Response:
    async with current.runtime.store.transaction() as conn:
        tree = await departments.tree(conn, current.portal.id)
        everyone = await users.all_users(conn, current.portal.id)
    people = {user.id: user for user in everyone}
    members = Counter(d for user in everyone if user.active for d in user.departments)
    # A dismissed head stays a choice where they head: saving must not drop them unasked.
    headed = {department.head_user_id for department in tree.values()}
    heads = [user for user in everyone if user.active or user.id in headed]
    return page(
        current.request, template, status=status, visit=current,
        csrf_token=current.csrf_token(), structure=ordered(tree), people=people,
        heads=heads, members=members, error=error,
        sent=sent or {}, done=current.request.query_params.get("done", ""), **context,
    )  # fmt: skip


def _sent(form: dict[str, str]) -> tuple[str, int | None, int | None]:
    """The name, the parent and the head a form names (an ID not a whole number is
    no form of ours)."""
    return form.get("name", ""), form_id(form.get("parent", "")), form_id(form.get("head", ""))


@handler()
async def departments_page(current: Visit) -> Response:
    _admin(current)
    if current.request.method in ("GET", "HEAD"):
        return await _render(current, "admin_departments.html")
    form = await current.form()
    name, parent, head = _sent(form)
    try:
        async with current.runtime.store.transaction(write=True) as conn:
            added = await structure.add(
                conn, current.portal.id, name=name, parent_id=parent, head_id=head
            )
    except StructureError as error:
        return await _render(
            current, "admin_departments.html", error=_refusal(error), status=400, sent=form
        )
    return RedirectResponse(f"/admin/departments?done=added#department-{added.id}", 303)


async def _department(current: Visit) -> Department:
    department_id = path_id(current.request.path_params["department"])
    async with current.runtime.store.transaction() as conn:
        found = await departments.get(conn, current.portal.id, department_id)
    if found is None:
        raise Refused("error.not_found", 404)
    return found


def _shown(department: Department) -> dict[str, object]:
    return {
        "name": department.name,
        "parent": str(department.parent_id or ""),
        "head": str(department.head_user_id or ""),
    }


@handler()
async def department_page(current: Visit) -> Response:
    _admin(current)
    department = await _department(current)
    if current.request.method in ("GET", "HEAD"):
        return await _render(
            current, "admin_department.html", department=department, sent=_shown(department)
        )
    form = await current.form()
    name, parent, head = _sent(form)
    try:
        async with current.runtime.store.transaction(write=True) as conn:
            await structure.update(
                conn, current.portal.id, department.id,
                Changes(name=name, parent_id=parent, head_id=head),
            )  # fmt: skip
    except StructureError as error:
        return await _render(
            current, "admin_department.html", department=department, error=_refusal(error),
            status=400, sent=form,
        )  # fmt: skip
    return RedirectResponse(f"/admin/departments?done=changed#department-{department.id}", 303)


@handler()
async def delete_department(current: Visit) -> Response:
    _admin(current)
    department = await _department(current)
    await current.form()  # the CSRF checks
    try:
        async with current.runtime.store.transaction(write=True) as conn:
            await structure.delete(conn, current.portal.id, department.id)
    except StructureError as error:
        return await _render(
            current, "admin_department.html", department=department, error=_refusal(error),
            status=400, sent=_shown(department),
        )  # fmt: skip
    return RedirectResponse("/admin/departments?done=deleted", 303)
