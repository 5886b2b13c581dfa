"""What the administration pages share: who may see them, IDs read from paths and
forms, and the department tree in the order a page lists it.

The pages are for administrators: the same test ``user.add`` and ``department.*``
make (:mod:`..scopes.timeman.access`); anyone else gets the 403 page, and the nav
link shows only to administrators.
"""

from __future__ import annotations

from collections.abc import Mapping

from b24local.devapi import whole_number
from b24local.store.departments import Department
from b24local.store.types import INTEGER_MAX as MAX_ID

from .visit import Refused


def require(allowed: bool) -> None:
    """Refuse the page unless the rule the REST method applies lets the user in."""
    if not allowed:
        raise Refused("admin.only", 403)


def path_id(value: str) -> int:
    """An ID in the page's path: anything but a whole number is no page of ours."""
    try:
        return whole_number(value, "id", low=1, high=MAX_ID)
    except ValueError:
        raise Refused("error.not_found", 404) from None


def form_id(value: str) -> int | None:
    """An ID chosen in a form, ``None`` for "none"; a form of ours sends nothing else."""
    if value == "":
        return None
    try:
        return whole_number(value, "id", low=1, high=MAX_ID)
    except ValueError:
        raise Refused("error.bad_form", 400) from None


def form_ids(values: list[str]) -> tuple[int, ...]:
    """The IDs of a multiple choice, each once, in the order sent."""
    found = (form_id(value) for value in values if value != "")
    return tuple(dict.fromkeys(i for i in found if i is not None))


def ordered(tree: Mapping[int, Department]) -> list[tuple[Department, int]]:
    """The departments depth first, each with its depth; siblings by sort, then name.
    One lost from the tree (a parent missing) is listed at the top level."""
    children: dict[int | None, list[Department]] = {}
    for department in tree.values():
        parent = department.parent_id if department.parent_id in tree else None
        children.setdefault(parent, []).append(department)
    listed: list[tuple[Department, int]] = []
    seen: set[int] = set()
    waiting = [(d, 0) for d in sorted(children.get(None, ()), key=_order, reverse=True)]
    while waiting:
        department, depth = waiting.pop()
        if department.id in seen:
            continue
        seen.add(department.id)
        listed.append((department, depth))
        below = sorted(children.get(department.id, ()), key=_order, reverse=True)
        waiting.extend((child, depth + 1) for child in below)
    return listed


def _order(department: Department) -> tuple[int, str, int]:
    return (department.sort, department.name.casefold(), department.id)
