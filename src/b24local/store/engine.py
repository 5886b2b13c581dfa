"""Engines and transactions; the only module that knows SQL dialects apart.

SQLite (the embedded default) runs in WAL mode with full fsync on commit. Its
transactions are :mod:`b24local.store.sqlite`'s: statements inline on the event
loop, writers serialised and committed in groups, opened with ``BEGIN IMMEDIATE``
so two writers never deadlock on a lock upgrade; the async engine only migrates.
PostgreSQL uses ordinary transactions on asyncpg; rows that must be updated one
caller at a time are locked with ``FOR UPDATE``. Both hand out sessions with the
same small interface: ``execute``, ``make``, ``begin_nested``, ``dialect``,
``generation`` and ``failures_abort``. Both keep the rows of the hot lookups and
retire them as the change log says (:mod:`b24local.store.changes`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from .changes import RETENTION_SECONDS, ChangeFeed
from .snapshot import MISSING, RowCache, key_of
from .sqlite import Session, SqliteTransactions

T = TypeVar("T")

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """Accept plain ``sqlite://``/``postgresql://`` URLs and pick the async driver."""
    parsed = make_url(url)
    if "+" not in parsed.drivername and parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    if parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'b24local.db'}"


def _pg_schema(url: str) -> tuple[str, dict]:
    """Honour ``?schema=NAME`` on PostgreSQL URLs: b24local's tables live there."""
    parsed = make_url(url)
    schema = parsed.query.get("schema")
    if not parsed.drivername.startswith("postgresql") or not schema:
        return url, {}
    parsed = parsed.difference_update_query(["schema"])
    settings = {"search_path": schema if isinstance(schema, str) else schema[0]}
    return parsed.render_as_string(hide_password=False), {"server_settings": settings}


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


#: JSON columns (workday breaks and history) through orjson, as the API itself.
_JSON = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def create_engine(url: str, *, echo: bool = False, **kwargs) -> AsyncEngine:
    kwargs = {**_JSON, **kwargs}
    url, connect_args = _pg_schema(async_url(url))
    if connect_args:
        kwargs.setdefault("connect_args", {}).update(connect_args)
    if make_url(url).drivername.startswith("postgresql"):
        # Keep enough connections for the calls in flight: beyond the pool, each
        # call would open (and close) a connection of its own, a round of TCP and
        # authentication that costs more than the call.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(url, echo=echo, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine.sync_engine)
    return engine


def inline_engine(engine: AsyncEngine) -> Engine:
    """A synchronous engine on the same SQLite file, for inline transactions. It sends
    no ``BEGIN`` of its own: :mod:`b24local.store.sqlite` does."""
    url = engine.url.set(drivername="sqlite+pysqlite")
    inline = sa.create_engine(
        url, poolclass=NullPool, connect_args={"check_same_thread": False}, **_JSON
    )
    _tune_sqlite(inline, emit_begin=False)
    return inline


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _tune_sqlite(engine: Engine, *, emit_begin: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        # Let us emit BEGIN ourselves (see on_begin) instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        # SQLite's own lower() folds ASCII only; case-insensitive matching (ILIKE is
        # lower() LIKE lower() here) must find "Иван" by "иван" as PostgreSQL does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    if not emit_begin:
        return

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("b24local_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class PgSession:
    """A PostgreSQL transaction, with the interface of :class:`~.sqlite.Session`."""

    __slots__ = ("_conn", "_rows", "failures_abort", "generation")

    def __init__(
        self,
        conn: AsyncConnection,
        *,
        in_transaction: bool,
        rows: RowCache | None,
        generation: int,
    ) -> None:
        self._conn = conn
        #: In a transaction, one failed statement fails every later one until a
        #: rollback; statements outside one (reads) stand alone.
        self.failures_abort = in_transaction
        #: The row cache; None in a write, which must see its own changes.
        self._rows = rows
        #: The change feed's generation when the call began (see :meth:`Store.fresh`).
        self.generation = generation

    @property
    def dialect(self):
        return self._conn.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result:
        rows = self._rows
        key = key_of(statement, parameters) if rows is not None and not kwargs else None
        if key is None:
            return await self._conn.execute(statement, parameters, **kwargs)
        hit = rows.get(key)  # type: ignore[union-attr]
        if hit is not None:
            return hit()
        frozen = (await self._conn.execute(statement, parameters)).freeze()
        rows.put(key, frozen, self.generation)  # type: ignore[union-attr]
        return frozen()

    def begin_nested(self) -> AsyncTransaction:
        return self._conn.begin_nested()

    async def make(self, statement: Any, parameters: Any, convert: Callable[[Result], T]) -> T:
        """``convert`` of the statement's result; for a cached statement in a read,
        kept with its rows (as :meth:`.sqlite.Session.make`)."""
        rows = self._rows
        key = key_of(statement, parameters) if rows is not None else None
        if key is None:
            return convert(await self.execute(statement, parameters))
        made_key = (key, convert)
        made = rows.made(made_key)  # type: ignore[union-attr]
        if made is MISSING:
            made = convert(await self.execute(statement, parameters))
            rows.keep_made(made_key, made, self.generation)  # type: ignore[union-attr]
        return made


#: One reading of PostgreSQL's change log: the oldest transaction still running
#: when the statement's snapshot was taken (every change below it is committed or
#: never will be), with the changes of transactions from ``since`` on. The LEFT JOIN
#: answers the horizon even when there is no change.
_READ_LOG = sa.text(
    "SELECT h.horizon, c.seq, c.xid, c.tbl, c.portal_id, c.user_id "
    "FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon) h "
    "LEFT JOIN store_changes c ON c.xid >= :since"
)
_PRUNE_LOG = sa.text(
    "DELETE FROM store_changes WHERE seq IN (SELECT seq FROM store_changes "
    "WHERE changed_at < extract(epoch FROM clock_timestamp()) - :keep "
    "LIMIT 10000 FOR UPDATE SKIP LOCKED)"
)
#: Above every transaction ID: a first reading asks for no change, only the horizon.
_NO_CHANGES = 2**62


class PgChangeLog:
    """This process's reading of the change log on PostgreSQL.

    Changes are numbered in the order transactions wrote them, not the order they
    committed, so a reader cannot just ask for numbers above the last it saw. It
    asks instead for every change of a transaction from the *horizon* on: the
    oldest transaction that was still running at its last reading. Anything older
    had finished by then, so it was seen; anything since may have committed after
    and is read again (changes already applied are remembered and skipped).

    Calls share readings: every call the loop starts in one turn awaits the one
    reading the first of them began, which began after all of them were received,
    so it sees every commit their clients could know of.
    """

    def __init__(self, engine: AsyncEngine, feed: ChangeFeed) -> None:
        self._engine = engine
        self.feed = feed
        self._horizon: int | None = None
        #: Changes at or above the horizon already applied.
        self._seen: set[int] = set()
        self._reading: asyncio.Future[int] | None = None

    async def fresh(self) -> int:
        reading = self._reading
        if reading is None:
            reading = self._reading = asyncio.ensure_future(self._read())
            asyncio.get_running_loop().call_soon(self._turn_over)
        return await asyncio.shield(reading)

    def _turn_over(self) -> None:
        self._reading = None

    async def _read(self) -> int:
        feed = self.feed
        first = self._horizon is None or feed.stale()
        since = _NO_CHANGES if first else self._horizon
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                rows = (await conn.execute(_READ_LOG, {"since": since})).all()
            except sa.exc.ProgrammingError:
                # No change log (a database not yet migrated): nothing stays cached.
                feed.forget_all()
                self._horizon = None
                return feed.generation
            if feed.prune_due():
                await conn.execute(_PRUNE_LOG, {"keep": RETENTION_SECONDS})
        horizon = rows[0].horizon
        if first:
            feed.forget_all()
            self._horizon, self._seen = horizon, set()
            return feed.generation
        changes = [row for row in rows if row.seq is not None]
        seen = self._seen
        feed.apply((row.tbl, row.portal_id, row.user_id) for row in changes if row.seq not in seen)
        if horizon >= self._horizon:  # type: ignore[operator]
            # A reading that began earlier but ended later knows less: it moves nothing.
            self._horizon = horizon
            self._seen = {row.seq for row in changes if row.xid >= horizon}
        return feed.generation


class Store:
    """Hands out transactions: ``async with store.transaction(write=True) as conn``."""

    def __init__(self, engine: AsyncEngine, *, feed: ChangeFeed | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        #: What this process knows of the change log, and the caches it keeps exact.
        self.feed = feed if feed is not None else ChangeFeed()
        self._sqlite = (
            SqliteTransactions(inline_engine(engine), self.feed)
            if self.dialect == "sqlite"
            else None
        )
        self._pg_log = PgChangeLog(engine, self.feed) if self._sqlite is None else None
        self._pg_rows = RowCache(self.feed) if self._sqlite is None else None

    def transaction(self, *, write: bool = False) -> AbstractAsyncContextManager[Session]:
        if self._sqlite is not None:
            return self._sqlite.write() if write else self._sqlite.read()
        return self._pg_transaction(write=write)

    @asynccontextmanager
    async def _pg_transaction(self, *, write: bool) -> AsyncIterator[Session]:
        assert self._pg_log is not None
        generation = await self._pg_log.fresh()
        async with self.engine.connect() as conn:
            if not write:
                # Under READ COMMITTED every statement sees its own snapshot, inside
                # a transaction or not; without one, a read saves the round trips
                # of BEGIN and COMMIT.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                yield PgSession(  # type: ignore[misc]
                    conn, in_transaction=False, rows=self._pg_rows, generation=generation
                )
                return
            conn = await conn.execution_options(b24local_write=True)
            async with conn.begin():
                yield PgSession(  # type: ignore[misc]
                    conn, in_transaction=True, rows=None, generation=generation
                )

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        await self.engine.dispose()
