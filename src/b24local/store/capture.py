"""Every row of every table, taken at once and put back at once.

A :class:`Snapshot` holds the rows of each table in :data:`tables.metadata` (what
the migrations build), read in one transaction. :func:`restore` empties the tables
and writes those rows back in one transaction: children deleted before their
parents, parents inserted before their children, and on PostgreSQL each ``SERIAL``
sequence set just past the highest restored ID, so the next row gets the ID it
would have got when the snapshot was taken (SQLite takes ``MAX(rowid) + 1`` by
itself). The dev API's reset and named snapshots use it, and so can a test suite
that wants a fresh database without migrating one.

Nothing here knows a table by name: a new table is captured as soon as it is in
the metadata.

Concurrent calls: on SQLite a restore is a write, and writes are serialised; on
PostgreSQL every table is locked (``ACCESS EXCLUSIVE``, in one statement, in a
fixed order) before the first delete, so a call in flight finishes first and a
call that comes later sees the restored rows, never a half-restored database.
A call in flight takes its tables in its own order, so it can hold one the
restore has yet to lock while it waits for one the restore holds: PostgreSQL
breaks that deadlock by failing the restore (it waited first), which then tries
again, once the call is out of its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, delete, func, literal, select, text
from sqlalchemy.exc import DBAPIError

from .changes import EVERYTHING
from .engine import Store
from .tables import metadata

#: Parents before children (SQLAlchemy sorts by foreign keys); not the change log,
#: which describes changes rather than state (the restore's own writes add to it, so
#: every process retires what the restore replaced).
_TABLES: tuple[Table, ...] = tuple(
    table for table in metadata.sorted_tables if table.info.get("captured", True)
)
#: PostgreSQL's ``deadlock_detected``, and how often a restore meets it before it
#: gives up (each costs the server's ``deadlock_timeout``, a second by default).
_DEADLOCK = "40P01"
_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The rows of each table, by table name, as the database driver gives them
    (``rows``: tuples in the order of ``columns``). Kept in the driver's own form,
    they go back without SQLAlchemy's conversions of every value, which cost more
    than the inserts themselves."""

    columns: dict[str, tuple[str, ...]]
    rows: dict[str, tuple[tuple[Any, ...], ...]]

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSON)


def _names(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns)


def _quoted(conn: Any, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


# On PostgreSQL, JSON travels as its text: asyncpg's JSON codec (SQLAlchemy's)
# would decode every value on the way out and encode it on the way back in.
def _column_out(conn: Any, dialect: str, table: Table, name: str) -> str:
    quoted = _quoted(conn, name)
    return (
        f"CAST({quoted} AS TEXT)" if dialect == "postgresql" and _is_json(table, name) else quoted
    )


def _value_in(dialect: str, table: Table, name: str, mark: str) -> str:
    return f"CAST({mark} AS JSON)" if dialect == "postgresql" and _is_json(table, name) else mark


async def capture(store: Store) -> Snapshot:
    """Every row of every table, as of one moment (one transaction)."""
    columns: dict[str, tuple[str, ...]] = {}
    taken: dict[str, tuple[tuple[Any, ...], ...]] = {}
    # A write transaction: on SQLite the one way to read every table under one
    # version while no writer commits in between.
    async with store.transaction(write=True) as conn:
        if store.dialect == "postgresql":
            # One snapshot for every statement, not one each (READ COMMITTED).
            await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for table in _TABLES:
            names = _names(table)
            listed = ", ".join(_column_out(conn, store.dialect, table, n) for n in names)
            result = await conn.execute(text(f"SELECT {listed} FROM {_quoted(conn, table.name)}"))
            columns[table.name] = names
            taken[table.name] = tuple(tuple(row) for row in result)
    return Snapshot(columns, taken)


async def restore(store: Store, snapshot: Snapshot) -> None:
    """Make the database hold exactly the snapshot's rows (one transaction; again
    if PostgreSQL broke a deadlock with a transaction in flight by failing it)."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            await _restore_once(store, snapshot)
            return
        except DBAPIError as error:
            if attempt == _ATTEMPTS or not deadlocked(error):
                raise


def deadlocked(error: DBAPIError) -> bool:
    """Whether PostgreSQL failed the statement to break a deadlock."""
    return getattr(error.orig, "sqlstate", None) == _DEADLOCK


async def _restore_once(store: Store, snapshot: Snapshot) -> None:
    async with store.transaction(write=True) as conn:
        if store.dialect == "postgresql":
            # The triggers need not log each row: _restart_change_log says it all.
            await conn.execute(text("SELECT set_config('b24local.quiet', 'on', true)"))
        await delete_all(conn, store.dialect)
        for table in _TABLES:
            rows = snapshot.rows.get(table.name)
            if not rows:
                continue
            # An ``executemany``: asyncpg sends it as one pipelined batch.
            names = snapshot.columns[table.name]
            listed = ", ".join(_quoted(conn, n) for n in names)
            marks = ", ".join(
                _value_in(store.dialect, table, n, f":c{i}") for i, n in enumerate(names)
            )
            insert = text(f"INSERT INTO {_quoted(conn, table.name)} ({listed}) VALUES ({marks})")
            keys = [f"c{i}" for i in range(len(names))]
            await conn.execute(insert, [dict(zip(keys, row, strict=True)) for row in rows])
        await advance_sequences(conn, store.dialect)
        await _restart_change_log(conn, store.dialect)


async def _restart_change_log(conn: Any, dialect: str) -> None:
    """The restore changed everything: the change log now says just that, one row
    that makes every process forget its caches (see store/changes.py), instead of
    a row per restored row. Every writer of a logged table has committed by now (on
    PostgreSQL the tables are locked), so no change the log drops goes unsaid."""
    await conn.execute(text("DELETE FROM store_changes"))
    # The database's own clock, as the triggers use: the log's times are its.
    if dialect == "postgresql":
        xid, at = "pg_current_xact_id()::text::bigint", "extract(epoch FROM clock_timestamp())"
    else:
        xid, at = "NULL", "(julianday('now') - 2440587.5) * 86400.0"
    await conn.execute(
        text(
            f"INSERT INTO store_changes (tbl, xid, changed_at) VALUES ('{EVERYTHING}', {xid}, {at})"
        )
    )


async def delete_all(conn: Any, dialect: str) -> None:
    """Empty every table, children first, inside the caller's write transaction.

    On PostgreSQL every table is locked first (no writer is half way through when
    the rows go; one that then wants a table we hold deadlocks with us, and
    PostgreSQL fails one of the two: :func:`restore` tries again), and the deletes are one statement
    of data-modifying CTEs: a round trip each would cost more than the work, and
    foreign keys are checked at the end of the statement, when all are gone.
    On SQLite a statement is a call into the library, not a trip."""
    if dialect != "postgresql":
        for table in reversed(_TABLES):
            await conn.execute(table.delete())
        return
    names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in _TABLES)
    await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    await _together(conn, [delete(table) for table in reversed(_TABLES)])


async def _together(conn: Any, statements: list[Any]) -> None:
    """PostgreSQL: run data-modifying statements as one (``WITH a AS (...), b AS
    (...) SELECT 1``), each exactly once."""
    if len(statements) == 1:
        await conn.execute(statements[0])
        return
    ctes = [statement.cte(f"step_{n}") for n, statement in enumerate(statements)]
    await conn.execute(select(literal(1)).add_cte(*ctes))


def _serial_columns() -> list[tuple[Table, Any]]:
    return [
        (table, table.autoincrement_column)
        for table in _TABLES
        if table.autoincrement_column is not None
    ]


async def advance_sequences(conn: Any, dialect: str) -> None:
    """On PostgreSQL, each ``SERIAL`` sequence just past its table's highest ID (or
    back to 1), in one statement: rows inserted with their own IDs (a restore, a
    state file) do not move a sequence. SQLite needs nothing: it takes the highest
    ``rowid`` plus one."""
    if dialect != "postgresql":
        return
    calls = []
    for table, column in _serial_columns():
        highest = select(func.coalesce(func.max(column), 0) + 1).scalar_subquery()
        calls.append(
            func.setval(func.pg_get_serial_sequence(table.name, column.name), highest, False)
        )
    if calls:
        await conn.execute(select(*calls))
