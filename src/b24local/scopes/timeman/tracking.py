"""The one path from a change of presence or workday to time control's records.

Every change that can start or end an absence (``im.user.status.set``,
``idle.start``/``idle.end``, ``timeman.open/pause/close``) calls :func:`observe`
after storing itself, in the same transaction; the rules in :mod:`.absences`
decide, from the state now, whether the open absence ends and a new one begins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.store import presence as presence_store
from b24local.store import timecontrol as store
from b24local.store import workdays

from . import absences

#: ``source_start``/``source_finish``: what made a record begin or end.
IDLE_EVENT = "IDLE_EVENT"
ONLINE_EVENT = "ONLINE_EVENT"
TM_EVENT = "TM_EVENT"


async def observe(
    conn: AsyncConnection, portal_id: int, user_id: int, now: datetime, *, source: str, ip: str
) -> None:
    """Open or close the user's absence record to match their presence and day now."""
    settings = await store.get_settings(conn, portal_id)
    running, floor = await store.last_absences(conn, portal_id, user_id)
    if running is None and not settings.active:
        return
    presence = await presence_store.get(conn, portal_id, user_id)
    stored = await workdays.latest(conn, portal_id, user_id)
    day = stored.day if stored else None
    start = running.start if running else None
    plan = absences.sync(start, presence, day, now, settings, floor)
    if running is not None and plan.close_at is not None:
        await store.finish(
            conn,
            portal_id,
            running.id,
            at=plan.close_at,
            source=source,
            ip=ip,
        )
    if plan.open_from is not None and stored is not None:
        await store.add(
            conn,
            portal_id,
            user_id=user_id,
            workday_id=stored.id,
            type="IDLE",
            start=plan.open_from,
            finish=None,
            source=source,
            ip=ip,
        )


async def workday_changed(
    conn: AsyncConnection,
    portal_id: int,
    user_id: int,
    workday_id: int,
    *,
    action: str,
    at: datetime,
    now: datetime,
    ip: str,
) -> None:
    """Mark a workday change (with where it was made from), then re-check absences."""
    kind = absences.TM_TYPES.get(action)
    if kind is not None and (await store.get_settings(conn, portal_id)).active:
        await store.add(
            conn,
            portal_id,
            user_id=user_id,
            workday_id=workday_id,
            type=kind,
            start=at,
            finish=at,
            source=TM_EVENT,
            ip=ip,
        )
    await observe(conn, portal_id, user_id, now, source=TM_EVENT, ip=ip)
