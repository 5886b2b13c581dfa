"""PostgreSQL: calls waiting for a locked user wait in the process, not on pooled
connections, and a pool that stays full answers with a catalogue error.

The server here has a pool of two connections. The test itself locks users' rows
from a connection of its own, as a long write of another process would, and sees
through PostgreSQL which of the server's connections wait behind that lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient
from tests.api.test_oauth import install, tokens
from tests.restcalls import error_of, result

from b24local.app import create_app
from b24local.config import Settings
from b24local.store.engine import Store, create_engine
from conftest import DEV_TOKEN, Server, make_server
from preparing import prepared

pg_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

#: Two connections for calls, and the one the change-log reader holds.
POOL = {"pool_size": 3, "max_overflow": 0, "pool_timeout": 1}


@pytest.fixture
def small_pool(db_url, clock, tmp_path) -> Iterator[Server]:
    """A server on PostgreSQL whose pool holds two connections for calls (and the
    change-log reader's) and waits a second for one to come free."""
    boot, webhook = prepared(db_url, clock.now())
    config = Settings(data_dir=tmp_path, db=db_url, dev=True, limits=False)
    store = Store(create_engine(db_url, **POOL))
    app = create_app(config, clock=clock, dev_token=DEV_TOKEN, store=store)
    http = TestClient(app, base_url="http://127.0.0.1:8024", raise_server_exceptions=False)
    with http:
        server = Server(http, clock, webhook, boot.admin.id)
        yield server
        server.run(store.close)


class RowLocks:
    """Users' rows locked from a connection of the test's own, and the server's
    connections PostgreSQL shows waiting behind them."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    async def __aenter__(self) -> RowLocks:
        self.conn = await self.engine.connect()
        await self.conn.begin()
        self.pid = (await self.conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        return self

    async def lock(self, *user_ids: int) -> None:
        for user_id in user_ids:
            await self.conn.execute(
                sa.text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": user_id}
            )

    async def waiting(self) -> int:
        async with self.engine.connect() as other:
            found = await other.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": self.pid},
            )
            return found.scalar_one()

    async def until_waiting(self, count: int) -> None:
        for _ in range(500):
            if await self.waiting() >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"never {count} connection(s) waiting for the locked rows")

    async def release(self) -> None:
        await self.conn.commit()

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()
        await self.engine.dispose()


def _client(server: Server) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=server.http.app)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=30)


@pg_only
def test_calls_waiting_for_one_user_hold_one_connection(small_pool, db_url):
    server = small_pool
    other = server.add_user("Olga")
    other_hook = server.add_webhook(other, ["im"])
    before = result(server.call("im.user.status.get"))
    statuses = ["dnd", "away", "dnd", "away", "break", "dnd"]

    async def scenario():
        async with RowLocks(db_url) as locks, _client(server) as http:
            await locks.lock(server.admin_id)
            writes = [
                asyncio.ensure_future(
                    http.post(f"{server.webhook}im.user.status.set", json={"STATUS": status})
                )
                for status in statuses
            ]
            await locks.until_waiting(1)
            # The admin's six writes wait; the pool's other connection serves the rest.
            read = await http.post(f"{server.webhook}im.user.status.get")
            elsewhere = await http.post(f"{other_hook}im.user.status.set", json={"STATUS": "away"})
            waiting = await locks.waiting()
            pending = sum(not write.done() for write in writes)
            await locks.release()
            return read, elsewhere, waiting, pending, await asyncio.gather(*writes)

    read, elsewhere, waiting, pending, writes = server.run(scenario)

    assert result(read) == before  # the writes have not happened yet
    assert result(elsewhere) is True
    assert (waiting, pending) == (1, len(statuses))
    assert [result(answer) for answer in writes] == [True] * len(statuses)
    assert result(server.call("im.user.status.get")) in statuses


@pg_only
def test_writes_by_token_wait_for_their_user_too(small_pool, db_url):
    """A token names no user: its caller is looked up first, then it queues."""
    access = tokens(small_pool, install(small_pool))["access_token"]
    server = small_pool

    async def scenario():
        async with RowLocks(db_url) as locks, _client(server) as http:
            await locks.lock(server.admin_id)
            writes = [
                asyncio.ensure_future(
                    http.post("/rest/im.user.status.set", json={"auth": access, "STATUS": s})
                )
                for s in ("dnd", "away", "dnd", "away")
            ]
            await locks.until_waiting(1)
            read = await http.post("/rest/im.user.status.get", json={"auth": access})
            waiting = await locks.waiting()
            await locks.release()
            return read, waiting, await asyncio.gather(*writes)

    read, waiting, writes = server.run(scenario)

    assert read.status_code == 200, read.text
    assert waiting == 1
    assert [result(answer) for answer in writes] == [True] * 4


@pg_only
def test_a_pool_that_stays_full_answers_query_limit_exceeded(small_pool, db_url):
    server = small_pool
    other = server.add_user("Olga")
    other_hook = server.add_webhook(other, ["timeman"])

    async def scenario():
        async with RowLocks(db_url) as locks, _client(server) as http:
            await locks.lock(server.admin_id, other)
            # One write per locked user: each holds one of the pool's two connections.
            writes = [
                asyncio.ensure_future(http.post(f"{server.webhook}timeman.open")),
                asyncio.ensure_future(http.post(f"{other_hook}timeman.open")),
            ]
            await locks.until_waiting(2)
            refused = await http.post(f"{server.webhook}im.user.status.get")
            await locks.release()
            return refused, await asyncio.gather(*writes)

    refused, writes = server.run(scenario)

    assert error_of(refused) == (
        503,
        {
            "error": "QUERY_LIMIT_EXCEEDED",
            "error_description": "Too many requests: the server is busy, try again later",
        },
    )
    assert [result(answer)["STATUS"] for answer in writes] == ["OPENED", "OPENED"]
    assert result(server.call("timeman.status"))["STATUS"] == "OPENED"


@pg_only
def test_the_pool_for_calls_is_sized_by_the_setting(db_url, clock, tmp_path):
    """``serve --db-pool N``: N connections for calls, one more for the change log."""
    http, server = make_server(db_url, clock, tmp_path, db_pool=3)
    with http:
        assert result(server.call("im.user.status.get")) == "online"
        assert server.store.engine.pool.size() == 4


async def _until_queued(server: Server, count: int) -> None:
    """Until ``count`` calls hold or wait for the process's user queues."""
    queues = server.http.app.state.runtime.store.queues
    for _ in range(500):
        if sum(queue.holders for queue in queues._queues.values()) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {count} call(s) in the user queues")


def _token_write_queued_while(server: Server, db_url: str, meanwhile) -> tuple:
    """Two status changes by one app token: the first held up on the user's locked
    row, the second waiting in the user's queue behind it while ``meanwhile(locks)``
    happens; then the row is let go. Both answers."""
    access = tokens(server, install(server))["access_token"]

    async def scenario():
        async with RowLocks(db_url) as locks, _client(server) as http:
            await locks.lock(server.admin_id)
            first = asyncio.ensure_future(
                http.post("/rest/im.user.status.set", json={"auth": access, "STATUS": "dnd"})
            )
            await locks.until_waiting(1)
            queued = asyncio.ensure_future(
                http.post("/rest/im.user.status.set", json={"auth": access, "STATUS": "away"})
            )
            await _until_queued(server, 2)
            await meanwhile(locks)
            await locks.release()
            return await first, await queued

    return server.run(scenario)


@pg_only
def test_a_token_that_expires_while_its_call_waits_in_the_queue_is_refused(small_pool, db_url):
    """The caller a queued write looked up before its wait is checked again when its
    turn comes: the token's expiry counts at the moment the call acts."""
    server = small_pool

    async def meanwhile(_locks: RowLocks) -> None:
        server.clock.advance(2 * 3600)

    first, queued = _token_write_queued_while(server, db_url, meanwhile)

    assert result(first) is True
    assert error_of(queued)[1]["error"] == "expired_token"
    assert result(server.call("im.user.status.get")) == "dnd"


@pg_only
def test_a_webhook_with_a_wrong_secret_is_refused_without_waiting_in_the_queue(small_pool, db_url):
    """The user in a webhook's path is only trusted once its secret checks out: a
    stranger's writes naming a busy user are refused at once, not queued behind
    (and ahead of) that user's own calls."""
    server = small_pool
    stranger = f"/rest/{server.admin_id}/{'x' * 16}/im.user.status.set"

    async def scenario():
        async with RowLocks(db_url) as locks, _client(server) as http:
            await locks.lock(server.admin_id)
            write = asyncio.ensure_future(
                http.post(f"{server.webhook}im.user.status.set", json={"STATUS": "dnd"})
            )
            await locks.until_waiting(1)
            try:
                refused = await asyncio.wait_for(http.post(stranger, json={"STATUS": "away"}), 10)
            finally:
                await locks.release()
            return refused, await write

    refused, write = server.run(scenario)

    assert error_of(refused)[0] == 401
    assert result(write) is True


@pg_only
def test_a_token_revoked_while_its_call_waits_in_the_queue_is_refused(small_pool, db_url):
    """Another process (here ``psql``'s stand-in) deletes the token while a write
    made with it waits its turn: the write is refused when its turn comes."""
    server = small_pool

    async def meanwhile(locks: RowLocks) -> None:
        async with locks.engine.begin() as other:
            await other.execute(sa.text("DELETE FROM access_tokens"))

    first, queued = _token_write_queued_while(server, db_url, meanwhile)

    assert result(first) is True
    assert error_of(queued)[0] == 401
    assert result(server.call("im.user.status.get")) == "dnd"
