"""The limits kept in Redis give the answers the in-memory limits give, to the
last bit of every float, and stay exact when several processes share them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.entities import Portal, User
from b24local.rest.auth import Caller
from b24local.rest.errors import RestError
from b24local.rest.limits import PlatformLimits
from b24local.rest.redislimits import RedisLimits, where
from redisrun import REDIS_URL, keys_under, need_redis, redis_prefix

# A moment with a fraction of a second: timestamps are not whole floats.
START = datetime(2026, 3, 2, 8, 30, 0, 123457, tzinfo=UTC)
METHODS = ("im.user.get", "timeman.status")


def caller(client: str, *, portal_id: int = 1, plan: str = "basic") -> Caller:
    portal = Portal(portal_id, "b24.localhost", "m", plan, "active", "UTC", True)
    user = User(portal_id, 1, True, True, "Emily", "Smith")
    return Caller(portal, user, frozenset({"im"}), "webhook", client)


CALLERS = (caller("1"), caller("2"), caller("1", portal_id=2, plan="enterprise"))


async def outcome(call) -> object:
    """What a client would see: the answer, or the error's code."""
    try:
        return await call
    except RestError as error:
        return error.code


steps = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.floats(0, 700, allow_nan=False)),
        st.tuples(
            st.just("request"),
            st.integers(0, len(CALLERS) - 1),
            st.sampled_from((None, *METHODS)),
        ),
        st.tuples(st.just("method"), st.integers(0, len(CALLERS) - 1), st.sampled_from(METHODS)),
        st.tuples(
            st.just("record"),
            st.integers(0, len(CALLERS) - 1),
            st.sampled_from(METHODS),
            st.one_of(st.floats(0, 120, allow_nan=False), st.sampled_from((0.1, 0.2, 1e-300))),
        ),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    steps=steps,
    threshold=st.sampled_from((None, 1.0, 3.0, 4.5)),
    drain=st.sampled_from((None, 0.5, 2.0, 3.3)),
    limit=st.sampled_from((0.0, 50.0, 150.5)),
)
def test_redis_answers_as_memory_does(steps, threshold, drain, limit) -> None:
    need_redis()

    async def play(prefix: str) -> None:
        memory = PlatformLimits(threshold, drain, limit)
        shared = RedisLimits(
            REDIS_URL, prefix=prefix, threshold=threshold, drain=drain, operating_limit=limit
        )
        now = START
        try:
            for step in steps:
                kind = step[0]
                if kind == "wait":
                    now += timedelta(seconds=step[1])
                    continue
                who = CALLERS[step[1]]
                if kind == "request":
                    ours, theirs = (
                        limits.admit_request(who, now, step[2]) for limits in (memory, shared)
                    )
                elif kind == "method":
                    ours, theirs = (
                        limits.admit_method(who, step[2], now) for limits in (memory, shared)
                    )
                else:
                    ours, theirs = (
                        limits.record(who, step[2], now, step[3]) for limits in (memory, shared)
                    )
                expected, got = await outcome(ours), await outcome(theirs)
                # Operating compares its floats exactly.
                assert got == expected, (step, now)
            assert not shared.link.down
        finally:
            await shared.close()

    with redis_prefix() as prefix:
        asyncio.run(play(prefix))


def test_two_processes_fill_one_bucket_exactly() -> None:
    """Two servers' limits, each with its own connections, asked at once: the
    bucket admits its size across both, not its size in each."""
    url = need_redis()

    async def burst(prefix: str) -> list[object]:
        first, second = (RedisLimits(url, prefix=prefix, threshold=50, drain=2) for _ in "ab")
        try:
            calls = [
                outcome(limits.admit_request(CALLERS[0], START))
                for _ in range(80)
                for limits in (first, second)
            ]
            return await asyncio.gather(*calls)
        finally:
            await first.close()
            await second.close()

    with redis_prefix() as prefix:
        answers = asyncio.run(burst(prefix))
    assert answers.count(None) == 50
    assert answers.count("QUERY_LIMIT_EXCEEDED") == 110


def test_two_processes_add_to_one_methods_baskets() -> None:
    url = need_redis()
    memory = PlatformLimits(operating_limit=1.0)

    async def run(prefix: str) -> None:
        first, second = (RedisLimits(url, prefix=prefix, operating_limit=1.0) for _ in "ab")
        try:
            for seconds, limits, cost in ((0, first, 0.4), (30, second, 0.35), (90, first, 0.3)):
                moment = START + timedelta(seconds=seconds)
                assert await limits.record(CALLERS[0], "im.user.get", moment, cost) == (
                    await memory.record(CALLERS[0], "im.user.get", moment, cost)
                )
            later = START + timedelta(seconds=100)
            # 1.05 s over both: blocked for each, as for the memory.
            for limits in (first, second, memory):
                assert await outcome(limits.admit_method(CALLERS[0], "im.user.get", later)) == (
                    "OPERATION_TIME_LIMIT"
                )
                assert await limits.admit_request(CALLERS[0], later, "im.user.get") is True
            # Another client, another method: not blocked.
            assert await second.admit_request(CALLERS[1], later, "im.user.get") is False
            assert await second.admit_request(CALLERS[0], later, "timeman.status") is False
            # Once the first basket expires (600 s after it began) the sum is 0.65 s.
            expired = START + timedelta(seconds=600)
            assert await outcome(first.admit_method(CALLERS[0], "im.user.get", expired)) is None
        finally:
            await first.close()
            await second.close()

    with redis_prefix() as prefix:
        asyncio.run(run(prefix))


def test_keys_expire_and_forget_deletes_only_its_own() -> None:
    url = need_redis()

    async def run(mine: str, theirs: str) -> None:
        ours, others = RedisLimits(url, prefix=mine), RedisLimits(url, prefix=theirs)
        try:
            for limits in (ours, others):
                await limits.admit_request(CALLERS[0], START)
                await limits.record(CALLERS[0], "im.user.get", START, 0.5)
            client, _ = ours._connected()
            for key in keys_under(url, mine):
                # Nothing is kept for ever.
                assert 0 < await client.pttl(key) <= 1000 * (600 + 300)
            await ours.forget()
            assert keys_under(url, mine) == []
            assert len(keys_under(url, theirs)) == 2
        finally:
            await ours.close()
            await others.close()

    with redis_prefix() as mine, redis_prefix() as theirs:
        asyncio.run(run(mine, theirs))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@cache:6380/2", "redis://***@cache:6380/2"),
        ("rediss://app:s3cret@cache/1", "rediss://app:***@cache/1"),
    ],
)
def test_the_log_never_shows_the_password(url: str, shown: str) -> None:
    assert where(url) == shown


def test_a_url_that_names_no_redis_is_refused() -> None:
    with pytest.raises(ValueError, match="redis://"):
        RedisLimits("http://127.0.0.1:6379")


def test_a_bucket_that_never_drains_is_still_kept_in_redis() -> None:
    url = need_redis()

    async def run(prefix: str) -> list[object]:
        limits = RedisLimits(url, prefix=prefix, threshold=1e300, drain=1e-300)
        try:
            answers = [await outcome(limits.admit_request(CALLERS[0], START)) for _ in range(3)]
            assert not limits.link.down
            return answers
        finally:
            await limits.close()

    with redis_prefix() as prefix:
        assert asyncio.run(run(prefix)) == [None, None, None]
        assert keys_under(url, prefix)
