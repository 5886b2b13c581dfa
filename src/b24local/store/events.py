"""Event handlers, the delivery outbox and the offline queues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import event_deliveries, event_handlers


@dataclass(frozen=True, slots=True)
class Handler:
    id: int
    portal_id: int
    app_id: int | None
    hook_id: int | None
    event: str
    handler: str
    auth_type: int
    user_id: int
    offline: bool
    connector: str
    options: dict[str, Any]
    created_at: datetime


def _handler(row: Any) -> Handler:
    return Handler(
        row.id,
        row.portal_id,
        row.app_id,
        row.hook_id,
        row.event,
        row.handler,
        row.auth_type,
        row.user_id,
        row.offline,
        row.connector,
        dict(row.options or {}),
        row.created_at,
    )


async def add_handler(
    conn: AsyncConnection,
    portal_id: int,
    *,
    event: str,
    handler: str,
    now: datetime,
    user_id: int,
    app_id: int | None = None,
    hook_id: int | None = None,
    auth_type: int = 0,
    offline: bool = False,
    connector: str = "",
    options: dict[str, Any] | None = None,
) -> Handler:
    """Subscribe a handler; ``event`` is kept in upper case, as the real service keeps it."""
    row = (
        await conn.execute(
            insert(event_handlers)
            .values(
                portal_id=portal_id,
                app_id=app_id,
                hook_id=hook_id,
                event=event.upper(),
                handler=handler,
                auth_type=auth_type,
                user_id=user_id,
                offline=offline,
                connector=connector,
                options=options or {},
                created_at=now,
            )
            .returning(*event_handlers.c)
        )
    ).one()
    return _handler(row)


#: Built once: every write that raises an event runs it (building a statement per
#: call costs more than running it).
_HANDLERS_FOR = (
    select(event_handlers)
    .where(
        event_handlers.c.portal_id == bindparam("portal_id"),
        event_handlers.c.event == bindparam("event"),
    )
    .order_by(event_handlers.c.id)
)


async def handlers_for(conn: AsyncConnection, portal_id: int, event: str) -> list[Handler]:
    """Every handler of the event in the portal, oldest first."""
    rows = await conn.execute(_HANDLERS_FOR, {"portal_id": portal_id, "event": event.upper()})
    return [_handler(row) for row in rows]


async def handlers_of_app(
    conn: AsyncConnection, portal_id: int, app_id: int, *, user_id: int | None = None
) -> list[Handler]:
    """An application's handlers; with ``user_id``, only those that user bound."""
    query = select(event_handlers).where(
        event_handlers.c.portal_id == portal_id, event_handlers.c.app_id == app_id
    )
    if user_id is not None:
        query = query.where(event_handlers.c.user_id == user_id)
    rows = await conn.execute(query.order_by(event_handlers.c.id))
    return [_handler(row) for row in rows]


async def remove_handlers(conn: AsyncConnection, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    done = await conn.execute(delete(event_handlers).where(event_handlers.c.id.in_(list(ids))))
    return int(done.rowcount or 0)


async def remove_app_handlers(conn: AsyncConnection, portal_id: int, app_id: int) -> int:
    """What uninstalling or updating an application does to its subscriptions."""
    done = await conn.execute(
        delete(event_handlers).where(
            event_handlers.c.portal_id == portal_id, event_handlers.c.app_id == app_id
        )
    )
    return int(done.rowcount or 0)


# --- the outbox -------------------------------------------------------------------------------


async def enqueue(
    conn: AsyncConnection,
    portal_id: int,
    *,
    event: str,
    handler_url: str,
    data: dict[str, Any],
    now: datetime,
    handler_id: int | None = None,
    app_id: int | None = None,
    hook_id: int | None = None,
    auth_user_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """One delivery, due at once; it becomes visible to the sender when the caller's
    transaction commits, and not at all if it rolls back. ``payload`` seeds what the
    sender cannot look up later (an uninstalled app's ``auth``)."""
    values = delivery_row(
        portal_id, event=event, handler_url=handler_url, data=data, now=now,
        handler_id=handler_id, app_id=app_id, hook_id=hook_id, auth_user_id=auth_user_id,
        payload=payload,
    )  # fmt: skip
    row = (
        await conn.execute(insert(event_deliveries).values(values).returning(event_deliveries.c.id))
    ).one()
    return int(row.id)


#: One statement for all of an event's deliveries (executemany), built once.
_ENQUEUE = insert(event_deliveries)


def delivery_row(
    portal_id: int,
    *,
    event: str,
    handler_url: str,
    data: dict[str, Any],
    now: datetime,
    handler_id: int | None = None,
    app_id: int | None = None,
    hook_id: int | None = None,
    auth_user_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of one pending delivery, due at once (for :func:`enqueue` and
    :func:`enqueue_many`)."""
    return {
        "portal_id": portal_id,
        "handler_id": handler_id,
        "app_id": app_id,
        "hook_id": hook_id,
        "event": event.upper(),
        "handler_url": handler_url,
        "data": data,
        "auth_user_id": auth_user_id,
        "raised_at": now,
        "due_at": now,
        "attempts": 0,
        "state": "pending",
        "last_status": None,
        "last_answer": None,
        "last_error": None,
        "delivered_at": None,
        "payload": payload,
    }


async def enqueue_many(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Several deliveries (:func:`delivery_row`) in one statement: what raising an
    event with many handlers costs stays about one insert."""
    if rows:
        await conn.execute(_ENQUEUE, list(rows))
