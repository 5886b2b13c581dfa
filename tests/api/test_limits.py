"""The cloud's limits: the leaky bucket and the operating-time baskets, on the clock.

Each test runs on SQLite and PostgreSQL with the limits in memory, and on SQLite
with the limits in Redis (``serve --redis``): where they are kept changes nothing a
client sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from b24local.store.engine import sqlite_url
from b24local.store.tables import portals
from conftest import START
from preparing import pg_restored
from redisrun import REDIS_URL, keys_under, redis_prefix

LIMITED = {"limits": True, "rate_threshold": 5, "rate_drain": 1}


@pytest.fixture(
    params=[("sqlite", "memory"), ("postgresql", "memory"), ("sqlite", "redis")],
    ids=["sqlite", "postgresql", "sqlite-redis"],
)
def kept(request) -> tuple[str, str]:
    """The database, and where the limits are kept."""
    return request.param


@pytest.fixture
def db_url(kept: tuple[str, str], tmp_path: Path) -> str:
    return sqlite_url(tmp_path) if kept[0] == "sqlite" else pg_restored(START)


@pytest.fixture
def server_with(kept: tuple[str, str], server_with):
    """The conftest's, with the limits in Redis (under a prefix of the test's own)
    for the Redis run."""
    if kept[1] == "memory":
        return server_with

    @contextmanager
    def start(**settings: Any) -> Iterator[Any]:
        with redis_prefix() as prefix:
            settings.update(redis_url=REDIS_URL, redis_prefix=prefix)
            with server_with(**settings) as srv:
                yield srv
            # The limits went through Redis, not the memory it falls back to.
            assert keys_under(REDIS_URL, prefix)

    return start


def codes(responses) -> list[str | int]:
    return [r.json().get("error", r.status_code) for r in responses]


def test_limits_are_off_in_the_ordinary_test_server(server):
    assert all(server.call("server.time").status_code == 200 for _ in range(80))


def test_the_bucket_admits_its_size_then_refuses(server_with):
    with server_with(**LIMITED) as srv:
        answers = [srv.call("server.time") for _ in range(7)]
        assert codes(answers) == [200] * 5 + ["QUERY_LIMIT_EXCEEDED"] * 2
        refused = answers[-1]
        assert refused.status_code == 503
        assert refused.json() == {
            "error": "QUERY_LIMIT_EXCEEDED",
            "error_description": "Too many requests",
        }


def test_the_bucket_drains_with_the_clock(server_with):
    with server_with(**LIMITED) as srv:
        for _ in range(5):
            srv.call("server.time")
        assert srv.call("server.time").status_code == 503
        srv.clock.advance(2)  # drains two
        assert codes([srv.call("server.time") for _ in range(3)]) == [
            200,
            200,
            "QUERY_LIMIT_EXCEEDED",
        ]


def test_each_webhook_has_its_own_bucket(server_with):
    with server_with(**LIMITED) as srv:
        other = srv.add_webhook(srv.add_user(), ["im"])
        for _ in range(5):
            srv.call("server.time")
        assert srv.call("server.time").status_code == 503
        assert srv.call("server.time", hook=other).status_code == 200


def test_a_batch_is_one_request(server_with):
    with server_with(**LIMITED) as srv:
        cmd = {f"c{i}": "server.time" for i in range(20)}
        answer = srv.call("batch", {"cmd": cmd})
        assert answer.status_code == 200
        assert answer.json()["result"]["result_error"] == []


def test_plan_defaults_and_a_portal_setting(server_with):
    with server_with(limits=True) as srv:
        # Any plan but enterprise: 50 at once.
        assert codes([srv.call("server.time") for _ in range(51)])[-2:] == [
            200,
            "QUERY_LIMIT_EXCEEDED",
        ]

        async def portal_rate():
            async with srv.store.transaction(write=True) as conn:
                await conn.execute(update(portals).values(rate_threshold=60, rate_drain=1))

        srv.run(portal_rate)
        assert codes([srv.call("server.time") for _ in range(11)])[-2:] == [
            200,
            "QUERY_LIMIT_EXCEEDED",
        ]


def set_portal(srv, **values) -> None:
    async def go():
        async with srv.store.transaction(write=True) as conn:
            await conn.execute(update(portals).values(**values))

    srv.run(go)


def bucket_of(srv) -> tuple[int, int]:
    """The bucket as a client meets it: how many calls an empty one admits, and how
    many more one second later."""
    size = 0
    while srv.call("server.time").status_code == 200:
        size += 1
        assert size <= 1000, "the bucket never filled"
    srv.clock.advance(1)
    drained = 0
    while srv.call("server.time").status_code == 200:
        drained += 1
    return size, drained


def test_the_plan_gives_both_values(server_with):
    with server_with(limits=True) as srv:
        assert bucket_of(srv) == (50, 2)


def test_a_portal_setting_only_the_threshold_keeps_its_plans_drain(server_with):
    with server_with(limits=True) as srv:
        set_portal(srv, plan="enterprise", rate_threshold=10, rate_drain=None)
        assert bucket_of(srv) == (10, 5)


def test_a_portal_setting_only_the_drain_keeps_the_serve_threshold(server_with):
    with server_with(limits=True, rate_threshold=8, rate_drain=1) as srv:
        set_portal(srv, rate_drain=3)
        assert bucket_of(srv) == (8, 3)


@pytest.mark.parametrize(
    ("flags", "plan", "expected"),
    [
        ({"rate_threshold": 10}, "enterprise", (10, 5)),
        ({"rate_threshold": 10}, "professional", (10, 2)),
        ({"rate_drain": 4}, "professional", (50, 4)),
    ],
)
def test_a_serve_flag_replaces_only_its_own_value(server_with, flags, plan, expected):
    with server_with(limits=True, **flags) as srv:
        set_portal(srv, plan=plan)
        assert bucket_of(srv) == expected


def test_enterprise_plan_allows_250(server_with):
    with server_with(limits=True) as srv:

        async def enterprise():
            async with srv.store.transaction(write=True) as conn:
                await conn.execute(update(portals).values(plan="enterprise"))

        srv.run(enterprise)
        answers = codes([srv.call("server.time") for _ in range(251)])
        assert answers[:250] == [200] * 250 and answers[250] == "QUERY_LIMIT_EXCEEDED"


# --- operating time ----------------------------------------------------------------------


@pytest.fixture
def metered(server_with):
    # A tiny limit: one call's own run time is enough to pass it.
    with server_with(limits=True, rate_threshold=1000, operating_limit=0.000001) as srv:
        yield srv


def test_operating_accumulates_and_blocks_the_method(metered):
    first = metered.call("im.user.status.get")
    assert first.status_code == 200
    time = first.json()["time"]
    assert time["operating"] > 0
    assert time["operating_reset_at"] == int(metered.clock.now().timestamp()) + 600
    blocked = metered.call("im.user.status.get")
    assert blocked.status_code == 429
    assert blocked.json() == {
        "error": "OPERATION_TIME_LIMIT",
        "error_description": "Method is blocked due to operation time limit.",
    }
    # Other methods and other clients go on.
    assert metered.call("server.time").status_code == 200
    other = metered.add_webhook(metered.add_user(), ["im"])
    assert metered.call("im.user.status.get", hook=other).status_code == 200


def test_a_client_hammering_a_failing_method_is_blocked(server_with):
    with server_with(limits=True, rate_threshold=10_000, operating_limit=0.002) as srv:
        answers = []
        while len(answers) < 500:
            answers.append(srv.call("timeman.status", {"USER_ID": 999}))
            if answers[-1].status_code == 429:
                break
        *failed, blocked = answers
        # Every call before the block failed, and their time added up past the limit.
        assert failed and all(
            a.json() == {"error": "", "error_description": "User not found"} for a in failed
        )
        assert blocked.json()["error"] == "OPERATION_TIME_LIMIT"
        # Blocked whatever the parameters, until the baskets expire.
        assert srv.call("timeman.status").status_code == 429
        srv.clock.advance(600)
        assert srv.call("timeman.status").status_code == 200


def test_failing_calls_in_a_batch_count_too(metered):
    cmd = {"a": "im.user.get?ID=999", "b": "im.user.get?ID=1"}
    inner = metered.call("batch", {"cmd": cmd}).json()["result"]
    assert inner["result_error"]["a"]["error"] == "USER_NOT_EXISTS"
    assert inner["result_error"]["b"]["error"] == "OPERATION_TIME_LIMIT"


def test_the_oldest_basket_expires_after_ten_minutes(metered):
    metered.call("im.user.status.get")
    metered.clock.advance(599)
    assert metered.call("im.user.status.get").status_code == 429
    metered.clock.advance(1)
    again = metered.call("im.user.status.get")
    assert again.status_code == 200
    assert again.json()["time"]["operating_reset_at"] == int(metered.clock.now().timestamp()) + 600


def test_a_basket_is_the_minute_from_its_first_call(server_with):
    # With baskets per minute of the clock, the calls at 59 s and 60 s would fall in
    # two, the second outliving the first: eleven baskets could be live at once.
    with server_with(limits=True) as srv:
        start = int(srv.clock.now().timestamp())  # on a minute of the clock
        srv.clock.advance(59)
        srv.call("im.user.status.get")
        srv.clock.advance(1)  # the clock's next minute, the basket's same one
        time = srv.call("im.user.status.get").json()["time"]
        assert time["operating_reset_at"] == start + 59 + 600
        srv.clock.advance(599)
        # Both calls expired together with their basket: only this call counts.
        time = srv.call("im.user.status.get").json()["time"]
        assert time["operating"] == time["processing"]
        assert time["operating_reset_at"] == start + 659 + 600


def test_batch_itself_is_not_metered_but_its_calls_are(metered):
    answer = metered.call("batch", {"cmd": {"a": "im.user.status.get", "b": "im.user.status.get"}})
    body = answer.json()
    assert answer.status_code == 200
    assert body["time"]["operating"] == 0
    assert body["result"]["result"] == {"a": "online"}
    assert body["result"]["result_error"]["b"]["error"] == "OPERATION_TIME_LIMIT"
    assert body["result"]["result_time"]["a"]["operating"] > 0
