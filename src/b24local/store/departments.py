"""Departments: a tree per portal, each with an optional head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import departments, user_departments


@dataclass(frozen=True, slots=True)
class Department:
    id: int
    name: str
    parent_id: int | None
    head_user_id: int | None
    sort: int


def _department(row: Any) -> Department:
    return Department(row.id, row.name, row.parent_id, row.head_user_id, row.sort)


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    department_id: int,
    name: str,
    parent_id: int | None = None,
    head_user_id: int | None = None,
    sort: int = 500,
) -> Department:
    """Store a department; the rules and the ID are :mod:`b24local.structure`'s."""
    await conn.execute(
        departments.insert().values(
            portal_id=portal_id,
            id=department_id,
            name=name,
            parent_id=parent_id,
            head_user_id=head_user_id,
            sort=sort,
        )
    )
    return Department(department_id, name, parent_id, head_user_id, sort)


async def get(conn: AsyncConnection, portal_id: int, department_id: int) -> Department | None:
    row = (
        await conn.execute(
            select(departments).where(
                departments.c.portal_id == portal_id, departments.c.id == department_id
            )
        )
    ).first()
    return _department(row) if row else None


async def change(conn: AsyncConnection, portal_id: int, department_id: int, **values: Any) -> None:
    await conn.execute(
        update(departments)
        .where(departments.c.portal_id == portal_id, departments.c.id == department_id)
        .values(**values)
    )


async def remove(
    conn: AsyncConnection, portal_id: int, department_id: int, *, heir_id: int
) -> None:
    """Delete a department; its members and child departments pass to ``heir_id``."""
    members = select(user_departments.c.user_id).where(
        user_departments.c.portal_id == portal_id,
        user_departments.c.department_id == department_id,
    )
    already = select(user_departments.c.user_id).where(
        user_departments.c.portal_id == portal_id, user_departments.c.department_id == heir_id
    )
    moving = [row.user_id for row in await conn.execute(members.except_(already))]
    for user_id in moving:
        await conn.execute(
            user_departments.insert().values(
                portal_id=portal_id, user_id=user_id, department_id=heir_id
            )
        )
    await conn.execute(
        delete(user_departments).where(
            user_departments.c.portal_id == portal_id,
            user_departments.c.department_id == department_id,
        )
    )
    await conn.execute(
        update(departments)
        .where(departments.c.portal_id == portal_id, departments.c.parent_id == department_id)
        .values(parent_id=heir_id)
    )
    await conn.execute(
        delete(departments).where(
            departments.c.portal_id == portal_id, departments.c.id == department_id
        )
    )


async def search(
    conn: AsyncConnection,
    portal_id: int,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    offset: int,
    limit: int,
    count: bool,
) -> tuple[list[Department], int | None]:
    where = and_(departments.c.portal_id == portal_id, *conditions)
    rows = await conn.execute(
        select(departments).where(where).order_by(*order_by).offset(offset).limit(limit)
    )
    total = None
    if count:
        total = (
            await conn.execute(select(func.count()).select_from(departments).where(where))
        ).scalar()
    return [_department(row) for row in rows], total


async def tree(conn: AsyncConnection, portal_id: int) -> dict[int, Department]:
    rows = await conn.execute(select(departments).where(departments.c.portal_id == portal_id))
    return {row.id: _department(row) for row in rows}


async def set_membership(
    conn: AsyncConnection, portal_id: int, user_id: int, department_ids: Sequence[int]
) -> None:
    """Make the user a member of exactly these departments."""
    await conn.execute(
        delete(user_departments).where(
            user_departments.c.portal_id == portal_id, user_departments.c.user_id == user_id
        )
    )
    for department_id in dict.fromkeys(department_ids):
        await conn.execute(
            user_departments.insert().values(
                portal_id=portal_id, user_id=user_id, department_id=department_id
            )
        )


def ancestry(tree: dict[int, Department], department_id: int) -> list[Department]:
    """The department and its parents up to the root (cycles are cut)."""
    chain: list[Department] = []
    seen: set[int] = set()
    current = tree.get(department_id)
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = tree.get(current.parent_id) if current.parent_id is not None else None
    return chain


def heads_over(tree: dict[int, Department], member_department_ids: Sequence[int]) -> set[int]:
    """Heads of the given departments and of every department above them."""
    heads: set[int] = set()
    for department_id in member_department_ids:
        for department in ancestry(tree, department_id):
            if department.head_user_id is not None:
                heads.add(department.head_user_id)
    return heads


async def supervisors_of(
    conn: AsyncConnection, portal_id: int, member_department_ids: Sequence[int]
) -> set[int]:
    """Heads of the given departments and of every department above them."""
    return heads_over(await tree(conn, portal_id), member_department_ids)


async def headed_by(conn: AsyncConnection, portal_id: int, user_id: int) -> list[int]:
    rows = await conn.execute(
        select(departments.c.id).where(
            departments.c.portal_id == portal_id, departments.c.head_user_id == user_id
        )
    )
    return [row.id for row in rows]
