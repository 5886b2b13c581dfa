"""What the outbox and the offline queues hold, read straight from the store: for
tests of what raises events, before (or without) a delivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from b24local.store.tables import event_deliveries, offline_events


async def _rows(store, table) -> list[dict[str, Any]]:
    async with store.transaction() as conn:
        found = await conn.execute(select(table).order_by(table.c.id))
        return [dict(row._mapping) for row in found]


def deliveries(server) -> list[dict[str, Any]]:
    """Every row of the outbox, oldest first (``event``, ``data``, ``handler_url``, ...)."""
    return server.run(_rows, server.store, event_deliveries)


def offline_rows(server) -> list[dict[str, Any]]:
    return server.run(_rows, server.store, offline_events)
