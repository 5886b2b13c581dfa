"""Counters of failed log-ins: one row per counted key (a login, a client address).

A key is locked while its count has reached its limit and the row has not expired.
Rows are read ``FOR UPDATE`` (PostgreSQL; SQLite writers are serialised already), so
attempts made at once are counted one after another and cannot slip past the limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import login_failures

_COLUMNS = (login_failures.c.failures, login_failures.c.expires_at)


async def _row(conn: AsyncConnection, key_hash: str):
    statement = select(*_COLUMNS).where(login_failures.c.key_hash == key_hash).with_for_update()
    return (await conn.execute(statement)).first()


async def locked_until(
    conn: AsyncConnection, key_hash: str, limit: int, now: datetime
) -> datetime | None:
    """When the lock on ``key_hash`` ends, if it is locked at ``now``."""
    row = await _row(conn, key_hash)
    if row is not None and row.failures >= limit and row.expires_at > now:
        return row.expires_at
    return None


async def count(
    conn: AsyncConnection, key_hash: str, *, limit: int, window: timedelta, now: datetime
) -> None:
    """One more failure for ``key_hash``: the count starts over once ``window`` has
    passed since its first failure, and reaching ``limit`` locks the key for ``window``."""
    row = await _row(conn, key_hash)
    if row is None:
        await conn.execute(delete(login_failures).where(login_failures.c.expires_at <= now))
        try:
            async with conn.begin_nested():
                await conn.execute(
                    login_failures.insert().values(
                        key_hash=key_hash, failures=1, expires_at=now + window
                    )
                )
            return
        except IntegrityError:
            # Another process counted the first failure at the same moment.
            row = await _row(conn, key_hash)
            assert row is not None
    failures, expires_at = row.failures + 1, row.expires_at
    if expires_at <= now:
        failures, expires_at = 1, now + window
    if failures >= limit:
        expires_at = now + window
    await conn.execute(
        update(login_failures)
        .where(login_failures.c.key_hash == key_hash)
        .values(failures=failures, expires_at=expires_at)
    )


async def forget(conn: AsyncConnection, key_hash: str) -> None:
    await conn.execute(delete(login_failures).where(login_failures.c.key_hash == key_hash))


async def take_back(conn: AsyncConnection, key_hash: str) -> None:
    """Undo one counted failure (an attempt counted in advance that succeeded)."""
    await conn.execute(
        update(login_failures)
        .where(login_failures.c.key_hash == key_hash, login_failures.c.failures > 0)
        .values(failures=login_failures.c.failures - 1)
    )
