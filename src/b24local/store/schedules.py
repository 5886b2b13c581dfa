"""Work schedules: each portal's, with their shifts, calendar, rules and assignments."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.timeman.schedule import Assignments, Schedule, Shift

from . import departments
from .snapshot import Reads, cached
from .tables import work_schedules

# Every timeman.status/open/close/settings looks for the user's schedule: answered
# from the snapshot while nothing changes.
_ALL = cached(
    select(work_schedules)
    .where(work_schedules.c.portal_id == bindparam("portal_id"))
    .order_by(work_schedules.c.id),
    Reads("work_schedules", "portal_id"),
)


def _schedule(row: Any) -> Schedule:
    return Schedule(
        id=row.id,
        name=row.name,
        schedule_type=row.schedule_type,
        report_period=row.report_period,
        start_week_day=row.start_week_day,
        for_all_users=row.for_all_users,
        browser=row.browser,
        controlled_actions=row.controlled_actions,
        shifts=tuple(Shift(**s) for s in row.shifts),
        exclusions=row.exclusions,
        rules=row.rules,
        assignments=Assignments(**{k: tuple(v) for k, v in row.assignments.items()}),
        deleted=row.deleted,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        deleted_by=row.deleted_by,
        deleted_at=row.deleted_at,
    )


def _values(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "schedule_type": schedule.schedule_type,
        "report_period": schedule.report_period,
        "start_week_day": schedule.start_week_day,
        "for_all_users": schedule.for_all_users,
        "browser": schedule.browser,
        "controlled_actions": schedule.controlled_actions,
        "shifts": [asdict(s) for s in schedule.shifts],
        "exclusions": dict(schedule.exclusions),
        "rules": dict(schedule.rules),
        "assignments": {k: list(v) for k, v in asdict(schedule.assignments).items()},
        "deleted": schedule.deleted,
        "created_by": schedule.created_by,
        "created_at": schedule.created_at,
        "updated_by": schedule.updated_by,
        "deleted_by": schedule.deleted_by,
        "deleted_at": schedule.deleted_at,
    }


#: Schedules built from stored rows, keyed by the rows as one JSON text.
_BUILT: dict[bytes, tuple[Schedule, ...]] = {}
_BUILT_MAX = 64


def _schedules(rows: Any) -> tuple[Schedule, ...]:
    # Writes read the list too (every timeman change looks up the user's
    # schedule), outside the snapshot's cache: building is the cost, so rows seen
    # before give back the schedules built from them.
    rows = list(rows)
    key = orjson.dumps([tuple(row) for row in rows])
    built = _BUILT.get(key)
    if built is None:
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()
        built = _BUILT[key] = tuple(_schedule(row) for row in rows)
    return built


async def all_of(conn: AsyncConnection, portal_id: int) -> tuple[Schedule, ...]:
    """The portal's schedules, deleted ones included, oldest first. A read builds
    them once per change of the store (building was most of schedule.get's cost);
    the schedules are frozen and nobody changes their parts."""
    return await conn.make(_ALL, {"portal_id": portal_id}, _schedules)


async def get(conn: AsyncConnection, portal_id: int, schedule_id: int) -> Schedule | None:
    # From the cached list: a portal has a handful of schedules, and the list is
    # read by every timeman.* call anyway.
    return next((s for s in await all_of(conn, portal_id) if s.id == schedule_id), None)


async def next_ids(conn: AsyncConnection, portal_id: int) -> tuple[int, int]:
    """The next schedule ID and the next shift ID; shift IDs run across schedules."""
    found = await all_of(conn, portal_id)
    schedule_id = max((s.id for s in found), default=0) + 1
    shift_id = max((sh.id for s in found for sh in s.shifts), default=0) + 1
    return schedule_id, shift_id


async def add(conn: AsyncConnection, portal_id: int, schedule: Schedule, now: datetime) -> Schedule:
    stored = replace(schedule, created_at=schedule.created_at or now)
    await conn.execute(
        insert(work_schedules).values(portal_id=portal_id, id=stored.id, **_values(stored))
    )
    return stored


async def put(conn: AsyncConnection, portal_id: int, schedule: Schedule) -> None:
    await conn.execute(
        update(work_schedules)
        .where(work_schedules.c.portal_id == portal_id, work_schedules.c.id == schedule.id)
        .values(**_values(schedule))
    )


async def department_chains(
    conn: AsyncConnection, portal_id: int, department_ids: tuple[int, ...]
) -> list[list[int]]:
    """Each of the user's departments with its parents, nearest first."""
    if not department_ids:
        return []
    structure = await departments.tree(conn, portal_id)
    return [[d.id for d in departments.ancestry(structure, i)] for i in department_ids]
