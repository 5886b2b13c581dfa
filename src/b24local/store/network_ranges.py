"""Office networks: each portal's ranges, in the order they were set."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.timeman.network import NetworkRange, parse_range

from .snapshot import cached
from .tables import network_ranges

# Every networkrange.check reads these: answered from the snapshot while nothing changes.
_ALL = cached(
    select(network_ranges.c.ip_range, network_ranges.c.name)
    .where(network_ranges.c.portal_id == bindparam("portal_id"))
    .order_by(network_ranges.c.position)
)


async def get_all(conn: AsyncConnection, portal_id: int) -> list[NetworkRange]:
    ranges = []
    for row in await conn.execute(_ALL, {"portal_id": portal_id}):
        # Only well-formed ranges are ever stored.
        parsed = parse_range(row.ip_range, row.name)
        if parsed is not None:
            ranges.append(parsed)
    return ranges


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
