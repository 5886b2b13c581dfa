"""The one path from a change of presence or workday to time control's records.

Every change that can start or end an absence calls in after storing itself, in
the same transaction: presence changes (``im.user.status.set``,
``idle.start``/``idle.end``) :func:`observe`, workday changes
(``timeman.open/pause/close``) :func:`workday_changed`. Both end in one
:func:`_sync`, where the rules of :mod:`.absences` decide, from the state now,
whether the open absence ends and a new one begins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.im.presence import Presence
from b24local.store import presence as presence_store
from b24local.store import timecontrol as store
from b24local.store import workdays
from b24local.store.workdays import StoredDay

from . import absences
from .workday import whole_second

#: ``source_start``/``source_finish``: what made a record begin or end.
IDLE_EVENT = "IDLE_EVENT"
ONLINE_EVENT = "ONLINE_EVENT"
TM_EVENT = "TM_EVENT"


async def observe(
    conn: AsyncConnection,
    portal_id: int,
    user_id: int,
    presence: Presence,
    now: datetime,
    *,
    source: str,
    ip: str,
) -> None:
    """After a presence change (``presence`` as it now is): open or close the user's
    absence record to match."""
    settings = await store.get_settings(conn, portal_id)
    # Off, nothing runs: switching the module off ends the absences going on.
    if not settings.active:
        return
    stored = await workdays.latest(conn, portal_id, user_id)
    await _sync(conn, portal_id, user_id, now, settings, presence, stored, source=source, ip=ip)


async def workday_changed(
    conn: AsyncConnection,
    portal_id: int,
    stored: StoredDay,
    *,
    action: str,
    at: datetime,
    now: datetime,
    ip: str,
) -> None:
    """After a workday change (``stored`` as it now is): mark it, with the address it
    was made from, and open or close the absence record to match."""
    settings = await store.get_settings(conn, portal_id)
    if not settings.active:
        return
    kind = absences.TM_TYPES.get(action)
    if kind is not None:
        await store.add(
            conn,
            portal_id,
            user_id=stored.user_id,
            workday_id=stored.id,
            type=kind,
            start=at,
            finish=at,
            source=TM_EVENT,
            ip=ip,
        )
    presence = await presence_store.get(conn, portal_id, stored.user_id)
    await _sync(
        conn, portal_id, stored.user_id, now, settings, presence, stored, source=TM_EVENT, ip=ip
    )


async def _sync(
    conn: AsyncConnection,
    portal_id: int,
    user_id: int,
    now: datetime,
    settings: absences.ControlSettings,
    presence: Presence,
    stored: StoredDay | None,
    *,
    source: str,
    ip: str,
) -> None:
    # Whole seconds, as the real service keeps its times (and as records compare).
    now = whole_second(now)
    running, floor = await store.last_absences(conn, portal_id, user_id)
    day = stored.day if stored else None
    record_day = day
    if running is not None and (stored is None or running.workday_id != stored.id):
        # The absence began on an earlier day (left to expire): it ends with that day.
        earlier = await workdays.by_id(conn, portal_id, running.workday_id)
        record_day = earlier.day if earlier else None
    start = running.start if running else None
    plan = absences.sync(start, presence, day, now, settings, floor, record_day)
    if running is not None and plan.close_at is not None:
        await store.finish(conn, portal_id, running.id, at=plan.close_at, source=source, ip=ip)
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
