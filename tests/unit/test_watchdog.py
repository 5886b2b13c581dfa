"""The execution time limit's watchdog, driven by a clock the test moves."""

from __future__ import annotations

import asyncio

import pytest

from b24local.rest.watchdog import Watchdog


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _watched(watchdog: Watchdog, started: asyncio.Event, release: asyncio.Event) -> str:
    task = asyncio.current_task()
    assert task is not None
    watchdog.start(task)
    try:
        started.set()
        await release.wait()
        return "finished"
    except asyncio.CancelledError:
        if watchdog.overdue(task):
            return "overdue"
        raise
    finally:
        watchdog.stop(task)


def test_only_calls_past_their_deadline_are_cancelled():
    async def scenario() -> None:
        ticks = Ticks()
        watchdog = Watchdog(60, now=ticks)
        release = asyncio.Event()
        early, late = asyncio.Event(), asyncio.Event()
        first = asyncio.ensure_future(_watched(watchdog, early, release))
        await early.wait()
        ticks.now += 30
        second = asyncio.ensure_future(_watched(watchdog, late, release))
        await late.wait()

        ticks.now += 29.9
        watchdog.check()
        await asyncio.sleep(0)
        assert not first.done() and not second.done()

        ticks.now += 0.1  # the first has run its 60 s; the second 30.1 s
        watchdog.check()
        assert await first == "overdue"
        assert not second.done()
        # A cancelled task is un-cancelled once its timeout is reported.
        assert first.cancelling() == 0

        release.set()
        assert await second == "finished"

    asyncio.run(scenario())


def test_another_cancellation_is_not_taken_for_a_timeout():
    async def scenario() -> None:
        ticks = Ticks()
        watchdog = Watchdog(60, now=ticks)
        started, release = asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(_watched(watchdog, started, release))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        ticks.now += 120
        watchdog.check()  # nothing left to watch, nothing fails

    asyncio.run(scenario())


def test_the_tick_follows_the_limit():
    assert Watchdog(60).tick == 1.0
    assert Watchdog(0.2).tick == pytest.approx(0.02)
    assert Watchdog(0.01).tick == 0.01
