"""Engines and transactions; the only module that knows SQL dialects apart.

SQLite (the embedded default) runs in WAL mode with full fsync on commit, and
its writers are serialised in-process and open with ``BEGIN IMMEDIATE`` so two
writers never deadlock on a lock upgrade. Its transactions run their statements
inline (:mod:`b24local.store.inline`); the async engine only migrates.
PostgreSQL uses ordinary transactions; rows that must be updated one caller at a
time are locked with ``FOR UPDATE``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .inline import inline_transaction

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


def create_engine(url: str, *, echo: bool = False, **kwargs) -> AsyncEngine:
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
    """A synchronous engine on the same SQLite file, for inline transactions. Its pool
    never blocks: an inline read never waits, so few connections are ever out."""
    url = engine.url.set(drivername="sqlite+pysqlite")
    inline = sa.create_engine(
        url,
        pool_size=5,
        max_overflow=-1,
        connect_args={"check_same_thread": False},
    )
    _tune_sqlite(inline)
    return inline


def _tune_sqlite(engine: Engine) -> None:
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

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("b24local_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """Hands out transactions: ``async with store.transaction(write=True) as conn``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        sqlite = self.dialect == "sqlite"
        self._writer = asyncio.Lock() if sqlite else None
        self._inline = inline_engine(engine) if sqlite else None
        self._watcher: sqlite3.Connection | None = None

    def data_version(self) -> int | None:
        """A number that changes whenever anything is committed to the database, by
        any connection of any process; None where the database offers none (only
        SQLite does, cheaply). A connection of its own, which never writes, watches:
        SQLite's ``data_version`` counts other connections' commits."""
        if self._inline is None:
            return None
        if self._watcher is None:
            database = self._inline.url.database
            assert database is not None
            self._watcher = sqlite3.connect(database, check_same_thread=False)
        return self._watcher.execute("PRAGMA data_version").fetchone()[0]

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        if write and self._writer is not None:
            async with self._writer, self._begin(write=True) as conn:
                yield conn
        else:
            async with self._begin(write=write) as conn:
                yield conn

    @asynccontextmanager
    async def _begin(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        if self._inline is not None:
            async with inline_transaction(self._inline, write=write) as inline:
                yield inline  # type: ignore[misc]  # quacks like AsyncConnection
            return
        async with self.engine.connect() as conn:
            if write:
                conn = await conn.execution_options(b24local_write=True)
            async with conn.begin():
                yield conn

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self._inline is not None:
            self._inline.dispose()
        await self.engine.dispose()
