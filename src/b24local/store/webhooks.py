"""Incoming webhooks: a user, a secret code (stored hashed) and the scopes it grants."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import Webhook

from . import credentials
from .snapshot import Reads, cached
from .tables import webhooks


def _webhook(row) -> Webhook:
    return Webhook(
        id=row.id,
        portal_id=row.portal_id,
        user_id=row.user_id,
        scopes=credentials.scopes_from(row.scopes),
        title=row.title,
        active=row.active,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


async def add(
    conn: AsyncConnection,
    portal_id: int,
    user_id: int,
    scopes: Iterable[str],
    *,
    now: datetime,
    title: str = "",
    expires_at: datetime | None = None,
    code: str | None = None,
    code_hash: str | None = None,
    webhook_id: int | None = None,
) -> tuple[Webhook, str]:
    """Create a webhook; returns it with its code, which is never readable again.
    A state file may fix the ``code`` (or only its ``code_hash``, when it was
    exported: then the code returned is empty) and the ID."""
    if code_hash is None:
        code = code or credentials.new_code()
        code_hash = credentials.digest(code)
    fixed = {} if webhook_id is None else {"id": webhook_id}
    result = await conn.execute(
        webhooks.insert()
        .values(
            **fixed,
            portal_id=portal_id,
            user_id=user_id,
            code_hash=code_hash,
            scopes=credentials.scopes_text(scopes),
            title=title,
            active=True,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(*webhooks.c)
    )
    return _webhook(result.one()), code or ""


_BY_CODE = cached(
    select(webhooks).where(webhooks.c.code_hash == bindparam("code_hash")), Reads("webhooks")
)


async def find(conn: AsyncConnection, portal_id: int, user_id: int, code: str) -> Webhook | None:
    """The webhook of ``user_id`` with this code in this portal, if any."""
    wanted = credentials.digest(code)
    row = (await conn.execute(_BY_CODE, {"code_hash": wanted})).first()
    if row is None or not credentials.same(row.code_hash, wanted):
        return None
    if row.portal_id != portal_id or row.user_id != user_id:
        return None
    return _webhook(row)


async def list_all(conn: AsyncConnection, portal_id: int) -> list[Webhook]:
    rows = await conn.execute(
        select(webhooks).where(webhooks.c.portal_id == portal_id).order_by(webhooks.c.id)
    )
    return [_webhook(row) for row in rows]


async def code_hashes(conn: AsyncConnection, portal_id: int) -> dict[int, str]:
    """Each webhook's code hash, by ID (export: the code itself is not kept)."""
    rows = await conn.execute(
        select(webhooks.c.id, webhooks.c.code_hash).where(webhooks.c.portal_id == portal_id)
    )
    return {row.id: row.code_hash for row in rows}


async def remove(conn: AsyncConnection, portal_id: int, webhook_id: int) -> bool:
    result = await conn.execute(
        delete(webhooks).where(webhooks.c.portal_id == portal_id, webhooks.c.id == webhook_id)
    )
    return result.rowcount > 0
