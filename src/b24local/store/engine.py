"""Engines and transactions; the only module that knows SQL dialects apart.

SQLite (the embedded default) runs in WAL mode with full fsync on commit. Its
transactions are :mod:`b24local.store.sqlite`'s: statements inline on the event
loop, writers serialised and committed in groups, opened with ``BEGIN IMMEDIATE``
so two writers never deadlock on a lock upgrade; the async engine only migrates.
PostgreSQL uses ordinary transactions on asyncpg; rows that must be updated one
caller at a time are locked with ``FOR UPDATE``. Both hand out sessions with the
same small interface: ``execute``, ``make``, ``begin_nested``, ``dialect``,
``version`` and ``failures_abort``.
"""

from __future__ import annotations

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
    """A PostgreSQL transaction, with the interface of :class:`~.sqlite.Session`."""

    __slots__ = ("_conn", "failures_abort")

    #: PostgreSQL offers no cheap commit counter: nothing is cached there.
    version = None

    def __init__(self, conn: AsyncConnection, *, in_transaction: bool) -> None:
        self._conn = conn
        #: In a transaction, one failed statement fails every later one until a
        #: rollback; statements outside one (reads) stand alone.
        self.failures_abort = in_transaction

    @property
    def dialect(self):
        return self._conn.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result:
        return await self._conn.execute(statement, parameters, **kwargs)

    def begin_nested(self) -> AsyncTransaction:
        return self._conn.begin_nested()

    async def make(self, statement: Any, parameters: Any, convert: Callable[[Result], T]) -> T:
        return convert(await self._conn.execute(statement, parameters))


class Store:
    """Hands out transactions: ``async with store.transaction(write=True) as conn``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sqlite = (
            SqliteTransactions(inline_engine(engine)) if self.dialect == "sqlite" else None
        )

    def transaction(self, *, write: bool = False) -> AbstractAsyncContextManager[Session]:
        if self._sqlite is not None:
            return self._sqlite.write() if write else self._sqlite.read()
        return self._pg_transaction(write=write)

    @asynccontextmanager
    async def _pg_transaction(self, *, write: bool) -> AsyncIterator[Session]:
        async with self.engine.connect() as conn:
            if not write:
                # Under READ COMMITTED every statement sees its own snapshot, inside
                # a transaction or not; without one, a read saves the round trips
                # of BEGIN and COMMIT.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                yield PgSession(conn, in_transaction=False)  # type: ignore[misc]
                return
            conn = await conn.execution_options(b24local_write=True)
            async with conn.begin():
                yield PgSession(conn, in_transaction=True)  # type: ignore[misc]

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        await self.engine.dispose()
