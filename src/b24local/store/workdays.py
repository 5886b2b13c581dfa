"""Stored workdays, their history of events, and work-time settings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import User
from b24local.rest.v3.query import Query
from b24local.scopes.timeman import schedule as schedule_rules
from b24local.scopes.timeman.workday import (
    Break,
    Place,
    Settings,
    Step,
    Workday,
    break_length,
    duration,
)

from . import departments as department_store
from . import schedules, v3query
from .snapshot import Reads, cached, prebuilt
from .tables import timeman_settings, workday_events, workdays
from .types import from_iso, storable, to_iso

PORTAL_DEFAULTS = 0


@dataclass(frozen=True, slots=True)
class StoredDay:
    id: int
    user_id: int
    day: Workday


def _breaks_out(breaks: tuple[Break, ...]) -> list[list[str | None]]:
    return [[to_iso(b.start), to_iso(b.end) if b.end else None] for b in breaks]


def _breaks_in(raw: list[list[str | None]]) -> tuple[Break, ...]:
    return tuple(
        Break(from_iso(start), from_iso(end) if end else None)  # type: ignore[arg-type]
        for start, end in raw
    )


def _values(day: Workday) -> dict[str, Any]:
    return {
        "started_at": day.start,
        "tz_offset": day.tz_offset,
        "zone": day.zone,
        "finished_at": day.finish,
        "breaks": _breaks_out(day.breaks),
        "active": day.active,
        "ip_open": day.opened_from.ip,
        "lat_open": day.opened_from.lat,
        "lon_open": day.opened_from.lon,
        "ip_close": day.closed_from.ip,
        "lat_close": day.closed_from.lat,
        "lon_close": day.closed_from.lon,
        "resumed_at": day.resumed,
    }


#: What :func:`_values` fills, and when the day last changed.
_DAY_COLUMNS = (
    "started_at", "tz_offset", "zone", "finished_at", "breaks", "active",
    "ip_open", "lat_open", "lon_open", "ip_close", "lat_close", "lon_close", "resumed_at",
    "updated_at", "duration", "break_length",
)  # fmt: skip
# Built once, each value a parameter of its own: every transition runs two of these.
_INSERT_DAY = (
    insert(workdays)
    .values({name: bindparam(name) for name in ("portal_id", "user_id", *_DAY_COLUMNS)})
    .returning(workdays.c.id)
)
_UPDATE_DAY = prebuilt(
    update(workdays)
    .where(workdays.c.portal_id == bindparam("key_portal"), workdays.c.id == bindparam("key_id"))
    .values({name: bindparam(name) for name in _DAY_COLUMNS})
)
_RECORD = prebuilt(
    insert(workday_events).values(
        {column.name: bindparam(column.name) for column in workday_events.c if column.name != "id"}
    )
)


def _totals(day: Workday) -> dict[str, int]:
    """Worked and break seconds as of the day's last change, kept in columns so
    that REST 3.0 can filter and sort records by them in SQL."""
    return {
        "duration": int(duration(day).total_seconds()),
        "break_length": int(break_length(day).total_seconds()),
    }


def snapshot(day: Workday | None) -> dict[str, Any] | None:
    """A JSON-ready picture of a day, for the history."""
    if day is None:
        return None
    values = _values(day)
    for key in ("started_at", "finished_at", "resumed_at"):
        values[key] = to_iso(values[key]) if values[key] else None
    return values


#: What :func:`_day` reads: enough for many days at once (no totals, no update time).
_DAY_READ = [
    workdays.c[name]
    for name in ("id", "user_id", "started_at", "tz_offset", "zone", "finished_at", "breaks",
                 "active", "ip_open", "lat_open", "lon_open", "ip_close", "lat_close", "lon_close",
                 "resumed_at")
]  # fmt: skip


def _day(row: Any) -> StoredDay:
    day = Workday(
        start=row.started_at,
        tz_offset=row.tz_offset,
        zone=row.zone,
        finish=row.finished_at,
        breaks=_breaks_in(row.breaks),
        active=row.active,
        opened_from=Place(row.ip_open, row.lat_open, row.lon_open),
        closed_from=Place(row.ip_close, row.lat_close, row.lon_close),
        resumed=row.resumed_at,
    )
    return StoredDay(row.id, row.user_id, day)


# Built once: every timeman call runs these, and building costs more than running.
_LATEST = cached(
    select(workdays)
    .where(
        workdays.c.portal_id == bindparam("portal_id"), workdays.c.user_id == bindparam("user_id")
    )
    .order_by(workdays.c.id.desc())
    .limit(1),
    Reads("workdays", "portal_id", "user_id"),
)
_SETTINGS = cached(
    select(timeman_settings)
    .where(
        timeman_settings.c.portal_id == bindparam("portal_id"),
        timeman_settings.c.user_id.in_([PORTAL_DEFAULTS, bindparam("user_id")]),
    )
    .order_by(timeman_settings.c.user_id),
    Reads("timeman_settings", "portal_id", "user_id"),
    Reads("timeman_settings", "portal_id", PORTAL_DEFAULTS),
)


async def latest(conn: AsyncConnection, portal_id: int, user_id: int) -> StoredDay | None:
    """The user's current workday: the newest record, not the latest start, which
    days stored before back-dated overlapping opens were refused can contradict."""
    row = (await conn.execute(_LATEST, {"portal_id": portal_id, "user_id": user_id})).first()
    return _day(row) if row else None


#: What :func:`latest_of_all` reads: a day without where it was opened and closed
#: from (six columns, two objects a day, that the team board never shows).
_DAY_BRIEF = [
    workdays.c[name]
    for name in ("user_id", "started_at", "tz_offset", "zone", "finished_at", "breaks", "active")
]


#: Each user's newest day, unless it was finished and started before ``cutoff``.
_LATEST_OF_ALL = select(*_DAY_BRIEF).where(
    workdays.c.portal_id == bindparam("portal_id"),
    workdays.c.id.in_(
        select(func.max(workdays.c.id))
        .where(workdays.c.portal_id == bindparam("portal_id"))
        .group_by(workdays.c.user_id)
    ),
    workdays.c.finished_at.is_(None) | (workdays.c.started_at >= bindparam("cutoff")),
)


async def latest_of_all(
    conn: AsyncConnection, portal_id: int, *, unless_closed_before: datetime
) -> dict[int, Workday]:
    """Every user's current workday (as :func:`latest` finds it, without its places),
    in one query; without those finished days that started before
    ``unless_closed_before``."""
    rows = await conn.execute(
        _LATEST_OF_ALL, {"portal_id": portal_id, "cutoff": unless_closed_before}
    )
    return {
        user_id: Workday(start, tz_offset, zone, finish, _breaks_in(breaks), active)
        for user_id, start, tz_offset, zone, finish, breaks, active in rows
    }


async def by_id(conn: AsyncConnection, portal_id: int, workday_id: int) -> StoredDay | None:
    row = (
        await conn.execute(
            select(workdays).where(workdays.c.portal_id == portal_id, workdays.c.id == workday_id)
        )
    ).first()
    return _day(row) if row else None


async def record_page(
    conn: AsyncConnection, portal_id: int, user_id: int, query: Query
) -> list[StoredDay]:
    """One page of a user's workdays as REST 3.0 asks for them: filtered, sorted
    and cut in SQL (the portal, user, start index serves it)."""
    if not storable(user_id):
        return []
    owner = (workdays.c.portal_id == portal_id) & (workdays.c.user_id == user_id)
    rows = await conn.execute(v3query.apply(workdays, owner, query))
    return [_day(row) for row in rows]


async def save(
    conn: AsyncConnection,
    portal_id: int,
    user_id: int,
    day: Workday,
    *,
    now: datetime,
    workday_id: int | None = None,
) -> int:
    values = {**_values(day), "updated_at": now, **_totals(day)}
    if workday_id is None:
        result = await conn.execute(
            _INSERT_DAY, {"portal_id": portal_id, "user_id": user_id, **values}
        )
        return result.scalar_one()
    await conn.execute(_UPDATE_DAY, {"key_portal": portal_id, "key_id": workday_id, **values})
    return workday_id


async def record(
    conn: AsyncConnection,
    portal_id: int,
    workday_id: int,
    *,
    user_id: int,
    actor_id: int,
    action: str,
    at: datetime,
    before: Workday | None,
    after: Workday | None,
    claimed: datetime | None = None,
    needs_approval: bool = False,
    report: str = "",
    ip: str = "",
) -> None:
    await conn.execute(
        _RECORD,
        {
            "portal_id": portal_id,
            "workday_id": workday_id,
            "user_id": user_id,
            "actor_id": actor_id,
            "action": action,
            "at": at,
            "claimed_at": claimed,
            "needs_approval": needs_approval,
            "report": report,
            "ip": ip,
            "before": snapshot(before),
            "after": snapshot(after),
        },
    )


async def history(conn: AsyncConnection, portal_id: int, workday_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(workday_events)
        .where(workday_events.c.portal_id == portal_id, workday_events.c.workday_id == workday_id)
        .order_by(workday_events.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def histories(
    conn: AsyncConnection, portal_id: int, workday_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """:func:`history` of several days in one query, by workday."""
    found: dict[int, list[dict[str, Any]]] = {workday_id: [] for workday_id in workday_ids}
    if not found:
        return found
    rows = await conn.execute(
        select(workday_events)
        .where(
            workday_events.c.portal_id == portal_id,
            workday_events.c.workday_id.in_(list(found)),
        )
        .order_by(workday_events.c.id)
    )
    for row in rows:
        found[row.workday_id].append(dict(row._mapping))
    return found


async def steps(conn: AsyncConnection, portal_id: int, workday_id: int) -> tuple[Step, ...]:
    """The day's history as the rules read it, oldest first."""
    rows = await conn.execute(
        select(
            workday_events.c.action,
            workday_events.c.at,
            workday_events.c.claimed_at,
            workday_events.c.needs_approval,
        )
        .where(workday_events.c.portal_id == portal_id, workday_events.c.workday_id == workday_id)
        .order_by(workday_events.c.id)
    )
    return tuple(Step(row.action, row.at, row.claimed_at, row.needs_approval) for row in rows)


async def awaiting_approval(conn: AsyncConnection, portal_id: int) -> list[StoredDay]:
    rows = await conn.execute(
        select(workdays)
        .where(workdays.c.portal_id == portal_id, workdays.c.active.is_(False))
        .order_by(workdays.c.started_at, workdays.c.id)
    )
    return [_day(row) for row in rows]


# --- settings ------------------------------------------------------------------------

_SETTING_COLUMNS = ("enabled", "free", "max_start", "min_finish", "min_duration", "allowed_delta")


def _seconds_to_time(value: int) -> time:
    return (datetime.min + timedelta(seconds=value)).time()


def _apply(settings: Settings, row: Any) -> Settings:
    changes: dict[str, Any] = {}
    if row.enabled is not None:
        changes["enabled"] = row.enabled
    if row.free is not None:
        changes["free"] = row.free
    if row.max_start is not None:
        changes["max_start"] = _seconds_to_time(row.max_start)
    if row.min_finish is not None:
        changes["min_finish"] = _seconds_to_time(row.min_finish)
    if row.min_duration is not None:
        changes["min_duration"] = timedelta(seconds=row.min_duration)
    if row.allowed_delta is not None:
        changes["allowed_delta"] = timedelta(seconds=row.allowed_delta)
    return replace(settings, **changes)


async def settings_for(
    conn: AsyncConnection, portal_id: int, user_id: int, departments: tuple[int, ...] = ()
) -> Settings:
    """Built-in defaults, overridden by the portal's, overridden by the user's; then,
    for a user with a work schedule, what the schedule decides (see
    :func:`b24local.scopes.timeman.schedule.shaped`)."""
    rows = await conn.execute(_SETTINGS, {"portal_id": portal_id, "user_id": user_id})
    settings = Settings()
    for row in rows:
        settings = _apply(settings, row)
    if user_id == PORTAL_DEFAULTS:
        return settings
    found = await schedules.all_of(conn, portal_id)
    if not found:
        return settings
    if any(s.assignments.departments or s.assignments.excluded_departments for s in found):
        chains = await schedules.department_chains(conn, portal_id, departments)
    else:
        chains = [[d] for d in departments]  # no department assigned: their parents do not matter
    return schedule_rules.shaped(settings, schedule_rules.effective(found, user_id, chains))


async def settings_of_many(
    conn: AsyncConnection, portal_id: int, people: Sequence[User]
) -> dict[int, Settings]:
    """:func:`settings_for` of many people in three queries (the stored overrides,
    the schedules, the department tree) rather than two per person: a report
    needs everyone's settings at once."""
    rows = await conn.execute(
        select(timeman_settings).where(timeman_settings.c.portal_id == portal_id)
    )
    stored = {row.user_id: row for row in rows}
    base = Settings()
    if PORTAL_DEFAULTS in stored:
        base = _apply(base, stored[PORTAL_DEFAULTS])
    found = await schedules.all_of(conn, portal_id)
    structure = await department_store.tree(conn, portal_id) if found else {}
    result: dict[int, Settings] = {}
    for person in people:
        settings = _apply(base, stored[person.id]) if person.id in stored else base
        if found:
            # What department_chains gives settings_for (chains matter only to
            # schedules assigned to departments, and then they are these).
            chains = [
                [d.id for d in department_store.ancestry(structure, i)] for i in person.departments
            ]
            settings = schedule_rules.shaped(
                settings, schedule_rules.effective(found, person.id, chains)
            )
        result[person.id] = settings
    return result


#: IDs per ``IN (...)``: within every driver's limit on parameters.
_CHUNK = 5_000


class ClosedDay(NamedTuple):
    """A closed day as a report reads it: no breaks, but the worked and break
    seconds stored with it (:func:`_totals`, the workday rules' own figures)."""

    id: int
    user_id: int
    start: datetime
    finish: datetime
    tz_offset: int
    active: bool
    duration: int
    break_length: int


async def started_between(
    conn: AsyncConnection,
    portal_id: int,
    user_ids: Sequence[int],
    first: datetime,
    last: datetime,
) -> tuple[list[ClosedDay], list[StoredDay]]:
    """The people's workdays started within [first, last), read through the
    (portal, user, start) index in one pass: the closed ones as :class:`ClosedDay`
    (a month's report reads tens of thousands, and building each whole, breaks
    parsed, cost more than the query), the others whole. Moments are read as the
    database gives them, which costs a fifth of the column type's parsing."""
    ids = sorted({u for u in user_ids if storable(u)})
    closed: list[ClosedDay] = []
    still_open: list[StoredDay] = []
    for at in range(0, len(ids), _CHUNK):
        rows = await conn.execute(
            select(*_REPORT_COLUMNS).where(
                workdays.c.portal_id == portal_id,
                workdays.c.user_id.in_(ids[at : at + _CHUNK]),
                workdays.c.started_at >= first,
                workdays.c.started_at < last,
            )
        )
        for row in rows:
            start = _moment(row.started_at)
            if row.finished_at is None:
                raw = json.loads(row.breaks)
                day = Workday(start, row.tz_offset, row.zone, None, _breaks_in(raw), row.active)
                still_open.append(StoredDay(row.id, row.user_id, day))
            else:
                closed.append(
                    ClosedDay(
                        row.id,
                        row.user_id,
                        start,
                        _moment(row.finished_at),
                        row.tz_offset,
                        row.active,
                        row.duration,
                        row.break_length,
                    )
                )
    return closed, still_open


def _raw(name: str) -> Any:
    """A column without its type's conversion (see :func:`_moment`)."""
    return type_coerce(workdays.c[name], String).label(name)


_REPORT_COLUMNS = (
    *(workdays.c[name] for name in ("id", "user_id", "tz_offset", "zone", "active")),
    *(workdays.c[name] for name in ("duration", "break_length")),
    _raw("started_at"),
    _raw("finished_at"),
    # Only a day still open needs its breaks; as text, which PostgreSQL's driver
    # would otherwise decode for every row.
    case((workdays.c.finished_at.is_(None), cast(workdays.c.breaks, Text)), else_=None).label(
        "breaks"
    ),
)


def _moment(value: Any) -> datetime:
    """A stored naive UTC moment: SQLite's text, or PostgreSQL's datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


async def put_settings(conn: AsyncConnection, portal_id: int, user_id: int, **changes: Any) -> None:
    """Store overrides (``None`` values are left as they are)."""
    values = {k: v for k, v in changes.items() if v is not None and k in _SETTING_COLUMNS}
    if not values:
        return
    result = await conn.execute(
        update(timeman_settings)
        .where(timeman_settings.c.portal_id == portal_id, timeman_settings.c.user_id == user_id)
        .values(**values)
    )
    if result.rowcount == 0:
        await conn.execute(
            timeman_settings.insert().values(portal_id=portal_id, user_id=user_id, **values)
        )


async def all_days(conn: AsyncConnection, portal_id: int) -> list[StoredDay]:
    """Every workday of the portal, oldest first."""
    rows = await conn.execute(
        select(workdays).where(workdays.c.portal_id == portal_id).order_by(workdays.c.id)
    )
    return [_day(row) for row in rows]


async def stored_settings(conn: AsyncConnection, portal_id: int) -> dict[int, dict[str, Any]]:
    """The overrides as stored, by user (:data:`PORTAL_DEFAULTS` for the portal's),
    without those left to inherit."""
    rows = await conn.execute(
        select(timeman_settings)
        .where(timeman_settings.c.portal_id == portal_id)
        .order_by(timeman_settings.c.user_id)
    )
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = {name: row._mapping[name] for name in _SETTING_COLUMNS}
        found[row.user_id] = {k: v for k, v in values.items() if v is not None}
    return found
