"""The Alembic migrations build exactly the schema of ``b24local.store.tables``.

The SQLite run always happens; the PostgreSQL run needs ``B24LOCAL_TEST_PG_URL``
(for example ``postgresql://postgres@127.0.0.1:5432/test``) and is skipped loudly
without it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from b24local.store.engine import create_engine, sqlite_url
from b24local.store.migrate import alembic_config, shipped_head, upgrade
from b24local.store.tables import metadata, settings

PG_URL = os.environ.get("B24LOCAL_TEST_PG_URL")
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _diff(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def _revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _schema_snapshot(connection: sa.Connection) -> dict[str, Any]:
    inspector = sa.inspect(connection)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted(inspector.get_foreign_keys(table), key=lambda fk: str(fk["name"])),
            "indexes": sorted(inspector.get_indexes(table), key=lambda ix: str(ix["name"])),
            "uniques": sorted(
                inspector.get_unique_constraints(table), key=lambda uq: str(uq["name"])
            ),
        }
    return snapshot


async def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path) -> Iterator[str]:
    """An empty database URL in b24local's own form."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not PG_URL:
        pytest.skip("B24LOCAL_TEST_PG_URL NOT SET: PostgreSQL migration check SKIPPED")
    schema = f"t_{secrets.token_hex(6)}"
    asyncio.run(_sql(PG_URL, f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}schema={schema}"
    finally:
        asyncio.run(_sql(PG_URL, f"DROP SCHEMA {schema} CASCADE"))


async def _upgrade_then(url: str, *inspections) -> list[Any]:
    """Upgrade, then run each sync ``inspection`` on one async connection."""
    engine: AsyncEngine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            return [await conn.run_sync(inspect) for inspect in inspections]
    finally:
        await engine.dispose()


def test_there_is_one_head() -> None:
    assert HEAD is not None


def test_the_head_read_from_the_scripts_text_is_alembics() -> None:
    """Start-up skips Alembic when the store is at this head: it must be Alembic's."""
    assert shipped_head() == HEAD


def test_a_store_one_revision_behind_is_still_upgraded(database: str) -> None:
    """The start-up shortcut skips Alembic only at the head, never short of it."""
    from alembic import command

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(HEAD).down_revision

    async def scenario() -> tuple[Any, Any, Any]:
        engine = create_engine(database)
        try:
            await upgrade(engine)
            async with engine.begin() as conn:
                await conn.run_sync(lambda c: command.downgrade(alembic_config(c), str(previous)))
                behind = await conn.run_sync(_revision)
            await upgrade(engine)
            async with engine.connect() as conn:
                return behind, await conn.run_sync(_revision), await conn.run_sync(_diff)
        finally:
            await engine.dispose()

    behind, revision, diff = asyncio.run(scenario())
    assert behind == previous
    assert revision == HEAD
    assert diff == []


def test_migrations_match_the_tables(database: str) -> None:
    diff, revision = asyncio.run(_upgrade_then(database, _diff, _revision))
    assert diff == []
    assert revision == HEAD


def test_migrations_match_the_tables_on_a_sync_sqlite_connection(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    asyncio.run(_upgrade_then(url))
    path = tmp_path / "b24local.db"
    assert path.exists()
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert _diff(conn) == []
            assert _revision(conn) == HEAD
            names = set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert names == set(metadata.tables) | {"alembic_version"}


def test_upgrading_twice_is_a_no_op(database: str) -> None:
    async def scenario() -> tuple[Any, Any, Any, Any]:
        engine = create_engine(database)
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                before = await conn.run_sync(_schema_snapshot)
            async with engine.begin() as conn:
                await conn.execute(settings.insert().values(portal_id=0, key="k", value="kept"))
            await upgrade(engine)
            async with engine.connect() as conn:
                after = await conn.run_sync(_schema_snapshot)
                revision = await conn.run_sync(_revision)
                rows = (await conn.execute(sa.select(settings))).all()
            return before, after, revision, rows
        finally:
            await engine.dispose()

    before, after, revision, rows = asyncio.run(scenario())
    assert after == before
    assert set(before) == set(metadata.tables) | {"alembic_version"}
    assert revision == HEAD
    assert [tuple(row) for row in rows] == [(0, "k", "kept")]


def test_datetimes_round_trip_as_aware_utc(database: str) -> None:
    """The UTCDateTime columns the migrations create keep the moment, in UTC."""
    from b24local.store.tables import portals

    moment = datetime(2026, 3, 2, 8, 30, 15, tzinfo=UTC)

    async def scenario() -> datetime:
        engine = create_engine(database)
        try:
            await upgrade(engine)
            async with engine.begin() as conn:
                await conn.execute(
                    portals.insert().values(
                        domain="example.test",
                        member_id="m",
                        plan="basic",
                        status="active",
                        time_zone="UTC",
                        is_default=True,
                        last_user_id=0,
                        last_department_id=0,
                        created_at=moment,
                    )
                )
            async with engine.connect() as conn:
                return (await conn.execute(sa.select(portals.c.created_at))).scalar_one()
        finally:
            await engine.dispose()

    stored = asyncio.run(scenario())
    assert stored == moment
    assert stored.tzinfo is UTC


def test_the_comparison_notices_drift(tmp_path: Path) -> None:
    """Guard for the check above: a schema that differs does produce a diff."""
    drifted = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["settings"].append_column(sa.Column("extra", sa.Integer, nullable=True))

    asyncio.run(_upgrade_then(sqlite_url(tmp_path)))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'b24local.db'}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, drifted)
    finally:
        engine.dispose()
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "settings", "extra")]
