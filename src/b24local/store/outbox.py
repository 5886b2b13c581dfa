"""The outbox as the sender sees it: rows that are due, claiming one, and recording
what came of an attempt. The table is the queue: nothing about a delivery lives
only in memory, so a restart loses none."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import App

from .apps import _app
from .tables import apps, event_deliveries, outgoing_webhooks

#: The longest answer body kept on a row: enough to read an error page's gist.
ANSWER_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    portal_id: int
    handler_id: int | None
    app_id: int | None
    hook_id: int | None
    event: str
    handler_url: str
    data: Any
    auth_user_id: int | None
    raised_at: datetime
    due_at: datetime
    attempts: int
    state: str
    #: What the row was written with (an uninstalled app's token), then the form sent.
    payload: Any = None


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row.id,
        row.portal_id,
        row.handler_id,
        row.app_id,
        row.hook_id,
        row.event,
        row.handler_url,
        row.data,
        row.auth_user_id,
        row.raised_at,
        row.due_at,
        row.attempts,
        row.state,
        row.payload,
    )


async def due(
    conn: AsyncConnection,
    now: datetime | None,
    *,
    limit: int,
    skip_urls: Collection[str] = (),
    only_urls: Collection[str] | None = None,
) -> list[Delivery]:
    """Pending rows due at ``now`` (every pending row with None), oldest due first,
    but none for the handler URLs in ``skip_urls`` (busy or paused), and (given
    ``only_urls``) only for those URLs. The rows are
    chosen from the (state, due_at, handler_url) index alone: a handler that never
    answers may leave thousands due, and reading each of them to skip it would
    cost every poll that much."""
    c = event_deliveries.c
    chosen = select(c.id).where(c.state == "pending")
    if now is not None:
        chosen = chosen.where(c.due_at <= now)
    if skip_urls:
        chosen = chosen.where(c.handler_url.not_in(list(skip_urls)))
    if only_urls is not None:
        if not only_urls:
            return []
        chosen = chosen.where(c.handler_url.in_(list(only_urls)))
    ids = list((await conn.execute(chosen.order_by(c.due_at, c.id).limit(limit))).scalars())
    if not ids:
        return []
    rows = await conn.execute(select(event_deliveries).where(c.id.in_(ids)))
    return sorted((_delivery(row) for row in rows), key=lambda d: (d.due_at, d.id))


async def claim(conn: AsyncConnection, delivery: Delivery, *, until: datetime) -> bool:
    """Take the row for one attempt: it counts the attempt and moves ``due_at`` to
    ``until``, so that another process skips it while it is in flight, and sends it
    again if this one dies before recording the result (the row is due again then).
    False if someone else took it first."""
    done = await conn.execute(
        update(event_deliveries)
        .where(
            event_deliveries.c.id == delivery.id,
            event_deliveries.c.state == "pending",
            event_deliveries.c.attempts == delivery.attempts,
        )
        .values(attempts=delivery.attempts + 1, due_at=until)
    )
    return bool(done.rowcount)


async def record(
    conn: AsyncConnection,
    delivery_id: int,
    *,
    claimed: int,
    state: str,
    due_at: datetime | None = None,
    status: int | None = None,
    answer: str | None = None,
    error: str | None = None,
    delivered_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """What one attempt came to; ``payload`` is the decoded form that was posted.

    Written only while the row is still the one this attempt claimed (pending, its
    ``attempts`` the ``claimed`` count): a dev API reset or snapshot restore during
    the attempt may have put back another row under the same ID, which an attempt
    it never saw must not mark delivered. False if nothing was written."""
    values: dict[str, Any] = {
        "state": state,
        "last_status": status,
        "last_answer": None if answer is None else _text(answer[:ANSWER_LIMIT]),
        "last_error": None if error is None else _text(error),
        "delivered_at": delivered_at,
    }
    if due_at is not None:
        values["due_at"] = due_at
    if payload is not None:
        values["payload"] = payload
    done = await conn.execute(
        update(event_deliveries)
        .where(
            event_deliveries.c.id == delivery_id,
            event_deliveries.c.state == "pending",
            event_deliveries.c.attempts == claimed,
        )
        .values(**values)
    )
    return bool(done.rowcount)


def _text(value: str) -> str:
    """A handler's answer (or an error quoting it) as a text column can hold it:
    PostgreSQL refuses NUL."""
    return value.replace("\x00", "\ufffd")


async def listing(
    conn: AsyncConnection,
    *,
    event: str | None = None,
    state: str | None = None,
    after: int = 0,
    attempted: bool = False,
    limit: int = 500,
    before: int | None = None,
    newest: bool = False,
    portal_id: int | None = None,
) -> list[dict[str, Any]]:
    """Rows for the dev API, oldest first; ``after`` an ID, for waiting on new ones;
    ``attempted``: only rows with an attempt over (delivered, failed or retrying).
    The administration page reads one portal's, ``newest`` first, ``before`` an ID."""
    query = select(event_deliveries).where(event_deliveries.c.id > after)
    if before is not None:
        query = query.where(event_deliveries.c.id < before)
    if portal_id is not None:
        query = query.where(event_deliveries.c.portal_id == portal_id)
    if attempted:
        query = query.where(
            (event_deliveries.c.state != "pending") | event_deliveries.c.last_error.is_not(None)
        )
    if event:
        query = query.where(event_deliveries.c.event == event.upper())
    if state:
        query = query.where(event_deliveries.c.state == state)
    order = event_deliveries.c.id.desc() if newest else event_deliveries.c.id
    rows = await conn.execute(query.order_by(order).limit(limit))
    return [dict(row._mapping) for row in rows]


async def app_of(conn: AsyncConnection, portal_id: int, app_id: int) -> tuple[App, str] | None:
    """The application a delivery is for, with the token its events carry. An app
    installed before it had one gets it now (the first event it is sent)."""
    row = (
        await conn.execute(select(apps).where(apps.c.portal_id == portal_id, apps.c.id == app_id))
    ).first()
    if row is None:
        return None
    token = row.application_token
    if not token:
        token = secrets.token_hex(16)
        await conn.execute(
            update(apps)
            .where(apps.c.portal_id == portal_id, apps.c.id == app_id)
            .values(application_token=token)
        )
    return _app(row), token


async def hook_token(conn: AsyncConnection, hook_id: int) -> str | None:
    row = (
        await conn.execute(
            select(outgoing_webhooks.c.application_token).where(outgoing_webhooks.c.id == hook_id)
        )
    ).first()
    return None if row is None else str(row.application_token)
