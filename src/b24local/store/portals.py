"""Portals (Bitrix24 accounts) and their counters."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local import plans
from b24local.entities import Portal

from .snapshot import Reads, cached
from .tables import portals


def _portal(row) -> Portal:
    return Portal(
        id=row.id,
        domain=row.domain,
        member_id=row.member_id,
        plan=row.plan,
        status=row.status,
        time_zone=row.time_zone,
        is_default=row.is_default,
        rate_threshold=row.rate_threshold,
        rate_drain=row.rate_drain,
        public_url=row.public_url,
    )


async def create(
    conn: AsyncConnection,
    *,
    domain: str,
    now: datetime,
    plan: str = plans.DEFAULT,
    time_zone: str = "UTC",
    is_default: bool = False,
    member_id: str | None = None,
) -> Portal:
    """A new portal; ``member_id`` is random unless a state file fixes it."""
    result = await conn.execute(
        portals.insert()
        .values(
            domain=domain.lower(),
            member_id=member_id or secrets.token_hex(16),
            plan=plan,
            status="active",
            time_zone=time_zone,
            is_default=is_default,
            last_user_id=0,
            last_department_id=0,
            created_at=now,
        )
        .returning(*portals.c)
    )
    return _portal(result.one())


async def default(conn: AsyncConnection) -> Portal | None:
    row = (await conn.execute(select(portals).where(portals.c.is_default))).first()
    return _portal(row) if row else None


async def by_id(conn: AsyncConnection, portal_id: int) -> Portal | None:
    row = (await conn.execute(select(portals).where(portals.c.id == portal_id))).first()
    return _portal(row) if row else None


async def by_domain(conn: AsyncConnection, domain: str) -> Portal | None:
    row = (await conn.execute(select(portals).where(portals.c.domain == domain.lower()))).first()
    return _portal(row) if row else None


# Built once, as it runs on every call that is not answered from the caller cache.
_NAMED = portals.c.domain == bindparam("domain")
_FOR_HOST = cached(
    select(portals).where(or_(_NAMED, portals.c.is_default)).order_by(_NAMED.desc()).limit(1),
    Reads("portals"),
)


async def for_host(conn: AsyncConnection, domain: str) -> Portal | None:
    """The portal named ``domain``, else the default one: one statement for both."""
    row = (await conn.execute(_FOR_HOST, {"domain": domain.lower()})).first()
    return _portal(row) if row else None


async def all_portals(conn: AsyncConnection) -> list[Portal]:
    rows = await conn.execute(select(portals).order_by(portals.c.id))
    return [_portal(row) for row in rows]


async def change(conn: AsyncConnection, portal_id: int, **changes) -> None:
    """Set the given columns; ``None`` values are left as they are."""
    values = {k: v for k, v in changes.items() if v is not None}
    if values:
        await conn.execute(update(portals).where(portals.c.id == portal_id).values(**values))


async def set_public_url(conn: AsyncConnection, portal_id: int, url: str | None) -> None:
    """Unlike :func:`change`, ``None`` is a value here: back to the ``Host`` header."""
    await conn.execute(update(portals).where(portals.c.id == portal_id).values(public_url=url))


async def next_id(conn: AsyncConnection, portal_id: int, counter: str) -> int:
    """Allocate the next per-portal ID (``last_user_id``, ``last_department_id``)."""
    column = portals.c[counter]
    result = await conn.execute(
        update(portals)
        .where(portals.c.id == portal_id)
        .values({column: column + 1})
        .returning(column)
    )
    return result.scalar_one()


async def raise_counter(conn: AsyncConnection, portal_id: int, counter: str, at_least: int) -> None:
    """Move a per-portal counter up to ``at_least`` (an ID chosen by hand), so that
    :func:`next_id` never hands it out again."""
    column = portals.c[counter]
    await conn.execute(
        update(portals)
        .where(portals.c.id == portal_id, column < at_least)
        .values({column: at_least})
    )
