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
import contextlib
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
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from .changes import READ_AT_MOST, RETENTION_SECONDS, ChangeFeed
from .queues import UserQueues
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
        # Keep enough connections for the calls in flight, and keep them all open:
        # an overflow connection is closed when returned, so under a crowd each
        # call would open one of its own (TCP, authentication, asyncpg's type
        # set-up, every statement prepared again), three times the CPU of the call
        # (docs/benchmarks.md, "Many clients"). Calls beyond wait for one, up to
        # the pool's 30 s, then answer QUERY_LIMIT_EXCEEDED (store/failures.py).
        # One more is held for good by the change-log reader (PgChangeLog).
        kwargs.setdefault("pool_size", 41)
        kwargs.setdefault("max_overflow", 0)
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


#: The PostgreSQL advisory lock that start-ups take in turn ("b24l").
START_LOCK = 0x6232346C


def start_lock_sql(dialect_name: str) -> sa.TextClause | None:
    """What serialises start-ups (migrations, the default portal, the first-start
    webhook) of several processes or hosts on one database: on PostgreSQL a lock
    held to the end of the transaction; SQLite serialises writers by itself."""
    if dialect_name != "postgresql":
        return None
    return sa.text(f"SELECT pg_advisory_xact_lock({START_LOCK})")


async def hold_start_lock(session: Session) -> None:
    """Take the start-up lock for the rest of this write transaction."""
    statement = start_lock_sql(session.dialect.name)
    if statement is not None:
        await session.execute(statement)


class PgSession:
    """A PostgreSQL transaction, with the interface of :class:`~.sqlite.Session`.

    A read takes its pooled connection at its first statement the row cache cannot
    answer: a call whose lookups are all cached never checks one out.
    """

    __slots__ = ("_conn", "_engine", "_rows", "failures_abort", "generation")

    #: A lookup is a round trip: a batch's reads fetch their rows together.
    prefetches = True

    def __init__(
        self,
        conn: AsyncConnection | None,
        *,
        engine: AsyncEngine | None = None,
        in_transaction: bool,
        rows: RowCache | None,
        generation: int,
    ) -> None:
        self._conn = conn
        #: Where a read takes its connection from, when it first needs one.
        self._engine = engine
        #: In a transaction, one failed statement fails every later one until a
        #: rollback; statements outside one (reads) stand alone.
        self.failures_abort = in_transaction
        #: The row cache; None in a write, which must see its own changes.
        self._rows = rows
        #: The change feed's generation when the call began (see :meth:`Store.fresh`).
        self.generation = generation

    @property
    def row_cache(self) -> RowCache | None:
        """The row cache a read answers from (None in a write): a batch's prefetch
        puts rows there (store/prefetch.py)."""
        return self._rows

    @property
    def dialect(self):
        assert self._engine is not None or self._conn is not None
        return (self._engine or self._conn).dialect  # type: ignore[union-attr]

    async def _connection(self) -> AsyncConnection:
        conn = self._conn
        if conn is None:
            assert self._engine is not None
            conn = await self._engine.connect()
            # Under READ COMMITTED every statement sees its own snapshot, inside a
            # transaction or not; without one, a read saves the round trips of
            # BEGIN and COMMIT.
            self._conn = conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    async def release(self) -> None:
        """Give a read's connection back, if it took one."""
        if self._conn is not None and self._engine is not None:
            await self._conn.close()
            self._conn = None

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result:
        rows = self._rows
        key = key_of(statement, parameters) if rows is not None and not kwargs else None
        if key is None:
            conn = self._conn or await self._connection()
            return await conn.execute(statement, parameters, **kwargs)
        hit = rows.get(key)  # type: ignore[union-attr]
        if hit is not None:
            return hit()
        conn = self._conn or await self._connection()
        frozen = (await conn.execute(statement, parameters)).freeze()
        rows.put(key, frozen, self.generation)  # type: ignore[union-attr]
        return frozen()

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        conn = self._conn or await self._connection()
        async with conn.begin_nested():
            yield

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


#: One reading of PostgreSQL's change log, with what the next needs: the highest
#: change number visible now, and which transactions were still running (listed,
#: or from ``xmax`` on). The changes not yet seen are those numbered above the last
#: reading's highest, or written by a transaction that was running then: one
#: that began later drew its numbers later. The LEFT JOIN answers even when no
#: change is new.
_READ_LOG = (
    "WITH s AS (SELECT pg_current_snapshot() AS snap) "
    "SELECT (SELECT COALESCE(MAX(seq), 0) FROM store_changes) AS top, "
    "pg_snapshot_xmax(s.snap)::text::bigint AS xmax, "
    "ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s.snap) x) AS xip, "
    "c.tbl, c.portal_id, c.user_id "
    "FROM s LEFT JOIN store_changes c "
    "ON c.seq > $1 OR c.xid >= $2 OR c.xid = ANY($3::bigint[]) "
    "LIMIT $4"
)
#: Changes older than the retention, and written by a transaction that had ended
#: (below the ``xmax`` and not running) at a reading at least as old: see
#: ChangeFeed.prune_below. Rows without a transaction ID are not the triggers'.
_PRUNE_LOG = (
    "DELETE FROM store_changes WHERE seq IN (SELECT seq FROM store_changes "
    "WHERE changed_at < extract(epoch FROM clock_timestamp()) - $1 "
    "AND (xid IS NULL OR xid < $2 AND xid <> ALL($3::bigint[])) "
    "LIMIT 10000 FOR UPDATE SKIP LOCKED)"
)
#: Seconds a reading may take: every call of the process waits for it, so a hung
#: connection fails them (as the database being away) rather than stalls them. A
#: reading on the connection held since the last one is tried once more on a new
#: one, so calls wait at most twice this.
READING_TIMEOUT = 5.0
#: Above every change number and transaction ID: a first reading asks for no change.
_NO_CHANGES = 2**62


class PgChangeLog:
    """This process's reading of the change log on PostgreSQL.

    Changes are numbered in the order transactions wrote them, not the order they
    committed, so a reader cannot just ask for numbers above the last it saw: a
    transaction still running at one reading may commit lower numbers later. Each
    reading therefore notes which transactions were running (the snapshot's list,
    and every ID from its ``xmax`` on), and the next asks for numbers above the
    highest seen *or* written by one of those.

    Calls share readings. Every call the loop starts in one turn awaits the reading
    the first of them began, which began after all of them were received, so it
    sees every commit their clients could know of. Calls that arrive while a
    reading from an earlier turn is in flight wait for the next one, which begins as
    that one ends and serves all of them: under load, one reading in flight at a
    time, however many calls arrive.
    """

    def __init__(self, engine: AsyncEngine, feed: ChangeFeed) -> None:
        self._engine = engine
        self.feed = feed
        #: What the last reading saw: the highest change number, and the running
        #: transactions (None: no reading yet).
        self._top: int | None = None
        self._xmax = _NO_CHANGES
        self._running_then: list[int] = []
        #: The reading in flight, and whether calls of this turn may still join it.
        self._running: asyncio.Task[int] | None = None
        self._joinable = False
        #: What calls that came while an earlier turn's reading ran wait for.
        self._queued: asyncio.Future[int] | None = None
        #: The connection readings run on, and its driver connection.
        self._held: AsyncConnection | None = None
        self._raw: Any = None

    async def fresh(self) -> int:
        """Apply every change committed before this call arrived; the feed's generation."""
        if self._running is None:
            self._start()
        elif not self._joinable:
            if self._queued is None:
                self._queued = asyncio.get_running_loop().create_future()
            return await asyncio.shield(self._queued)
        assert self._running is not None
        return await asyncio.shield(self._running)

    def _start(self) -> asyncio.Task[int]:
        running = self._running = asyncio.ensure_future(self._read())
        self._joinable = True
        asyncio.get_running_loop().call_soon(self._turn_over, running)
        running.add_done_callback(self._finished)
        return running

    def _turn_over(self, running: asyncio.Task[int]) -> None:
        if self._running is running:
            self._joinable = False

    def _finished(self, done: asyncio.Task[int]) -> None:
        self._running = None
        if not done.cancelled():
            done.exception()  # seen: its awaiters raise it; no "never retrieved" noise
        queued, self._queued = self._queued, None
        if queued is None:
            return
        self._start().add_done_callback(lambda reading: _settle(queued, reading))

    async def _read(self) -> int:
        feed = self.feed
        first = self._top is None or feed.stale()
        if first:
            asked = (_NO_CHANGES, _NO_CHANGES, [])
        else:
            asked = (self._top, self._xmax, self._running_then)
        try:
            rows = await self._fetch(asked)
        except Exception as error:
            if type(error).__name__ != "UndefinedTableError":
                raise
            # No change log (a database not yet migrated): nothing stays cached.
            feed.forget_all()
            self._top = None
            return feed.generation
        head = rows[0]
        if first or len(rows) > READ_AT_MOST:
            feed.forget_all()
        else:
            feed.apply(
                (row["tbl"], row["portal_id"], row["user_id"])
                for row in rows
                if row["tbl"] is not None
            )
        self._top, self._xmax, self._running_then = head["top"], head["xmax"], head["xip"]
        return feed.generation

    async def _fetch(self, asked: tuple[Any, ...]) -> list[Any]:
        """The reading's rows, and a prune when one is due. A connection held since
        the last reading may have died meanwhile (PostgreSQL restarted, a proxy
        dropped it): a reading that fails on it is tried once more on a new one."""
        feed = self.feed
        for again in (self._held is not None, False):
            driver = await self._driver()
            try:
                rows = await driver.fetch(
                    _READ_LOG, *asked, READ_AT_MOST + 1, timeout=READING_TIMEOUT
                )
                if feed.prune_due():
                    head = rows[0]
                    xmax, running = feed.prune_below((head["xmax"], head["xip"])) or (0, [])
                    await driver.execute(
                        _PRUNE_LOG, RETENTION_SECONDS, xmax, running, timeout=READING_TIMEOUT
                    )
                return rows
            except Exception as error:
                if type(error).__name__ == "UndefinedTableError":
                    raise
                await self.close()  # broken: the next attempt opens another
                if not again:
                    raise
        raise AssertionError("unreachable")

    async def _driver(self) -> Any:
        """The reader's own connection (asyncpg's, under SQLAlchemy's pool): one
        statement per reading, without the pool's checkout on every one."""
        if self._held is None:
            held = await self._engine.connect()
            try:
                raw = await held.get_raw_connection()
            except BaseException:
                await held.close()
                raise
            self._held, self._raw = held, raw.driver_connection
        return self._raw

    async def close(self) -> None:
        held, self._held, self._raw = self._held, None, None
        if held is not None:
            with contextlib.suppress(Exception):
                await held.invalidate()
            with contextlib.suppress(Exception):
                await held.close()


def _settle(future: asyncio.Future[int], reading: asyncio.Task[int]) -> None:
    """Hand a reading's outcome to the calls that waited for it."""
    if future.done():
        return
    if reading.cancelled():
        future.cancel()
    elif reading.exception() is not None:
        future.set_exception(reading.exception())  # type: ignore[arg-type]
    else:
        future.set_result(reading.result())


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
        #: Where writes that lock users' rows wait for a connection, one user at a
        #: time; None on SQLite, whose writers are serialised already.
        self.queues = UserQueues() if self._sqlite is None else None

    def transaction(self, *, write: bool = False) -> AbstractAsyncContextManager[Session]:
        if self._sqlite is not None:
            return self._sqlite.write() if write else self._sqlite.read()
        return self._pg_transaction(write=write)

    @asynccontextmanager
    async def _pg_transaction(self, *, write: bool) -> AsyncIterator[Session]:
        assert self._pg_log is not None
        generation = await self._pg_log.fresh()
        if not write:
            session = PgSession(
                None,
                engine=self.engine,
                in_transaction=False,
                rows=self._pg_rows,
                generation=generation,
            )
            try:
                yield session  # type: ignore[misc]
            finally:
                await session.release()
            return
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(b24local_write=True)
            async with conn.begin():
                yield PgSession(  # type: ignore[misc]
                    conn, in_transaction=True, rows=None, generation=generation
                )

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._pg_log is not None:
            await self._pg_log.close()
        await self.engine.dispose()
