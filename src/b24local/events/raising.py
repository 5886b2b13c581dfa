"""Raising an event: the one function every change that others may hear about calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.store import events as store

from . import offline


async def raise_event(
    conn: AsyncConnection,
    portal_id: int,
    name: str,
    data: dict[str, Any],
    *,
    now: datetime,
    actor_id: int | None = None,
    connector: str = "",
    app_id: int | None = None,
) -> None:
    """Record the event for every handler bound to it, in the caller's transaction.

    ``actor_id`` is the user whose action raised it: an online handler without an
    ``auth_type`` gets a token for that user. ``app_id`` and ``connector`` are the
    application and ``auth_connector`` of the call that made the change: an offline
    handler does not hear its own application's changes made through its own
    connector; without a connector nothing breaks that cycle (offline-events.md).
    """
    handlers = await store.handlers_for(conn, portal_id, name)
    # One row per application and connector queue, however many handlers lead there.
    queued: set[tuple[int, str]] = set()
    online: list[dict[str, Any]] = []
    for handler in handlers:
        if handler.offline:
            if handler.app_id is None or (handler.app_id, handler.connector) in queued:
                continue
            if app_id == handler.app_id and handler.connector and handler.connector == connector:
                continue
            queued.add((handler.app_id, handler.connector))
            await offline.queue(conn, handler, name, data, now=now, actor_id=actor_id)
            continue
        auth_user = None
        if handler.app_id is not None:
            auth_user = handler.auth_type or actor_id
        online.append(
            store.delivery_row(
                portal_id,
                event=name,
                handler_url=handler.handler,
                data=data,
                now=now,
                handler_id=handler.id,
                app_id=handler.app_id,
                hook_id=handler.hook_id,
                auth_user_id=auth_user,
            )
        )
    await store.enqueue_many(conn, online)
    if queued:
        apps = {app_id for app_id, _connector in queued}
        await offline.notify(conn, portal_id, apps, now=now, actor_id=actor_id)
