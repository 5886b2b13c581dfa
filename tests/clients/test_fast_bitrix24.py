"""fast_bitrix24 from PyPI against a real server process: paging, batching, pacing.

fast_bitrix24 trusts certificates through aiohttp's default SSL context, so each
test hands it a session whose context trusts b24local's CA.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime

import aiohttp
import pytest
from fast_bitrix24 import BitrixAsync

from b24local import admin
from b24local.store.engine import sqlite_url

pytestmark = pytest.mark.process

USERS = 149  # plus the administrator: 150 users, three pages of user.get


async def _seed(data_dir, count: int) -> None:
    store = await admin.open_store(sqlite_url(data_dir))
    try:
        for index in range(count):
            await admin.add_user(
                store, datetime.now(UTC), name=f"Person{index:03d}", last_name="Seeded"
            )
    finally:
        await store.close()


def _client(server, statuses: list[int] | None = None) -> tuple[BitrixAsync, aiohttp.ClientSession]:
    """fast_bitrix24 on a session trusting the CA; ``statuses`` collects every
    HTTP status the server answered."""
    context = ssl.create_default_context(cafile=str(server.ca_path))
    trace = aiohttp.TraceConfig()

    async def on_request_end(_session, _context, params) -> None:
        if statuses is not None:
            statuses.append(params.response.status)

    trace.on_request_end.append(on_request_end)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context),
        raise_for_status=True,
        trace_configs=[trace],
    )
    return BitrixAsync(server.webhook_url, client=session, verbose=False), session


@pytest.fixture(scope="module")
def seeded(launch_server):
    server = launch_server(args=["--limits", "on"])
    asyncio.run(_seed(server.data_dir, USERS))
    return server


def test_get_all_pages_through_user_get(seeded):
    async def go():
        bitrix, session = _client(seeded)
        async with session:
            return await bitrix.get_all("user.get")

    users = asyncio.run(go())
    ids = sorted(int(user["ID"]) for user in users)
    assert ids == list(range(1, USERS + 2))
    assert {u["LAST_NAME"] for u in users if u["ID"] != "1"} == {"Seeded"}


def test_call_packs_many_calls_into_batches(seeded):
    wanted = list(range(1, 121))

    async def go():
        bitrix, session = _client(seeded)
        async with session:
            return await bitrix.call("im.user.get", [{"ID": i} for i in wanted])

    cards = asyncio.run(go())
    # fast_bitrix24 sends the batches at once and keeps the answers in the order
    # they arrive (its own comment says so): every card, in any order.
    by_id = {card["id"]: card for card in cards}
    assert sorted(by_id) == wanted and len(cards) == len(wanted)
    assert by_id[2]["first_name"] == "Person000"


def test_call_with_a_single_write(seeded):
    async def go():
        bitrix, session = _client(seeded)
        async with session:
            await bitrix.call("im.user.status.set", {"STATUS": "dnd"})
            return await bitrix.call("im.user.status.get", raw=True)

    assert asyncio.run(go())["result"] == "dnd"


def test_its_pacing_stays_within_the_default_plan(launch_server):
    """3,000 calls: 60 batches, more than the default plan's bucket of 50 holds.
    fast_bitrix24 bursts 50 requests, then 2 a second, which is exactly what the
    default plan drains, so the limiter never refuses one."""
    fresh = launch_server(args=["--limits", "on"])
    calls = [{"ID": 1} for _ in range(3000)]
    statuses: list[int] = []

    async def go():
        bitrix, session = _client(fresh, statuses)
        async with session:
            return await bitrix.call("im.user.get", calls)

    cards = asyncio.run(go())
    assert [card["id"] for card in cards] == [1] * 3000
    assert len(statuses) == 60
    assert set(statuses) == {200}
