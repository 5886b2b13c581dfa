"""Log-ins to the OAuth page: a cookie's secret (stored hashed) and whose it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from . import credentials
from .tables import login_sessions


async def start(
    conn: AsyncConnection, portal_id: int, user_id: int, *, now: datetime, expires_at: datetime
) -> str:
    secret = credentials.new_token()
    await conn.execute(delete(login_sessions).where(login_sessions.c.expires_at <= now))
    await conn.execute(
        login_sessions.insert().values(
            token_hash=credentials.digest(secret),
            portal_id=portal_id,
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return secret


async def user_of(conn: AsyncConnection, portal_id: int, secret: str, now: datetime) -> int | None:
    """The user logged in with this cookie on this portal, if the log-in is still live."""
    row = (
        await conn.execute(
            select(login_sessions.c.user_id).where(
                login_sessions.c.token_hash == credentials.digest(secret),
                login_sessions.c.portal_id == portal_id,
                login_sessions.c.expires_at > now,
            )
        )
    ).first()
    return None if row is None else row.user_id


async def end(conn: AsyncConnection, portal_id: int, secret: str) -> None:
    """Forget a log-in: its cookie logs no one in any more."""
    await conn.execute(
        delete(login_sessions).where(
            login_sessions.c.token_hash == credentials.digest(secret),
            login_sessions.c.portal_id == portal_id,
        )
    )
