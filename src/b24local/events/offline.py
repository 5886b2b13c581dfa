"""Offline events as :func:`~b24local.events.raising.raise_event` records them: a row in
the application's queue, and an ``ONOFFLINEEVENT`` notification to the application's
online handler of it, at most one per ``minTimeout`` seconds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.rest.params import php_int
from b24local.store import events as store
from b24local.store import offline as queues
from b24local.store.tables import event_deliveries

NOTIFICATION = "ONOFFLINEEVENT"
#: The real ``EventOfflineTable::OFFLINE_EVENT_DEFAULT_TIMEOUT``.
DEFAULT_MIN_TIMEOUT = 1
#: A longer window (a century) is the same as never again, and stays within dates.
MAX_MIN_TIMEOUT = 100 * 365 * 86400


def message_id(event: str, data: Any) -> str:
    """The real key of a queued event: the same event with the same data is the same
    message (``md5(EVENT_NAME|json(EVENT_DATA))``), which is what lets a repeat
    refresh the queued row instead of adding one."""
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.md5(f"{event.upper()}|{encoded}".encode()).hexdigest()


async def queue(
    conn: AsyncConnection,
    handler: store.Handler,
    name: str,
    data: dict[str, Any],
    *,
    now: datetime,
    actor_id: int | None,
) -> None:
    """Queue the event for the offline handler's application, in its connector's queue."""
    assert handler.app_id is not None
    await queues.merge(
        conn,
        queues.Queue(handler.portal_id, handler.app_id, handler.connector),
        event=name,
        data=data,
        message_id=message_id(name, data),
        user_id=actor_id,
        now=now,
    )


def min_timeout(options: dict[str, Any]) -> int:
    given = php_int(options["minTimeout"]) if "minTimeout" in options else DEFAULT_MIN_TIMEOUT
    return min(given, MAX_MIN_TIMEOUT)


async def notify(
    conn: AsyncConnection,
    portal_id: int,
    app_ids: Iterable[int],
    *,
    now: datetime,
    actor_id: int | None,
) -> None:
    """Tell each application whose queue grew, through its ONOFFLINEEVENT handlers.

    As the real ``checkSendTime``: a handler notified less than ``minTimeout`` seconds
    ago is not notified again (the notification is dropped, not postponed); with 0 or
    less, once per call, which here is once per moment of the clock."""
    apps = set(app_ids)
    for handler in await store.handlers_for(conn, portal_id, NOTIFICATION):
        if handler.offline or handler.app_id not in apps:
            continue
        timeout = min_timeout(handler.options)
        since = now - timedelta(seconds=timeout) if timeout > 0 else now
        if await _notified_since(conn, handler.id, since, inclusive=timeout <= 0):
            continue
        await store.enqueue(
            conn,
            portal_id,
            event=NOTIFICATION,
            handler_url=handler.handler,
            data={},
            now=now,
            handler_id=handler.id,
            app_id=handler.app_id,
            auth_user_id=handler.auth_type or actor_id,
        )


async def _notified_since(
    conn: AsyncConnection, handler_id: int, since: datetime, *, inclusive: bool
) -> bool:
    raised = event_deliveries.c.raised_at
    query = select(event_deliveries.c.id).where(
        event_deliveries.c.handler_id == handler_id,
        event_deliveries.c.event == NOTIFICATION,
        raised >= since if inclusive else raised > since,
    )
    return (await conn.execute(query.limit(1))).first() is not None
