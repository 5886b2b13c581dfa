"""Administration of work schedules, shared by ``b24local schedule`` and seed files.

Every change goes through :func:`b24local.scopes.timeman.schedule.read_definition`,
the same checks whether a schedule comes from options or from a file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.admin import AdminError, portal_for
from b24local.scopes.timeman.schedule import (
    MAX_ID,
    Assignments,
    Schedule,
    ScheduleError,
    read_assignments,
    read_definition,
)
from b24local.store import departments, schedules, users
from b24local.store.engine import Store


async def _live(conn: AsyncConnection, portal_id: int, schedule_id: int) -> Schedule:
    found = await schedules.get(conn, portal_id, schedule_id)
    if found is None or found.deleted:
        raise AdminError(f"no schedule {schedule_id}")
    return found


async def _check_assigned(conn: AsyncConnection, portal_id: int, assigned: Assignments) -> None:
    for user_id in (*assigned.users, *assigned.excluded_users):
        if await users.get(conn, portal_id, user_id) is None:
            raise AdminError(f"no user {user_id}")
    structure = await departments.tree(conn, portal_id)
    for department_id in (*assigned.departments, *assigned.excluded_departments):
        if department_id not in structure:
            raise AdminError(f"no department {department_id}")


def _same_shifts(new: Schedule, old: Schedule) -> Schedule:
    """Unchanged shifts keep their IDs, so loading a file twice changes nothing."""

    def key(s: Any) -> tuple:
        return (s.start, s.end, s.work_days, s.break_duration, s.name)

    if [key(s) for s in new.shifts] == [key(s) for s in old.shifts]:
        return replace(new, shifts=old.shifts)
    return new


async def _write(
    conn: AsyncConnection,
    portal_id: int,
    definition: Mapping[str, Any],
    now: datetime,
    *,
    base: Schedule | None = None,
    wanted_id: int | None = None,
    actor_id: int = 0,
) -> Schedule:
    next_id, next_shift = await schedules.next_ids(conn, portal_id)
    schedule_id = base.id if base else wanted_id or next_id
    try:
        found = read_definition(definition, schedule_id, next_shift, base)
    except ScheduleError as error:
        raise AdminError(str(error)) from None
    await _check_assigned(conn, portal_id, found.assignments)
    if base is None:
        # CREATED_BY 0 is "the system" (the CLI, a seed file), as the real service says.
        found = replace(found, created_by=actor_id, updated_by=actor_id)
        return await schedules.add(conn, portal_id, found, now)
    found = _same_shifts(found, base)
    if found != base:
        found = replace(found, updated_by=actor_id)
    await schedules.put(conn, portal_id, found)
    return found


async def add_schedule(
    store: Store,
    definition: Mapping[str, Any],
    now: datetime,
    domain: str | None = None,
    *,
    actor_id: int = 0,
) -> Schedule:
    """A new schedule; ``actor_id`` (the administrator on a page, else 0 for the
    system) becomes its ``CREATED_BY``."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        return await _write(conn, portal.id, definition, now, actor_id=actor_id)


async def update_schedule(
    store: Store,
    schedule_id: int,
    definition: Mapping[str, Any],
    now: datetime,
    domain: str | None = None,
    *,
    actor_id: int = 0,
) -> Schedule:
    """Change the fields ``definition`` gives; ``actor_id`` becomes ``UPDATED_BY``
    if anything changed."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        base = await _live(conn, portal.id, schedule_id)
        return await _write(conn, portal.id, definition, now, base=base, actor_id=actor_id)


async def assign_schedule(
    store: Store,
    schedule_id: int,
    changes: Mapping[str, Sequence[int]],
    *,
    for_all: bool | None = None,
    clear: bool = False,
    domain: str | None = None,
) -> Schedule:
    """Add users and departments (or exclusions) to a schedule; ``clear`` first
    empties its assignments. A user or department named both ways is excluded."""
    try:
        extra = read_assignments({k: list(v) for k, v in changes.items()})
    except ScheduleError as error:
        raise AdminError(str(error)) from None
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        found = await _live(conn, portal.id, schedule_id)
        old = Assignments() if clear else found.assignments

        def merged(kept: Iterable[int], added: Iterable[int], dropped: Iterable[int]) -> tuple:
            return tuple(i for i in dict.fromkeys([*kept, *added]) if i not in set(dropped))

        excluded_users = merged(old.excluded_users, extra.excluded_users, extra.users)
        excluded_departments = merged(
            old.excluded_departments, extra.excluded_departments, extra.departments
        )
        assigned = Assignments(
            users=merged(old.users, extra.users, excluded_users),
            departments=merged(old.departments, extra.departments, excluded_departments),
            excluded_users=excluded_users,
            excluded_departments=excluded_departments,
        )
        await _check_assigned(conn, portal.id, assigned)
        found = replace(
            found,
            assignments=assigned,
            for_all_users=found.for_all_users if for_all is None else for_all,
        )
        await schedules.put(conn, portal.id, found)
        return found


async def list_schedules(
    store: Store, domain: str | None = None, *, deleted: bool = False
) -> list[Schedule]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return [s for s in await schedules.all_of(conn, portal.id) if deleted or not s.deleted]


async def remove_schedule(
    store: Store,
    schedule_id: int,
    now: datetime,
    domain: str | None = None,
    *,
    actor_id: int = 0,
) -> Schedule:
    """Mark a schedule deleted, as the real service does: ``timeman.schedule.get``
    still finds it, with ``DELETED`` ``"1"`` and ``DELETED_BY`` ``actor_id``, and it
    applies to no one."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        live = await _live(conn, portal.id, schedule_id)
        found = replace(live, deleted=True, deleted_at=now, deleted_by=actor_id)
        await schedules.put(conn, portal.id, found)
        return found


async def portal_zone(store: Store, domain: str | None = None) -> ZoneInfo:
    async with store.transaction() as conn:
        return (await portal_for(conn, domain)).zone


def read_seed(path: Path) -> list[Mapping[str, Any]]:
    """Schedules from a ``.json`` or ``.toml`` file: a list, or ``{"schedules": [...]}``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AdminError(f"cannot read {path}: {error}") from None
    try:
        data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise AdminError(f"{path} is not valid {kind}: {error}") from None
    if isinstance(data, Mapping):
        data = data.get("schedules", data.get("SCHEDULES"))
    if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
        raise AdminError(f"{path}: expected a list of schedules (or a 'schedules' list)")
    return data


async def load_schedules(
    store: Store, definitions: Sequence[Mapping[str, Any]], now: datetime, domain: str | None = None
) -> list[tuple[str, Schedule]]:
    """Create or update each schedule, matched by ``ID`` if given, else by ``NAME``.

    All or nothing: one bad definition and nothing is written. Loading the same file
    again changes nothing.
    """
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        return await load_into(conn, portal.id, definitions, now)


async def load_into(
    conn: AsyncConnection,
    portal_id: int,
    definitions: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[tuple[str, Schedule]]:
    """:func:`load_schedules` inside a transaction of the caller's (a state file's)."""
    done: list[tuple[str, Schedule]] = []
    for number, definition in enumerate(definitions, 1):
        try:
            done.append(await _load_one(conn, portal_id, definition, now))
        except AdminError as error:
            raise AdminError(f"schedule #{number}: {error}") from None
    return done


async def _load_one(
    conn: AsyncConnection, portal_id: int, definition: Mapping[str, Any], now: datetime
) -> tuple[str, Schedule]:
    existing = await schedules.all_of(conn, portal_id)
    wanted = definition.get("ID")
    if wanted is not None:
        if isinstance(wanted, bool) or not isinstance(wanted, int) or not 0 < wanted <= MAX_ID:
            raise AdminError(f"ID must be a positive whole number, not {wanted!r}")
        base = next((s for s in existing if s.id == wanted), None)
    else:
        name = str(definition.get("NAME", "")).strip()
        base = next((s for s in existing if s.name == name and not s.deleted), None)
    if base is None:
        return "added", await _write(conn, portal_id, definition, now, wanted_id=wanted)
    fresh = replace(base, deleted=False, deleted_at=None)
    found = await _write(conn, portal_id, _complete(definition), now, base=fresh)
    return ("unchanged" if found == base else "updated"), found


def _complete(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A file describes a whole schedule: what it leaves out is reset to defaults."""
    defaults: dict[str, Any] = {
        "SCHEDULE_TYPE": "FIXED",
        "REPORT_PERIOD": "MONTH",
        "REPORT_PERIOD_OPTIONS": {},
        "IS_FOR_ALL_USERS": False,
        "ALLOWED_DEVICES": {},
        "CONTROLLED_ACTIONS": 3,
        "SHIFTS": [],
        "CALENDAR": {},
        "SCHEDULE_VIOLATION_RULES": {},
        "ASSIGNMENTS": {},
    }
    return {**defaults, **definition}
