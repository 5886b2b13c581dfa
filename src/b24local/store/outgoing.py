"""Outgoing webhooks: a handler URL, the events it hears (``event_handlers`` rows
with ``hook_id``), and the application token the handler receives with each."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from . import events
from .tables import event_handlers, outgoing_webhooks


@dataclass(frozen=True, slots=True)
class OutgoingWebhook:
    id: int
    portal_id: int
    user_id: int
    handler: str
    application_token: str
    title: str
    events: tuple[str, ...]
    created_at: datetime


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    user_id: int,
    handler: str,
    event_names: Sequence[str],
    now: datetime,
    title: str = "",
) -> OutgoingWebhook:
    """The webhook and one subscription per event (names kept in upper case)."""
    token = secrets.token_hex(16)
    hook_id = (
        await conn.execute(
            insert(outgoing_webhooks)
            .values(
                portal_id=portal_id,
                user_id=user_id,
                handler=handler,
                application_token=token,
                title=title,
                created_at=now,
            )
            .returning(outgoing_webhooks.c.id)
        )
    ).scalar_one()
    names = list(dict.fromkeys(name.upper() for name in event_names))
    for name in names:
        await events.add_handler(
            conn, portal_id, event=name, handler=handler, now=now, user_id=user_id,
            hook_id=hook_id,
        )  # fmt: skip
    return OutgoingWebhook(hook_id, portal_id, user_id, handler, token, title, tuple(names), now)


async def list_all(conn: AsyncConnection, portal_id: int) -> list[OutgoingWebhook]:
    hooks = await conn.execute(
        select(outgoing_webhooks)
        .where(outgoing_webhooks.c.portal_id == portal_id)
        .order_by(outgoing_webhooks.c.id)
    )
    subscribed = await conn.execute(
        select(event_handlers.c.hook_id, event_handlers.c.event)
        .where(event_handlers.c.portal_id == portal_id, event_handlers.c.hook_id.is_not(None))
        .order_by(event_handlers.c.id)
    )
    names: dict[int, list[str]] = {}
    for hook_id, event in subscribed:
        names.setdefault(hook_id, []).append(event)
    return [
        OutgoingWebhook(
            row.id,
            row.portal_id,
            row.user_id,
            row.handler,
            row.application_token,
            row.title,
            tuple(names.get(row.id, ())),
            row.created_at,
        )
        for row in hooks
    ]


async def remove(conn: AsyncConnection, portal_id: int, hook_id: int) -> bool:
    """The webhook and its subscriptions (deleted here too: SQLite may not enforce
    the foreign key's cascade)."""
    found = (
        await conn.execute(
            select(outgoing_webhooks.c.id).where(
                outgoing_webhooks.c.portal_id == portal_id, outgoing_webhooks.c.id == hook_id
            )
        )
    ).first()
    if found is None:
        return False
    await conn.execute(delete(event_handlers).where(event_handlers.c.hook_id == hook_id))
    await conn.execute(delete(outgoing_webhooks).where(outgoing_webhooks.c.id == hook_id))
    return True
