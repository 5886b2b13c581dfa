"""The execution time limit: calls running past it are cancelled.

``asyncio.timeout`` arms a timer per call, which costs a quarter of a short call's
own work. Calls that overrun are rare, so one periodic check serves them all
instead: each call only registers its deadline and removes it when done, and a
check every tick cancels whatever has run too long. A call is cancelled at most
one tick late.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from b24local.clock import monotonic


class Watchdog:
    """Execution time is real time, as the ``processing`` of the time block: the
    watchdog reads a monotonic clock, not the server's (settable) one."""

    def __init__(self, limit: float, *, now: Callable[[], float] = monotonic) -> None:
        self.limit = limit
        self._now = now
        #: How often to look: a tenth of the limit, between 10 ms and 1 s.
        self.tick = min(1.0, max(limit / 10, 0.01))
        self._deadlines: dict[asyncio.Task, float] = {}
        self._overdue: set[asyncio.Task] = set()
        self._checking: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, task: asyncio.Task) -> None:
        """Watch ``task`` from now on, until :meth:`stop`."""
        self._deadlines[task] = self._now() + self.limit
        loop = task.get_loop()
        if self._checking is None or self._loop is not loop:
            self._loop = loop
            self._schedule()

    def stop(self, task: asyncio.Task) -> None:
        del self._deadlines[task]

    def overdue(self, task: asyncio.Task) -> bool:
        """Whether ``task`` was cancelled for running too long (asked once, after the
        cancellation arrived; the task is then un-cancelled)."""
        if task not in self._overdue:
            return False
        self._overdue.discard(task)
        task.uncancel()
        return True

    def _schedule(self) -> None:
        assert self._loop is not None
        self._checking = self._loop.call_later(self.tick, self._tick)

    def _tick(self) -> None:
        self._checking = None
        self.check()
        # Tick only while calls are running: an idle server sleeps.
        if self._deadlines:
            self._schedule()

    def check(self) -> None:
        """Cancel every watched task past its deadline (each tick does this)."""
        now = self._now()
        for task, deadline in self._deadlines.items():
            if deadline <= now and task not in self._overdue:
                self._overdue.add(task)
                task.cancel()
        self._overdue.intersection_update(self._deadlines)
