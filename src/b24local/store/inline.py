"""SQLite statements run inline on the event loop, without a thread hop each.

An embedded SQLite lookup by key takes microseconds: less than handing it to a
worker thread and back, which aiosqlite does several times per statement. So a
transaction runs its statements on a plain (synchronous) SQLAlchemy connection,
right on the event loop's thread. Only what may wait on the disk or on another
process goes to a worker thread: ``BEGIN IMMEDIATE`` of a write (another
process may hold the write lock) and its ``COMMIT`` (an fsync).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Result

T = TypeVar("T")


class InlineConnection:
    """What the store modules use of :class:`~sqlalchemy.ext.asyncio.AsyncConnection`,
    over a synchronous connection."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    @property
    def dialect(self):
        return self.sync.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result:
        return self.sync.execute(statement, parameters, **kwargs)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self.sync.begin_nested():
            yield


async def off_loop(work: Callable[[], T]) -> T:
    """Run ``work`` in a worker thread. If the caller is cancelled meanwhile, wait for
    the thread anyway: the connection must never be used by two threads at once."""
    running = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await running
        raise


@asynccontextmanager
async def inline_transaction(engine: Engine, *, write: bool) -> AsyncIterator[InlineConnection]:
    """One transaction on ``engine``: committed if the block ends normally, else
    rolled back."""
    conn = engine.connect()
    try:
        if write:
            conn = conn.execution_options(b24local_write=True)
            transaction = await off_loop(conn.begin)
        else:
            transaction = conn.begin()
        try:
            yield InlineConnection(conn)
        except BaseException:
            transaction.rollback()
            raise
        if write:
            await off_loop(transaction.commit)
        else:
            transaction.commit()
    finally:
        conn.close()
