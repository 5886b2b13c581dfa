"""Office networks: each portal's ranges, in the order they were set."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.timeman.network import NetworkRange, parse_range

from .snapshot import Reads, cached
from .tables import network_ranges

# Every networkrange.check reads these: answered from the snapshot while nothing changes.
_ALL = cached(
    select(network_ranges.c.ip_range, network_ranges.c.name)
    .where(network_ranges.c.portal_id == bindparam("portal_id"))
    .order_by(network_ranges.c.position),
    Reads("network_ranges", "portal_id"),
)


@lru_cache(maxsize=64)
def _parsed(stored: tuple[tuple[str, str], ...]) -> tuple[NetworkRange, ...]:
    # Parsing is most of a check's cost, and the ranges seldom change: parse each
    # stored list once. Only well-formed ranges are ever stored.
    parsed = (parse_range(text, name) for text, name in stored)
    return tuple(found for found in parsed if found is not None)


async def get_all(conn: AsyncConnection, portal_id: int) -> tuple[NetworkRange, ...]:
    rows = await conn.execute(_ALL, {"portal_id": portal_id})
    return _parsed(tuple((row.ip_range, row.name) for row in rows))


async def replace(conn: AsyncConnection, portal_id: int, ranges: Sequence[NetworkRange]) -> None:
    """The portal's ranges become exactly these."""
    await conn.execute(delete(network_ranges).where(network_ranges.c.portal_id == portal_id))
    if ranges:
        await conn.execute(
            insert(network_ranges),
            [
                {"portal_id": portal_id, "position": i, "ip_range": r.ip_range, "name": r.name}
                for i, r in enumerate(ranges)
            ],
        )
