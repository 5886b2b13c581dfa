"""Answers kept for REST 3.0's ``Idempotency-Key``: in the database, so that every
process replays the same first answer, and until an expiry on the injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """Whose key it is: one portal, webhook or app, user and method."""

    portal_id: int
    client: str
    user_id: int
    method: str
    key: str

    def where(self):
        return (
            (keys.c.portal_id == self.portal_id)
            & (keys.c.client == self.client)
            & (keys.c.user_id == self.user_id)
            & (keys.c.method == self.method)
            & (keys.c.key == self.key)
        )


@dataclass(frozen=True, slots=True)
class Kept:
    body_hash: str
    answer: str


async def find(conn: AsyncConnection, owner: KeyOwner, now: datetime) -> Kept | None:
    row = (
        await conn.execute(
            select(keys.c.body_hash, keys.c.answer).where(owner.where(), keys.c.expires_at > now)
        )
    ).first()
    return Kept(row.body_hash, row.answer) if row else None


async def keep(
    conn: AsyncConnection,
    owner: KeyOwner,
    body_hash: str,
    answer: str,
    *,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store the first answer. Expired answers (this key's among them) are dropped
    first, through the expiry index: the table holds a day of keys at most. One
    another process stored meanwhile wins (two calls sent at once may both run,
    as on Bitrix24)."""
    await purge(conn, now)
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(keys).values(
                    portal_id=owner.portal_id,
                    client=owner.client,
                    user_id=owner.user_id,
                    method=owner.method,
                    key=owner.key,
                    body_hash=body_hash,
                    answer=answer,
                    expires_at=expires_at,
                )
            )
    except IntegrityError:
        pass


async def purge(conn: AsyncConnection, now: datetime) -> int:
    """Forget every expired answer."""
    result = await conn.execute(delete(keys).where(keys.c.expires_at <= now))
    return result.rowcount or 0
