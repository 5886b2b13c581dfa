"""Key-value settings; portal 0 holds the server-wide ones."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import settings

SERVER = 0


async def get(conn: AsyncConnection, key: str, portal_id: int = SERVER) -> str | None:
    return (
        await conn.execute(
            select(settings.c.value).where(settings.c.portal_id == portal_id, settings.c.key == key)
        )
    ).scalar()


async def put(conn: AsyncConnection, key: str, value: str, portal_id: int = SERVER) -> None:
    result = await conn.execute(
        update(settings)
        .where(settings.c.portal_id == portal_id, settings.c.key == key)
        .values(value=value)
    )
    if result.rowcount == 0:
        await conn.execute(settings.insert().values(portal_id=portal_id, key=key, value=value))
