"""The offline queues: one per application and ``auth_connector``, read and cleared by
``event.offline.*``.

A row not reserved by any reader has ``process_id`` NULL (the real table's empty
string); the methods speak of it as ``""``. The queue keeps the latest state of an
object, not its history: a new event with the same ``message_id`` replaces the data
and time of the unreserved row instead of adding one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import UnaryExpression

from .idlists import any_of, chunks
from .tables import offline_events as table
from .types import storable

#: The real ``PROCESS_ID_LIFETIME`` (2,952,000 s, some 34 days; the pages say 30):
#: how long a reserved row waits for its process before the clean-up drops it.
RESERVATION_LIFETIME = timedelta(seconds=2_952_000)


@dataclass(frozen=True, slots=True)
class Queue:
    """Whose queue: an application's, in one portal, for one ``auth_connector``."""

    portal_id: int
    app_id: int
    connector: str

    def rows(self) -> list[ColumnElement[bool]]:
        return [
            table.c.portal_id == self.portal_id,
            table.c.app_id == self.app_id,
            table.c.connector == self.connector,
        ]


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    created_at: datetime
    event: str
    data: Any
    user_id: int | None
    message_id: str
    process_id: str
    error: bool


def _queued(row: Any) -> Queued:
    return Queued(
        row.id,
        row.created_at,
        row.event,
        row.data,
        row.user_id,
        row.message_id,
        row.process_id or "",
        bool(row.error),
    )


def held_by(process_id: str) -> ColumnElement[bool]:
    """Rows of a process; ``""`` is the unreserved rows, as in the real table."""
    return table.c.process_id.is_(None) if process_id == "" else table.c.process_id == process_id


async def merge(
    conn: AsyncConnection,
    queue: Queue,
    *,
    event: str,
    data: dict[str, Any],
    message_id: str,
    user_id: int | None,
    now: datetime,
) -> int:
    """Queue an event, or refresh the unreserved row with the same ``message_id``."""
    same = [*queue.rows(), table.c.message_id == message_id, held_by("")]
    found = (await conn.execute(select(table.c.id).where(*same).limit(1))).first()
    if found is not None:
        await conn.execute(
            update(table)
            .where(table.c.id == found.id)
            .values(data=data, user_id=user_id, created_at=now)
        )
        return int(found.id)
    row = (
        await conn.execute(
            insert(table)
            .values(
                portal_id=queue.portal_id,
                app_id=queue.app_id,
                event=event.upper(),
                data=data,
                connector=queue.connector,
                message_id=message_id,
                process_id=None,
                error=False,
                created_at=now,
                user_id=user_id,
            )
            .returning(table.c.id)
        )
    ).one()
    return int(row.id)


async def reserve(
    conn: AsyncConnection,
    queue: Queue,
    process_id: str,
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[UnaryExpression[Any]],
    limit: int,
) -> None:
    """Mark the first ``limit`` unreserved rows matching ``conditions`` as the process's."""
    chosen = (
        select(table.c.id)
        .where(*queue.rows(), held_by(""), *conditions)
        .order_by(*order)
        .limit(limit)
    )
    ids = [row.id for row in await conn.execute(chosen)]
    if ids:
        # Re-checked under the row locks: a parallel reader that took a row first keeps
        # it, so two readers never hand out the same row.
        taken = update(table).where(table.c.id.in_(ids), held_by(""))
        await conn.execute(taken.values(process_id=process_id))


async def find(
    conn: AsyncConnection,
    queue: Queue,
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[UnaryExpression[Any]],
    *,
    limit: int,
    offset: int = 0,
    count: bool = False,
) -> tuple[list[Queued], int | None]:
    """Rows of the queue, and with ``count`` how many match in all."""
    where = [*queue.rows(), *conditions]
    rows = await conn.execute(
        select(table).where(*where).order_by(*order).offset(offset).limit(limit)
    )
    found = [_queued(row) for row in rows]
    total = None
    if count:
        total = (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar()
    return found, total


async def clear(
    conn: AsyncConnection,
    queue: Queue,
    process_id: str,
    *,
    ids: Sequence[int] | None = None,
    message_ids: Sequence[str] | None = None,
) -> None:
    """Delete a process's rows: all of them, or those with the IDs or message IDs."""
    query = delete(table).where(*queue.rows(), held_by(process_id))
    if ids is not None:
        # An ID past the column's range is no row's; integers go inline when many.
        kept = list(dict.fromkeys(i for i in ids if storable(i)))
        if not kept:
            return
        query = query.where(any_of(table.c.id, kept))
    if message_ids is None:
        await conn.execute(query)
        return
    # A query takes at most 32,767 arguments on PostgreSQL: long lists go in parts.
    for part in chunks(list(dict.fromkeys(message_ids))):
        await conn.execute(query.where(table.c.message_id.in_(part)))


async def mark_error(
    conn: AsyncConnection, queue: Queue, process_id: str, message_ids: Sequence[str]
) -> None:
    """What the real ``markError`` does with these message IDs: the process's rows become
    error rows, unreserved again; other non-error rows with them (a newer unreserved
    repeat, another process's copy) are dropped; existing error rows stay. Each
    message is handled on its own, so a long list goes in parts."""
    for part in chunks(list(dict.fromkeys(message_ids))):
        await _mark_error(conn, queue, process_id, part)


async def _mark_error(
    conn: AsyncConnection, queue: Queue, process_id: str, message_ids: Sequence[str]
) -> None:
    same = [*queue.rows(), table.c.message_id.in_(list(message_ids))]
    others = func.coalesce(table.c.process_id, "") != process_id
    await conn.execute(delete(table).where(*same, table.c.error.is_(False), others))
    marked = [*same, table.c.error.is_(False), held_by(process_id)]
    # The real table is unique on (message, app, connector, process): an older error
    # row with the same message gives way to the one marked now.
    becoming = select(table.c.message_id).where(*marked)
    await conn.execute(
        delete(table).where(
            *same, table.c.error.is_(True), held_by(""), table.c.message_id.in_(becoming)
        )
    )
    await conn.execute(update(table).where(*marked).values(error=True, process_id=None))


def abandoned(now: datetime) -> ColumnElement[bool]:
    """Rows reserved so long ago that the real clean-up agent would have dropped them."""
    return table.c.process_id.is_not(None) & (table.c.created_at < now - RESERVATION_LIFETIME)


async def drop_abandoned(conn: AsyncConnection, queue: Queue, now: datetime) -> None:
    """The clean-up, done for a queue when it is next written to rather than by a timer."""
    await conn.execute(delete(table).where(*queue.rows(), abandoned(now)))
