"""Counters of failed log-ins: one row per counted key (a login, a client address).

A counter is claimed before it is read: its row is made if there is none and
locked until commit (``FOR UPDATE`` on PostgreSQL; SQLite writers are serialised
already), so attempts made at once are counted one after another and none can slip
past a limit another has just reached. Keys are claimed in one order everywhere, so
two attempts never wait for each other's rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import login_failures

_hash = login_failures.c.key_hash


async def _row(conn: AsyncConnection, key_hash: str):
    statement = (
        select(login_failures.c.failures, login_failures.c.expires_at)
        .where(_hash == key_hash)
        .with_for_update()
    )
    return (await conn.execute(statement)).first()


async def claim(conn: AsyncConnection, key_hash: str, now: datetime):
    """The counter's ``failures`` and ``expires_at``, locked until commit; a new
    counter has no failures and has expired already."""
    row = await _row(conn, key_hash)
    if row is not None:
        return row
    try:
        async with conn.begin_nested():
            await conn.execute(
                login_failures.insert().values(key_hash=key_hash, failures=0, expires_at=now)
            )
    except IntegrityError:
        pass  # another process made it at the same moment: its row is locked for us
    row = await _row(conn, key_hash)
    assert row is not None
    return row


async def drop_expired(conn: AsyncConnection, now: datetime) -> None:
    """Forget counters whose time is over; those another attempt holds are left to
    a later clean-up rather than waited for (which could deadlock). Before any
    :func:`claim`: a claimed counter may have expired, and is counted again."""
    expired = select(_hash).where(login_failures.c.expires_at < now)
    await conn.execute(
        delete(login_failures).where(_hash.in_(expired.with_for_update(skip_locked=True)))
    )


async def count(
    conn: AsyncConnection,
    key_hash: str,
    claimed,
    *,
    limit: int,
    window: timedelta,
    now: datetime,
) -> None:
    """One more failure for a claimed counter: the count starts over once ``window``
    has passed since its first failure, and reaching ``limit`` locks the key for
    ``window`` from now."""
    failures, expires_at = claimed.failures + 1, claimed.expires_at
    if expires_at <= now:
        failures, expires_at = 1, now + window
    if failures >= limit:
        expires_at = now + window
    await conn.execute(
        update(login_failures)
        .where(_hash == key_hash)
        .values(failures=failures, expires_at=expires_at)
    )


async def forget(conn: AsyncConnection, key_hash: str) -> None:
    await conn.execute(delete(login_failures).where(_hash == key_hash))


async def take_back(conn: AsyncConnection, key_hash: str) -> None:
    """Undo one counted failure (an attempt counted in advance that succeeded)."""
    await conn.execute(
        update(login_failures)
        .where(_hash == key_hash, login_failures.c.failures > 0)
        .values(failures=login_failures.c.failures - 1)
    )
