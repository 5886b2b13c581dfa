"""The change log: triggers on exactly the cached tables, the rules by which a change
retires cache entries, and pruning."""

from __future__ import annotations

import asyncio
import importlib.util
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.util import find_tables

from b24local import admin
from b24local.store import changes, snapshot
from b24local.store.changes import ChangeFeed, TaggedCache
from b24local.store.engine import Store, create_engine
from preparing import PG_URL, pg_schema, prepared

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIGRATION = Path(changes.__file__).parent / "migrations" / "versions" / "0016_change_log.py"


def in_prepared_store(db_url: str, check: Callable[[Store], Awaitable[None]]) -> None:
    """``check`` on a store over the prepared database ``db_url``, closed after."""
    prepared(db_url, START)

    async def run() -> None:
        store = Store(create_engine(db_url))
        try:
            await check(store)
        finally:
            await store.close()

    asyncio.run(run())


def _migration_tracked() -> dict:
    spec = importlib.util.spec_from_file_location("m0016", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TRACKED


def in_pg_store(check: Callable[[Store, AsyncEngine], Awaitable[None]]) -> None:
    """``check`` on a store over a prepared PostgreSQL schema of its own, with a
    second engine on it for writes behind the store's back; both closed after."""
    with pg_schema("chg") as url:
        prepared(url, START)

        async def run() -> None:
            store, other = Store(create_engine(url)), create_engine(url)
            try:
                await check(store, other)
            finally:
                await other.dispose()
                await store.close()

        asyncio.run(run())


def test_the_migration_logs_exactly_the_tracked_tables() -> None:
    assert _migration_tracked() == changes.TRACKED


def test_every_cached_statement_reads_tracked_tables_only() -> None:
    read = {reads.table for all_reads in snapshot._CACHED.values() for reads in all_reads}
    assert read, "the store modules mark their hot lookups"
    assert read <= set(changes.TRACKED)


async def _triggered_tables(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = await conn.execute(
                sa.text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
            )
        else:
            rows = await conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = 'b24local_changes' AND c.relnamespace = "
                    "to_regnamespace(current_schema())::oid"
                )
            )
        return {row[0] for row in rows}


async def _log(store: Store) -> list[tuple]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT tbl, portal_id, user_id FROM store_changes ORDER BY seq")
        )
        return [tuple(row) for row in rows]


def test_triggers_log_every_change_of_every_tracked_table(db_url: str) -> None:
    async def check(store: Store) -> None:
        assert await _triggered_tables(store) == set(changes.TRACKED)
        before = len(await _log(store))
        async with store.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE users SET name = 'Renamed' WHERE portal_id = 1 AND id = 1")
            )
        logged = (await _log(store))[before:]
        assert ("users", 1, 1) in logged
        # A rolled-back change leaves nothing behind.
        async with store.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(sa.text("UPDATE users SET name = 'Gone' WHERE id = 1"))
            await transaction.rollback()
        assert len(await _log(store)) == before + len(logged)

    in_prepared_store(db_url, check)


def test_old_changes_are_pruned_and_new_ones_kept(db_url: str) -> None:
    async def check(store: Store) -> None:
        async with store.engine.begin() as conn:
            for at in (0.0, 4e9):  # 1970, and 2096
                await conn.execute(
                    sa.text(
                        "INSERT INTO store_changes (tbl, portal_id, user_id, changed_at) "
                        "VALUES ('presence', 1, 1, :at)"
                    ),
                    {"at": at},
                )
        async with store.transaction():
            pass  # reads them
        store.feed._pruned_at = float("-inf")
        async with store.transaction(write=True):
            pass  # notes where the log stands...
        marks = store.feed._marks
        store.feed._marks = deque((at - 1000, position) for at, position in marks)
        # ...as if 1,000 seconds ago.
        store.feed._pruned_at = float("-inf")
        async with store.transaction(write=True):
            pass
        async with store.engine.connect() as conn:
            left = await conn.execute(
                sa.text("SELECT changed_at FROM store_changes WHERE tbl = 'presence'")
            )
        assert [row[0] for row in left] == [4e9]

    in_prepared_store(db_url, check)


def test_a_change_retires_its_rows_and_no_others() -> None:
    feed = ChangeFeed()
    cache = feed.cache(100)
    cache.put("ann", 1, (("presence", 1, 5),))
    cache.put("bob", 2, (("presence", 1, 6),))
    cache.put("hosts", 3, (("portals",),))
    cache.put("ranges", 4, (("network_ranges", 1),))
    feed.apply([("presence", 1, 5), ("network_ranges", 2, None)])
    assert sorted(cache) == ["bob", "hosts", "ranges"]
    feed.apply([("portals", 7, None)])
    assert sorted(cache) == ["bob", "ranges"]
    # A person's row whose person is not known: every person of the table.
    feed.apply([("presence", 1, None)])
    assert sorted(cache) == ["ranges"]


def test_rows_read_before_a_change_are_not_kept_after_it() -> None:
    feed = ChangeFeed()
    read_at = feed.generation
    feed.apply([("presence", 1, 5)])
    assert not feed.may_put((("presence", 1, 5),), read_at)
    assert feed.may_put((("presence", 1, 6),), read_at)
    assert feed.may_put((("presence", 1, 5),), feed.generation)
    feed.apply([("users", None, None)])  # no portal known: the whole table
    assert not feed.may_put((("users", 3, 4),), read_at)
    feed.forget_all()
    assert not feed.may_put((("workdays", 1, 1),), read_at)


def test_a_tagged_cache_is_bounded_and_keeps_its_index_clean() -> None:
    cache = TaggedCache(3)
    for n in range(10):
        cache.put(n, n, (("users", 1, n), ("portals",)))
    assert sorted(cache) == [7, 8, 9]
    assert set(cache._keys) == {("users", 1, 7), ("users", 1, 8), ("users", 1, 9), ("portals",)}
    cache.retire(("portals",))
    assert len(cache) == 0 and not cache._keys


def test_postgresql_sees_a_change_committed_after_a_later_numbered_one() -> None:
    """A transaction that wrote first and commits last is not missed."""

    async def check(store: Store, writers: AsyncEngine) -> None:
        cache = store.feed.cache(10)
        async with store.transaction():
            pass  # the first reading
        cache.put("user", 1, (("users", 1, 1),))
        cache.put("portal", 2, (("portals",),))
        slow = await writers.connect()
        transaction = await slow.begin()
        await slow.execute(sa.text("UPDATE users SET name = name WHERE id = 1"))
        async with writers.begin() as fast:
            await fast.execute(sa.text("UPDATE portals SET plan = plan WHERE id = 1"))
        async with store.transaction():
            pass
        assert list(cache) == ["user"]  # the slow change is not committed yet
        await transaction.commit()
        await slow.close()
        async with store.transaction():
            pass
        assert list(cache) == []

    in_pg_store(check)


def test_postgresql_logs_a_change_made_under_another_search_path() -> None:
    """``psql`` on the database, its search_path not naming b24local's schema, updates
    a schema-qualified row: the change is logged in that schema's log (not refused,
    not logged in another schema's), so the server's cached row goes."""
    with pg_schema("chg") as url:
        prepared(url, START)
        schema = url.rsplit("schema=", 1)[1]
        assert PG_URL is not None

        async def check() -> None:
            store = Store(create_engine(url))
            plain = create_engine(PG_URL)  # search_path: the server's default
            try:
                cache = store.feed.cache(10)
                async with store.transaction():
                    pass  # the first reading
                cache.put("user", 1, (("users", 1, 1),))
                async with plain.begin() as conn:
                    await conn.execute(
                        sa.text(f"UPDATE {schema}.users SET name = 'Psql' WHERE id = 1")
                    )
                async with store.transaction():
                    pass
                assert list(cache) == []
            finally:
                await plain.dispose()
                await store.close()

        asyncio.run(check())


def test_a_change_committed_long_after_it_was_written_is_not_pruned_unread(db_url: str) -> None:
    """A transaction that wrote a cached row long ago (a ``psql`` session left open)
    commits now: another process's pruning must not drop its change before this
    process, which read the log a moment ago, has read it. A change that had
    committed by a reading as old as the retention is pruned."""
    prepared(db_url, START)

    async def check() -> None:
        reader, pruner = Store(create_engine(db_url)), Store(create_engine(db_url))
        writers = create_engine(db_url)

        async def write_long_ago(name: str) -> set[int]:
            async with writers.begin() as conn:
                top = "SELECT COALESCE(MAX(seq), 0) FROM store_changes"
                before = (await conn.execute(sa.text(top))).scalar_one()
                await conn.execute(sa.text(f"UPDATE users SET name = '{name}' WHERE id = 1"))
                # As if the update had run 1,000 seconds before this commit.
                await conn.execute(
                    sa.text(
                        "UPDATE store_changes SET changed_at = changed_at - 1000 WHERE seq > :b"
                    ),
                    {"b": before},
                )
                written = await conn.execute(
                    sa.text("SELECT seq FROM store_changes WHERE seq > :b"), {"b": before}
                )
                return {row[0] for row in written}

        async def prune() -> None:
            pruner.feed._pruned_at = float("-inf")
            async with pruner.transaction(write=True):
                pass

        try:
            early = await write_long_ago("Early")
            async with pruner.transaction():
                pass  # its first reading
            await prune()  # notes where the log stands...
            marks = pruner.feed._marks
            pruner.feed._marks = deque((at - 1000, position) for at, position in marks)
            # ...as if 1,000 seconds ago.
            cache = reader.feed.cache(10)
            async with reader.transaction():
                pass  # the first reading
            cache.put("user", 1, (("users", 1, 1),))
            late = await write_long_ago("Late")
            await prune()
            async with reader.transaction():
                pass
            assert list(cache) == []
            async with writers.connect() as conn:
                rows = await conn.execute(sa.text("SELECT seq FROM store_changes"))
                left = {row[0] for row in rows}
            assert late <= left
            assert not early & left
        finally:
            await writers.dispose()
            await pruner.close()
            await reader.close()

    asyncio.run(check())


def test_every_cached_statement_names_every_table_it_reads() -> None:
    """A table a cached statement reads (a join, a subquery) but does not name in its
    Reads would change without retiring the statement's rows."""
    import b24local.app  # noqa: F401  (imports every store module)

    for statement, reads in snapshot._CACHED.items():
        read = {t.name for t in find_tables(statement, include_joins=True, include_aliases=True)}
        assert read <= {r.table for r in reads}, statement


async def _triggers_per_table(conn: AsyncConnection) -> dict[str, int]:
    if conn.dialect.name == "sqlite":
        query = "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'b24local%' AND c.relnamespace = "
            "to_regnamespace(current_schema())::oid"
        )
    found: dict[str, int] = {}
    for (table,) in await conn.execute(sa.text(query)):
        found[table] = found.get(table, 0) + 1
    return found


def test_no_migration_after_the_change_log_loses_its_triggers(empty_db_url: str) -> None:
    """Down to the change log's revision one step at a time and up again: each
    tracked table keeps every trigger (a SQLite batch rebuild drops them)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from b24local.store.migrate import alembic_config, upgrade

    scripts = ScriptDirectory.from_config(alembic_config())
    # From the head down to 0016, one revision at a time.
    steps = [r.down_revision for r in scripts.iterate_revisions(scripts.get_current_head(), "0016")]
    assert steps and steps[-1] == "0016"
    # SQLite: insert, update, update that moves, delete; PostgreSQL: rows, truncate.
    per_table = 4 if empty_db_url.startswith("sqlite") else 2
    whole = {table: per_table for table in changes.TRACKED}

    async def check() -> None:
        engine = create_engine(empty_db_url)
        try:
            await upgrade(engine)
            for target in steps:
                async with engine.begin() as conn:
                    await conn.run_sync(lambda c, t=target: command.downgrade(alembic_config(c), t))
                async with engine.connect() as conn:
                    assert await _triggers_per_table(conn) == whole, target
            await upgrade(engine)
            async with engine.connect() as conn:
                assert await _triggers_per_table(conn) == whole
        finally:
            await engine.dispose()

    asyncio.run(check())


def test_postgresql_a_role_granted_the_tables_alone_may_write_them() -> None:
    """A role that may update b24local's tables but was granted nothing on the change
    log (a DBA's maintenance role) still writes them, and the change is logged."""
    with pg_schema("chg") as url:
        prepared(url, START)
        schema = url.rsplit("schema=", 1)[1]
        role = f"r_{schema}"
        assert PG_URL is not None

        async def check() -> None:
            admin_engine = create_engine(url)
            store = Store(create_engine(url))
            try:
                async with admin_engine.begin() as conn:
                    for statement in (
                        f"CREATE ROLE {role}",
                        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
                        f"GRANT SELECT, UPDATE ON {schema}.users TO {role}",
                    ):
                        await conn.execute(sa.text(statement))
                cache = store.feed.cache(10)
                async with store.transaction():
                    pass  # the first reading
                cache.put("user", 1, (("users", 1, 1),))
                async with admin_engine.begin() as conn:
                    await conn.execute(sa.text(f"SET LOCAL ROLE {role}"))
                    await conn.execute(sa.text("UPDATE users SET name = 'Dba' WHERE id = 1"))
                async with store.transaction():
                    pass
                assert list(cache) == []
            finally:
                await store.close()
                async with admin_engine.begin() as conn:
                    await conn.execute(sa.text(f"DROP OWNED BY {role}"))
                    await conn.execute(sa.text(f"DROP ROLE {role}"))
                await admin_engine.dispose()

        asyncio.run(check())


def test_an_update_that_moves_a_row_retires_both_its_old_and_new_owners(db_url: str) -> None:
    prepared(db_url, START)

    async def check() -> None:
        store = Store(create_engine(db_url))
        try:
            async with store.engine.begin() as conn:
                await conn.execute(
                    sa.text("INSERT INTO timeman_settings (portal_id, user_id) VALUES (1, 7)")
                )
            cache = store.feed.cache(10)
            async with store.transaction():
                pass  # the first reading
            for user in (7, 8, 9):
                cache.put(user, user, (("timeman_settings", 1, user),))
            async with store.engine.begin() as conn:
                await conn.execute(
                    sa.text("UPDATE timeman_settings SET user_id = 8 WHERE user_id = 7")
                )
            async with store.transaction():
                pass
            assert list(cache) == [9]
        finally:
            await store.close()

    asyncio.run(check())


def test_postgresql_a_call_arriving_during_a_reading_waits_for_a_later_one() -> None:
    """A reading whose snapshot was taken before a commit cannot answer a call that
    arrived after it: that call waits for the next reading, which sees it."""

    async def check(store: Store, writers: AsyncEngine) -> None:
        log = store._pg_log
        assert log is not None
        cache = store.feed.cache(10)
        await log.fresh()  # the first reading
        cache.put("user", 1, (("users", 1, 1),))
        real = await log._driver()
        held, release = asyncio.Event(), asyncio.Event()

        class Slow:
            """The driver, answering a reading only once let go."""

            async def fetch(self, *args, **options):
                rows = await real.fetch(*args, **options)
                held.set()
                await release.wait()
                return rows

            async def execute(self, *args, **options):
                return await real.execute(*args, **options)

        log._raw = Slow()
        early = asyncio.ensure_future(log.fresh())
        await held.wait()  # its snapshot is taken
        async with writers.begin() as conn:
            await conn.execute(sa.text("UPDATE users SET name = 'New' WHERE id = 1"))
        late = asyncio.ensure_future(log.fresh())  # arrives after the commit
        await asyncio.sleep(0)
        release.set()
        await early
        await late
        assert list(cache) == []

    in_pg_store(check)


def test_a_bulk_of_changes_beyond_one_reading_empties_the_caches(db_url: str) -> None:
    """More changes than a reading takes one by one (a bulk import): the process
    forgets every entry rather than holding them all, and reads on after them."""

    async def check(store: Store) -> None:
        cache = store.feed.cache(10)
        async with store.transaction():
            pass  # the first reading
        cache.put("portal", 1, (("portals",),))
        async with store.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i <= :many) "
                    "INSERT INTO store_changes (tbl, portal_id, user_id, xid, changed_at) "
                    "SELECT 'presence', 1, i, NULL, 0 FROM n"
                ),
                {"many": changes.READ_AT_MOST},
            )
        async with store.transaction():
            pass
        assert list(cache) == []  # not a presence, yet forgotten
        cache.put("user", 1, (("users", 1, 1),))
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE users SET name = 'After' WHERE id = 1"))
        async with store.transaction():
            pass
        assert list(cache) == []

    in_prepared_store(db_url, check)


def test_postgresql_a_reading_connection_lost_while_idle_is_replaced() -> None:
    """The connection readings run on died between two readings (PostgreSQL
    restarted, a proxy dropped it): the next call is answered, on a new one."""

    async def check(store: Store, other: AsyncEngine) -> None:
        log = store._pg_log
        assert log is not None
        async with store.transaction():
            pass  # the first reading
        pid = (await log._driver()).get_server_pid()
        async with other.begin() as conn:
            await conn.execute(sa.text(f"SELECT pg_terminate_backend({pid})"))
        cache = store.feed.cache(10)
        cache.put("user", 1, (("users", 1, 1),))
        async with other.begin() as conn:
            await conn.execute(sa.text("UPDATE users SET name = 'New' WHERE id = 1"))
        async with store.transaction():
            pass
        assert list(cache) == []

    in_pg_store(check)


def test_postgresql_a_truncated_table_retires_all_it_cached() -> None:
    """``TRUNCATE`` (psql) fires no row trigger: the table's entries go all the same."""

    async def check(store: Store, _other: AsyncEngine) -> None:
        cache = store.feed.cache(10)
        async with store.transaction():
            pass  # the first reading
        cache.put("ranges", 1, (("network_ranges", 1),))
        cache.put("hosts", 2, (("portals",),))
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("TRUNCATE network_ranges"))
        async with store.transaction():
            pass
        assert list(cache) == ["hosts"]

    in_pg_store(check)


def test_postgresql_a_role_that_is_no_superuser_migrates_and_serves() -> None:
    """b24local as an ordinary role owning its schema: the migrations install the
    log and its triggers, and a change through it retires what it cached."""
    with pg_schema("chg") as url:
        schema = url.rsplit("schema=", 1)[1]
        role = f"r_{schema}"
        owned = sa.engine.make_url(url).set(username=role).render_as_string(hide_password=False)

        async def check() -> None:
            admin_engine = create_engine(url)
            try:
                async with admin_engine.begin() as conn:
                    await conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
                    await conn.execute(sa.text(f"ALTER SCHEMA {schema} OWNER TO {role}"))
                store = await admin.open_store(owned)
                try:
                    await admin.bootstrap(store, START)
                    cache = store.feed.cache(10)
                    async with store.transaction():
                        pass  # the first reading
                    cache.put("user", 1, (("users", 1, 1),))
                    async with store.transaction(write=True) as conn:
                        await conn.execute(sa.text("UPDATE users SET name = 'Own' WHERE id = 1"))
                    async with store.transaction():
                        pass
                    assert list(cache) == []
                finally:
                    await store.close()
            finally:
                async with admin_engine.begin() as conn:
                    await conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    await conn.execute(sa.text(f"DROP OWNED BY {role}"))
                    await conn.execute(sa.text(f"DROP ROLE {role}"))
                await admin_engine.dispose()

        asyncio.run(check())


def test_sqlite_a_quiet_spell_is_no_reason_to_forget(tmp_path: Path) -> None:
    """Nothing committed for longer than a process may go unread: the log cannot
    have lost a row meanwhile (pruning is a commit too), so the next change
    retires what it touched and nothing else."""
    from b24local.store.engine import sqlite_url

    url = sqlite_url(tmp_path)
    prepared(url, START)

    async def check() -> None:
        store = Store(create_engine(url))
        try:
            cache = store.feed.cache(10)
            async with store.transaction():
                pass  # the first reading
            cache.put("hosts", 1, (("portals",),))
            cache.put("user", 2, (("users", 1, 1),))
            store.feed._read_at -= changes.STALE_AFTER + 1  # a quiet spell...
            await asyncio.sleep(0)  # (the next call's turn)
            async with store.transaction():
                pass  # ...that a call comes through
            async with store.engine.begin() as conn:
                await conn.execute(sa.text("UPDATE users SET name = 'New' WHERE id = 1"))
            await asyncio.sleep(0)
            async with store.transaction():
                pass
            assert list(cache) == ["hosts"]
        finally:
            await store.close()

    asyncio.run(check())
