"""``serve --redis``: the limits kept in Redis, through HTTP. Simultaneous calls
and several servers fill one bucket exactly; a Redis that dies, hangs or comes
back empty never costs a call more than the fallback to memory.

The database does not matter here: SQLite only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from b24local.rest.redislimits import RedisLimits
from b24local.store.engine import sqlite_url
from conftest import DEV_TOKEN, make_server
from redisrun import PrivateRedis, keys_under, need_redis, private_redis, redis_prefix


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_prefix() as chosen:
        yield chosen


def in_redis(prefix: str, **settings: Any) -> dict[str, Any]:
    return {"limits": True, "redis_url": need_redis(), "redis_prefix": prefix, **settings}


def codes(answers: list[httpx.Response]) -> list[int]:
    return [a.status_code for a in answers]


def burst(srv, count: int, method: str = "server.time") -> list[httpx.Response]:
    """``count`` calls reaching the app at once."""

    async def together() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=srv.http.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await asyncio.gather(
                *(http.post(f"{srv.webhook}{method}", json={}) for _ in range(count))
            )

    return srv.run(together)


def test_simultaneous_calls_fill_the_bucket_exactly(server_with, prefix):
    with server_with(**in_redis(prefix, rate_threshold=50, rate_drain=2)) as srv:
        answers = burst(srv, 120)
    assert sorted(codes(answers)) == [200] * 50 + [503] * 70
    assert {a.json()["error"] for a in answers if a.status_code == 503} == {"QUERY_LIMIT_EXCEEDED"}


@pytest.fixture
def two_servers(clock, tmp_path: Path, prefix: str):
    """Two apps, each with its own database and its own connections to Redis, as two
    processes would be: their portal and webhook have the same IDs, so under one
    prefix they count against the same bucket and baskets."""
    made = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        settings = in_redis(prefix, rate_threshold=50, rate_drain=2)
        http, srv = make_server(sqlite_url(tmp_path / name), clock, tmp_path / name, **settings)
        made.append((http, srv))
    with made[0][0], made[1][0]:
        yield made[0][1], made[1][1]


def test_two_servers_share_one_bucket(two_servers):
    answers: list[httpx.Response] = []
    start = threading.Barrier(2)

    def hammer(srv) -> None:
        start.wait()
        answers.extend(burst(srv, 60))

    threads = [threading.Thread(target=hammer, args=(srv,)) for srv in two_servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes(answers)) == [200] * 50 + [503] * 70


def test_two_servers_add_up_one_methods_operating_time(two_servers):
    first, second = two_servers
    mine = first.call("im.user.status.get").json()["time"]
    theirs = second.call("im.user.status.get").json()["time"]
    # One basket (the clock stands still): the second call's sum holds the first's.
    assert theirs["operating"] == mine["operating"] + theirs["processing"]
    assert theirs["operating_reset_at"] == mine["operating_reset_at"]


def test_a_dev_reset_deletes_the_servers_keys(server_with, prefix):
    with server_with(**in_redis(prefix, rate_threshold=2, rate_drain=0.001)) as srv:
        assert codes([srv.call("server.time") for _ in range(3)]) == [200, 200, 503]
        srv.call("im.user.status.get")
        assert len(keys_under(need_redis(), prefix)) == 2
        reset = srv.http.post("/_b24local/reset", headers={"Authorization": f"Bearer {DEV_TOKEN}"})
        assert reset.status_code == 200
        assert keys_under(need_redis(), prefix) == []
        assert srv.call("server.time").status_code == 200


# --- when Redis is away --------------------------------------------------------------------


@pytest.fixture
def private(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def on_private(server_with, private: PrivateRedis):
    """A server whose limits are in the private Redis, tried again at every call
    while it is away (instead of every few seconds), and waiting at most 0.3 s."""
    with server_with(limits=True, rate_threshold=3, rate_drain=1, redis_url=private.url) as srv:
        limits = srv.http.app.state.runtime.limits
        assert isinstance(limits, RedisLimits)
        limits.timeout = 0.3
        limits.link.retry_after = 0.0
        yield srv


def test_calls_go_on_in_memory_while_redis_is_down(on_private, private, caplog):
    srv = on_private
    assert codes([srv.call("server.time") for _ in range(2)]) == [200, 200]
    assert private.keys()
    private.kill()
    with caplog.at_level(logging.WARNING, logger="b24local.limits"):
        # This process's memory starts empty: its own bucket of 3, no 500.
        during = [srv.call("server.time") for _ in range(4)]
        assert codes(during) == [200, 200, 200, 503]
        assert during[-1].json()["error"] == "QUERY_LIMIT_EXCEEDED"
        # The metered path too, with its time block.
        srv.clock.advance(3)
        time = srv.call("im.user.status.get").json()["time"]
        assert time["operating"] == time["processing"]
        # Said once, however many calls fell back.
        down = [r for r in caplog.records if "does not answer" in r.getMessage()]
        assert len(down) == 1 and down[0].levelno == logging.ERROR
        assert str(private.port) in down[0].getMessage()

        # Back, empty (nothing was saved) and without the scripts: counted there again.
        private.start()
        srv.clock.advance(3)
        assert codes([srv.call("server.time") for _ in range(4)]) == [200, 200, 200, 503]
        assert private.keys()
        assert any("answers again" in r.getMessage() for r in caplog.records)


def test_a_hung_redis_costs_a_call_its_timeout_not_an_error(on_private, private):
    srv = on_private
    assert srv.call("server.time").status_code == 200
    private.pause()
    try:
        answers = [srv.call("server.time"), srv.call("im.user.status.get")]
    finally:
        private.resume()
    assert codes(answers) == [200, 200]
    # Redis answers again and counts again (what it had been sent while hung may
    # have run once it woke: it counts too, never less).
    limits = srv.http.app.state.runtime.limits
    assert srv.call("server.time").status_code in (200, 503)
    assert not limits.link.down
    assert codes([srv.call("server.time") for _ in range(3)])[-1] == 503


def test_rest_v3_is_limited_through_redis_too(server_with, prefix):
    settings = in_redis(prefix, rate_threshold=2, rate_drain=1, operating_limit=0.000001)
    with server_with(**settings) as srv:
        path = srv.webhook.replace("/rest/", "/rest/api/", 1) + "timeman.record.field.list"
        first, blocked = srv.http.post(path, json={}), srv.http.post(path, json={})
        assert first.status_code == 200
        assert first.json()["time"]["operating"] > 0
        # The one call's run time is past the tiny limit: the method is blocked.
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "OPERATION_TIME_LIMIT"
        # Both filled the bucket of 2.
        refused = srv.http.post(path, json={})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "QUERY_LIMIT_EXCEEDED"
        assert any(b":ops:" in key for key in keys_under(need_redis(), prefix))
