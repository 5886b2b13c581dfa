"""Time control: the portal's settings and its records (absences, workday marks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.timeman.absences import (
    ABSENCE_TYPES,
    ControlSettings,
    Record,
    apply_settings,
)
from b24local.scopes.timeman.workday import Workday

from . import settings as kv
from .snapshot import Reads, cached, prebuilt
from .tables import settings as settings_table
from .tables import timecontrol_records as records
from .tables import workdays
from .workdays import StoredDay, _day

_KEY = "timecontrol"


# Every presence change reads these two: built once, answered from the snapshot
# while nothing changes (as the presence row itself is).
_SETTINGS = cached(
    select(settings_table.c.value).where(
        settings_table.c.portal_id == bindparam("portal_id"), settings_table.c.key == _KEY
    ),
    Reads("settings", "portal_id"),
)
_LAST_ABSENCES = cached(
    select(records)
    .where(
        records.c.portal_id == bindparam("portal_id"),
        records.c.user_id == bindparam("user_id"),
        records.c.type.in_(ABSENCE_TYPES),
    )
    .order_by(records.c.id.desc())
    .limit(2),
    Reads("timecontrol_records", "portal_id", "user_id"),
)


async def get_settings(conn: AsyncConnection, portal_id: int) -> ControlSettings:
    stored = (await conn.execute(_SETTINGS, {"portal_id": portal_id})).scalar()
    return ControlSettings.from_json(stored)


async def change_settings(
    conn: AsyncConnection, portal_id: int, changes: Mapping[str, Any], *, now: datetime
) -> ControlSettings:
    """``settings.set`` (upper-case names): all the changes or, when one is invalid
    (:class:`InvalidSetting`), none. Switching the module off ends the absences
    going on, as nothing watches them any more."""
    current = await get_settings(conn, portal_id)
    changed = apply_settings(current, changes)
    await kv.put(conn, _KEY, changed.to_json(), portal_id)
    if current.active and not changed.active:
        await finish_running(conn, portal_id, at=now)
    return changed


def _record(row: Any) -> Record:
    return Record(
        id=row.id,
        user_id=row.user_id,
        workday_id=row.workday_id,
        type=row.type,
        start=row.started_at,
        finish=row.finished_at,
        source_start=row.source_start,
        source_finish=row.source_finish,
        ip_start=row.ip_start,
        ip_finish=row.ip_finish,
        report_type=row.report_type,
        report_text=row.report_text,
        system_text=row.system_text,
        calendar=row.calendar,
    )


# Built once, each value a parameter of its own: a transition runs one or two of these.
_ADD = prebuilt(
    insert(records).values(
        {column.name: bindparam(column.name) for column in records.c if column.name != "id"}
    )
)
_FINISH = prebuilt(
    update(records)
    .where(records.c.portal_id == bindparam("key_portal"), records.c.id == bindparam("key_id"))
    .values(
        finished_at=bindparam("finished_at"),
        source_finish=bindparam("source_finish"),
        ip_finish=bindparam("ip_finish"),
    )
)


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    user_id: int,
    workday_id: int,
    type: str,
    start: datetime,
    finish: datetime | None,
    source: str,
    ip: str,
) -> None:
    """A new record; a mark (finished when made) ends where it starts, from the same place."""
    await conn.execute(
        _ADD,
        {
            "portal_id": portal_id,
            "user_id": user_id,
            "workday_id": workday_id,
            "type": type,
            "started_at": start,
            "finished_at": finish,
            "source_start": source,
            "source_finish": source if finish is not None else "",
            "ip_start": ip,
            "ip_finish": ip if finish is not None else "",
            "report_type": "NONE",
            "report_text": None,
            "system_text": None,
            "calendar": False,
        },
    )


async def last_absences(
    conn: AsyncConnection, portal_id: int, user_id: int
) -> tuple[Record | None, datetime | None]:
    """The user's absence going on (at most one is ever open), and where the last
    finished one ended."""
    rows = await conn.execute(_LAST_ABSENCES, {"portal_id": portal_id, "user_id": user_id})
    found = [_record(row) for row in rows]
    running = found.pop(0) if found and found[0].finish is None else None
    return running, found[0].finish if found else None


async def _update(conn: AsyncConnection, portal_id: int, record_id: int, **values: Any) -> None:
    await conn.execute(
        update(records)
        .where(records.c.portal_id == portal_id, records.c.id == record_id)
        .values(**values)
    )


async def finish(
    conn: AsyncConnection, portal_id: int, record_id: int, *, at: datetime, source: str, ip: str
) -> None:
    """The absence ends: when, on what event, from which address."""
    values = {"finished_at": at, "source_finish": source, "ip_finish": ip}
    await conn.execute(_FINISH, {"key_portal": portal_id, "key_id": record_id, **values})


async def finish_running(conn: AsyncConnection, portal_id: int, *, at: datetime) -> None:
    """Every absence of the portal going on ends now (time control is switched off)."""
    await conn.execute(
        update(records)
        .where(records.c.portal_id == portal_id, records.c.finished_at.is_(None))
        .values(finished_at=at)
    )


async def get(conn: AsyncConnection, portal_id: int, record_id: int) -> Record | None:
    row = (
        await conn.execute(
            select(records).where(records.c.portal_id == portal_id, records.c.id == record_id)
        )
    ).first()
    return _record(row) if row else None


async def put_report(
    conn: AsyncConnection,
    portal_id: int,
    record_id: int,
    *,
    report_type: str,
    text: str,
    calendar: bool,
) -> None:
    """The user's explanation of an absence (the last one stands)."""
    await _update(
        conn, portal_id, record_id, report_type=report_type, report_text=text, calendar=calendar
    )


async def month(
    conn: AsyncConnection, portal_id: int, user_id: int, first: datetime, last: datetime
) -> tuple[list[tuple[int, Workday]], list[Record]]:
    """The user's days started within [first, last] that time control recorded,
    and their records."""
    rows = (
        await conn.execute(
            select(records)
            .join(workdays, and_(workdays.c.id == records.c.workday_id))
            .where(
                records.c.portal_id == portal_id,
                records.c.user_id == user_id,
                workdays.c.started_at >= first,
                workdays.c.started_at <= last,
            )
            .order_by(records.c.id)
        )
    ).all()
    found = [_record(row) for row in rows]
    ids = sorted({r.workday_id for r in found})
    days: list[StoredDay] = []
    if ids:
        day_rows = await conn.execute(
            select(workdays).where(workdays.c.portal_id == portal_id, workdays.c.id.in_(ids))
        )
        days = [_day(row) for row in day_rows]
    return [(d.id, d.day) for d in days], found


async def absences_between(
    conn: AsyncConnection,
    portal_id: int,
    user_ids: Sequence[int],
    first: datetime,
    last: datetime,
) -> list[Record]:
    """The people's absences that began within [first, last), oldest first; read
    through the (portal, user, start) index."""
    ids = sorted(set(user_ids))
    found: list[Record] = []
    for at in range(0, len(ids), _CHUNK):
        rows = await conn.execute(
            select(records).where(
                records.c.portal_id == portal_id,
                records.c.user_id.in_(ids[at : at + _CHUNK]),
                records.c.started_at >= first,
                records.c.started_at < last,
                records.c.type.in_(ABSENCE_TYPES),
            )
        )
        found.extend(_record(row) for row in rows)
    found.sort(key=lambda record: (record.start, record.id))
    return found


#: IDs per ``IN (...)``: within every driver's limit on parameters.
_CHUNK = 5_000
