"""Application options: one JSON object per application (``user_id`` 0) and per
application and user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.common.options import decode, encode

from .tables import app_options

#: The ``user_id`` of an application's own options.
APP_WIDE = 0


def _where(portal_id: int, app_id: int, user_id: int):
    c = app_options.c
    return (c.portal_id == portal_id, c.app_id == app_id, c.user_id == user_id)


async def get(conn: AsyncConnection, portal_id: int, app_id: int, user_id: int) -> dict[str, Any]:
    found = await conn.execute(
        select(app_options.c.data).where(*_where(portal_id, app_id, user_id))
    )
    return decode(found.scalar())


async def put(
    conn: AsyncConnection, portal_id: int, app_id: int, user_id: int, options: dict[str, Any]
) -> None:
    """Store ``options`` as the whole set (the caller merged them)."""
    data = encode(options).decode()
    where = _where(portal_id, app_id, user_id)
    done = await conn.execute(update(app_options).where(*where).values(data=data))
    if done.rowcount:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(app_options).values(
                    portal_id=portal_id, app_id=app_id, user_id=user_id, data=data
                )
            )
    except IntegrityError:
        # Another call created the row meanwhile: the later write wins, as with
        # the real module's option storage.
        await conn.execute(update(app_options).where(*where).values(data=data))


async def all_of(conn: AsyncConnection, portal_id: int, app_id: int) -> dict[int, dict[str, Any]]:
    """Every options row of an application, by user (:data:`APP_WIDE` for its own)."""
    rows = await conn.execute(
        select(app_options.c.user_id, app_options.c.data)
        .where(app_options.c.portal_id == portal_id, app_options.c.app_id == app_id)
        .order_by(app_options.c.user_id)
    )
    return {row.user_id: decode(row.data) for row in rows}
