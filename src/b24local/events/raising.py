"""Raising an event: the one function every change that others may hear about calls."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.store import events as store


async def raise_event(
    conn: AsyncConnection,
    portal_id: int,
    name: str,
    data: dict[str, Any],
    *,
    now: datetime,
    actor_id: int | None = None,
    connector: str = "",
) -> None:
    """Record the event for every handler bound to it, in the caller's transaction.

    ``actor_id`` is the user whose action raised it: an online handler without an
    ``auth_type`` gets a token for that user. ``connector`` is the ``auth_connector``
    of the call that made the change; an offline handler bound with that connector
    does not hear about its own changes.
    """
    handlers = await store.handlers_for(conn, portal_id, name)
    queued_apps: set[int] = set()
    online: list[dict[str, Any]] = []
    message_id = secrets.token_hex(16)
    for handler in handlers:
        if handler.offline:
            if handler.app_id is None or handler.app_id in queued_apps:
                continue
            if handler.connector and handler.connector == connector:
                continue
            queued_apps.add(handler.app_id)
            await store.queue_offline(
                conn,
                portal_id,
                app_id=handler.app_id,
                event=name,
                data=data,
                connector=connector,
                message_id=message_id,
                now=now,
            )
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
