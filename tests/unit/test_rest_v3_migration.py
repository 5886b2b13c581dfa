"""Migration 0010 fills the new workday duration and break columns for days
stored before it, as the workday rules count them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from b24local import admin
from b24local.scopes.timeman.workday import Break, Workday
from b24local.store import workdays
from b24local.store.engine import create_engine
from b24local.store.migrate import alembic_config
from b24local.store.tables import workdays as table

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_days_stored_before_0010_get_their_seconds(empty_db_url: str) -> None:
    db_url = empty_db_url
    closed = Workday(
        start=START,
        tz_offset=0,
        finish=START + timedelta(hours=9),
        breaks=(Break(START + timedelta(hours=3), START + timedelta(hours=4)),),
    )
    still_open = Workday(start=START + timedelta(days=1), tz_offset=0)

    async def scenario() -> list[tuple[int, int]]:
        store = await admin.open_store(db_url)
        try:
            await admin.bootstrap(store, START)
            async with store.transaction(write=True) as conn:
                for day in (closed, still_open):
                    await workdays.save(conn, 1, 1, day, now=START)
        finally:
            await store.close()
        engine = create_engine(db_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0007"))
            async with engine.begin() as conn:
                await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(table.c.duration, table.c.break_length).order_by(table.c.id)
                )
                return [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == [(8 * 3600, 3600), (0, 0)]
