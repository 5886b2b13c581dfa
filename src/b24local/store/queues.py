"""Writes to one user's data wait their turn in the process, not on a connection.

On PostgreSQL a change to a user's workday or presence locks the user's row
(``SELECT … FOR UPDATE``) for the rest of its transaction. Calls for the same user
arriving together would each check out a pooled connection and then sit on it,
waiting for that lock: a few busy users fill the pool, and every other call, reads
included, waits for a connection behind them. So a write that names the users it
changes first waits here, in arrival order, for each of their queues, and only
then checks out its connection: a process holds at most one connection per user
however many calls for that user are waiting. The row lock stays: it is what
serialises the calls of other processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import asynccontextmanager

Key = tuple[Hashable, int]


class _Queue:
    __slots__ = ("holders", "lock")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        #: Calls holding or waiting for the lock; the queue is dropped at zero.
        self.holders = 0


class UserQueues:
    """One first-come, first-served queue per (portal, user), made on first use and
    dropped when nobody holds or waits for it, so memory follows the calls in flight.
    A portal is named by anything hashable (the REST paths use the ``Host`` header,
    known before any lookup)."""

    def __init__(self) -> None:
        self._queues: dict[Key, _Queue] = {}

    def __len__(self) -> int:
        return len(self._queues)

    @asynccontextmanager
    async def turn(self, portal: Hashable, user_ids: Iterable[int]) -> AsyncIterator[None]:
        """Hold the queues of ``user_ids`` in ``portal``. Several are taken in
        ascending order, so two calls naming the same users never wait for each other
        crosswise."""
        keys = [(portal, user_id) for user_id in sorted(set(user_ids))]
        held: list[Key] = []
        try:
            for key in keys:
                queue = self._queues.get(key)
                if queue is None:
                    queue = self._queues[key] = _Queue()
                queue.holders += 1
                try:
                    await queue.lock.acquire()
                except BaseException:
                    self._leave(key, queue, locked=False)
                    raise
                held.append(key)
            yield
        finally:
            for key in reversed(held):
                self._leave(key, self._queues[key], locked=True)

    def _leave(self, key: Key, queue: _Queue, *, locked: bool) -> None:
        if locked:
            queue.lock.release()
        queue.holders -= 1
        if queue.holders == 0:
            del self._queues[key]
