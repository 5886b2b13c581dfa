"""The company structure: the one place that adds, changes and deletes departments.

REST (``department.*``), the CLI and portal set-up all come here, so the tree's
rules hold whoever asks, and an event can later be raised from one line per change.
The rules themselves (:func:`placement_refusal`) are pure functions of the tree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.store import departments, portals, users
from b24local.store.departments import Department

#: The largest ID or sort value a row can hold (the columns are 32-bit).
LARGEST = 2**31 - 1
DEFAULT_SORT = 500
NAME_LENGTH = 255


class Refusal(enum.Enum):
    """Why the structure refuses a change; REST and the CLI word each their own way."""

    NO_NAME = enum.auto()
    NOT_FOUND = enum.auto()
    BAD_PARENT = enum.auto()
    INSIDE_ITSELF = enum.auto()
    SECOND_ROOT = enum.auto()
    ROOT_DELETE = enum.auto()
    NO_USER = enum.auto()
    ID_TAKEN = enum.auto()
    BAD_ID = enum.auto()


class StructureError(Exception):
    def __init__(self, refusal: Refusal, subject: int | None = None) -> None:
        super().__init__(refusal.name)
        self.refusal = refusal
        self.subject = subject


class _Keep:
    """A field left as it is (``None`` means "no parent" or "no head")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True, slots=True)
class Changes:
    name: str | _Keep = KEEP
    parent_id: int | _Keep | None = KEEP
    head_id: int | _Keep | None = KEEP
    sort: int | _Keep = KEEP


# --- pure rules ----------------------------------------------------------------------------


def subtree(tree: Mapping[int, Department], department_id: int) -> set[int]:
    """The department and every department below it."""
    children: dict[int, list[int]] = {}
    for department in tree.values():
        if department.parent_id is not None:
            children.setdefault(department.parent_id, []).append(department.id)
    found: set[int] = set()
    waiting = [department_id]
    while waiting:
        current = waiting.pop()
        if current not in found:
            found.add(current)
            waiting.extend(children.get(current, ()))
    return found


def placement_refusal(
    tree: Mapping[int, Department], department_id: int | None, parent_id: int | None
) -> Refusal | None:
    """Whether a department (``None``: a new one) may sit under ``parent_id``
    (``None``: at the top). One top-level department, parents that exist, no cycles."""
    if parent_id is None:
        others = [d for d in tree.values() if d.parent_id is None and d.id != department_id]
        return Refusal.SECOND_ROOT if others else None
    if parent_id not in tree:
        return Refusal.BAD_PARENT
    if department_id is not None and parent_id in subtree(tree, department_id):
        return Refusal.INSIDE_ITSELF
    return None


def clean_name(name: str) -> str:
    """A name as stored: NUL bytes dropped (PostgreSQL text cannot hold them), cut to
    the column's length as a non-strict MySQL column would."""
    return name.replace("\x00", "")[:NAME_LENGTH]


def clean_sort(sort: int) -> int:
    return min(sort, LARGEST) if sort > 0 else DEFAULT_SORT


# --- the changes -----------------------------------------------------------------------------


def _check(refusal: Refusal | None, subject: int | None = None) -> None:
    if refusal is not None:
        raise StructureError(refusal, subject)


async def _check_head(conn: AsyncConnection, portal_id: int, head_id: int | None) -> None:
    if head_id is None:
        return
    if not 0 < head_id <= LARGEST or await users.get(conn, portal_id, head_id) is None:
        raise StructureError(Refusal.NO_USER, head_id)


async def find(conn: AsyncConnection, portal_id: int, department_id: int) -> Department:
    """The portal's department, or NOT_FOUND (another portal's departments included)."""
    found = None
    if 0 < department_id <= LARGEST:
        found = await departments.get(conn, portal_id, department_id)
    if found is None:
        raise StructureError(Refusal.NOT_FOUND, department_id)
    return found


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    name: str,
    parent_id: int | None,
    head_id: int | None = None,
    sort: int = DEFAULT_SORT,
    department_id: int | None = None,
) -> Department:
    """Add a department; ``department_id`` chooses its ID (administration only), and
    automatic IDs then continue past it."""
    name = clean_name(name)
    if not name:
        raise StructureError(Refusal.NO_NAME)
    if department_id is not None:
        if not 0 < department_id <= LARGEST:
            raise StructureError(Refusal.BAD_ID, department_id)
        if await departments.get(conn, portal_id, department_id) is not None:
            raise StructureError(Refusal.ID_TAKEN, department_id)
    tree = await departments.tree(conn, portal_id)
    _check(placement_refusal(tree, None, parent_id), parent_id)
    await _check_head(conn, portal_id, head_id)
    if department_id is None:
        department_id = await portals.next_id(conn, portal_id, "last_department_id")
    else:
        await portals.raise_counter(conn, portal_id, "last_department_id", department_id)
    return await departments.add(
        conn,
        portal_id,
        department_id=department_id,
        name=name,
        parent_id=parent_id,
        head_user_id=head_id,
        sort=clean_sort(sort),
    )


async def update(
    conn: AsyncConnection, portal_id: int, department_id: int, changes: Changes
) -> Department:
    """Change what is given; a new parent moves the whole subtree with the department,
    and a new head manages its people (and theirs below) at once."""
    current = await find(conn, portal_id, department_id)
    values: dict[str, object] = {}
    if not isinstance(changes.name, _Keep):
        name = clean_name(changes.name)
        if not name:
            raise StructureError(Refusal.NO_NAME)
        values["name"] = name
    if not isinstance(changes.parent_id, _Keep):
        tree = await departments.tree(conn, portal_id)
        _check(placement_refusal(tree, department_id, changes.parent_id), changes.parent_id)
        values["parent_id"] = changes.parent_id
    if not isinstance(changes.head_id, _Keep):
        await _check_head(conn, portal_id, changes.head_id)
        values["head_user_id"] = changes.head_id
    if not isinstance(changes.sort, _Keep):
        values["sort"] = clean_sort(changes.sort)
    if values:
        await departments.change(conn, portal_id, department_id, **values)
    return await find(conn, portal_id, current.id)


async def delete(conn: AsyncConnection, portal_id: int, department_id: int) -> None:
    """Delete a department. Its people and sub-departments move up to its parent, as
    the real structure does; the top-level department stays."""
    department = await find(conn, portal_id, department_id)
    if department.parent_id is None:
        raise StructureError(Refusal.ROOT_DELETE, department_id)
    await departments.remove(conn, portal_id, department_id, heir_id=department.parent_id)
