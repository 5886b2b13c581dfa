"""The leaky bucket is exact under concurrency: N requests that reach a real
``b24local serve --limits on`` at once, against a bucket with room for K, admit
exactly K and refuse the rest with ``QUERY_LIMIT_EXCEEDED``.

The server clock is frozen, so nothing drains while the burst is in flight. The
limits are kept in memory, then in Redis (``serve --redis``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from redisrun import keys_under, need_redis, redis_prefix

pytestmark = pytest.mark.process

BUCKET = 12
BURST = 60


async def burst(srv, url: str, count: int) -> list[httpx.Response]:
    """``count`` simultaneous POSTs, each on its own already-open connection."""
    async with httpx.AsyncClient(
        verify=srv.ssl_context(),
        trust_env=False,
        timeout=60,
        limits=httpx.Limits(max_connections=count, max_keepalive_connections=count),
    ) as client:
        # Open the connections (TLS handshakes) on the dev surface, which the bucket
        # does not meter, so the real round reaches the server together.
        bearer = {"Authorization": f"Bearer {srv.dev_token}"}
        warm = await asyncio.gather(
            *(client.get(f"{srv.base_url}/_b24local/clock", headers=bearer) for _ in range(count))
        )
        assert all(r.status_code == 200 for r in warm)
        return await asyncio.gather(*(client.post(url, json={}) for _ in range(count)))


@pytest.fixture(params=["memory", "redis"])
def kept_in(request) -> Iterator[list[str]]:
    """The ``serve`` options that keep the limits in memory, or in Redis."""
    if request.param == "memory":
        yield []
        return
    with redis_prefix() as prefix:
        yield ["--redis", need_redis(), "--redis-prefix", prefix]
        # The server counted in Redis, not in the memory it falls back to.
        assert keys_under(need_redis(), prefix)


def test_a_burst_admits_exactly_the_bucket(launch_server, kept_in) -> None:
    srv = launch_server(args=["--limits", "on", "--rate-threshold", str(BUCKET), *kept_in])
    srv.dev(
        "POST",
        "/_b24local/clock",
        {"now": datetime(2026, 3, 2, 9, tzinfo=UTC).isoformat(), "freeze": True},
    )
    other = srv.cli("webhook", "add", "--user", "1", "--scope", "im")

    answers = asyncio.run(burst(srv, f"{srv.webhook_url}server.time", BURST))

    admitted = [r for r in answers if r.status_code == 200]
    refused = [r for r in answers if r.status_code != 200]
    assert len(admitted) == BUCKET
    assert len(refused) == BURST - BUCKET
    assert all(r.status_code == 503 for r in refused)
    assert {r.json()["error"] for r in refused} == {"QUERY_LIMIT_EXCEEDED"}
    # The bucket is full and the clock stands still: the next call is refused too ...
    again = asyncio.run(burst(srv, f"{srv.webhook_url}server.time", 1))
    assert again[0].json()["error"] == "QUERY_LIMIT_EXCEEDED"
    # ... while another webhook has a bucket of its own.
    theirs = asyncio.run(burst(srv, f"{srv.base_url}/rest/{other}/server.time", BURST))
    assert sum(r.status_code == 200 for r in theirs) == BUCKET
