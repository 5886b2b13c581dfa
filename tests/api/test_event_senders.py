"""Several processes each run an event sender on one database (``serve --workers N``,
or servers on several hosts): every row still reaches its handler once.

Three senders race here, each with a store (and connections) of its own as a
process would have: the app's own and two more, all looking for due rows at
once, over and over, until the outbox is empty. (The ``--dev`` "run now", which
sends rows another sender has claimed too, is for one process: ``--dev`` refuses
``--workers``.)
"""

from __future__ import annotations

import asyncio
import time

import pytest

from b24local import admin
from b24local.config import Settings
from b24local.events.delivery import Sender
from b24local.events.raising import raise_event
from b24local.store import events as event_store
from b24local.store.engine import Store, create_engine
from eventhandler import event_handler
from eventrows import deliveries

HANDLERS = 6
EVENTS = 10


@pytest.fixture
def handler():
    with event_handler() as running:
        yield running


async def _outbox(store: Store, now, handler_urls: list[str]) -> None:
    """An application hearing ONUSERADD at every URL, and EVENTS users added."""
    app, _secret = await admin.add_app(
        store, now, name="Hears", scopes=["user"], redirect_uri="https://app.example/cb"
    )
    async with store.transaction(write=True) as conn:
        for url in handler_urls:
            await event_store.add_handler(
                conn, 1, event="ONUSERADD", handler=url, now=now, user_id=1, app_id=app.id
            )
    for n in range(EVENTS):
        async with store.transaction(write=True) as conn:
            data = {"FIELDS": {"ID": str(n)}}
            await raise_event(conn, 1, "ONUSERADD", data, now=now, actor_id=1)


#: Seconds a handler has: long, so that a busy machine fails no attempt (a failed
#: one would wait for a retry on the frozen clock).
PATIENT = 30.0


def test_senders_of_several_processes_never_send_a_row_twice(
    server_with, handler, db_url, tmp_path
):
    with server_with(event_timeout=PATIENT) as server:
        _race(server, handler, Settings(data_dir=tmp_path, db=db_url, limits=False,
                                        event_timeout=PATIENT))  # fmt: skip


def _race(server, handler, settings: Settings) -> None:
    db_url = settings.db_url
    urls = [handler.url(f"/h{n}") for n in range(HANDLERS)]
    server.run(_outbox, server.store, server.clock.now(), urls)

    async def race() -> None:
        stores = [Store(create_engine(db_url)) for _ in range(2)]
        senders = [Sender(lambda s=s: s, server.clock, settings) for s in stores]
        for sender in senders:
            await sender.start()
        try:
            deadline = time.monotonic() + 60
            while len(handler.received) < HANDLERS * EVENTS and time.monotonic() < deadline:
                await asyncio.gather(*(s.dispatch() for s in senders))
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # room for a second delivery, were there one
        finally:
            for sender in senders:
                await sender.stop()
            for store in stores:
                await store.close()

    server.run(race)

    got = [(r.path, r.form["data"]["FIELDS"]["ID"]) for r in handler.received]
    rows = deliveries(server)
    assert len(got) == HANDLERS * EVENTS, [
        (r["id"], r["state"], r["attempts"], r["error"]) for r in rows if r["state"] != "delivered"
    ]
    assert len(set(got)) == len(got), "a row was delivered twice"
    assert {(row["state"], row["attempts"]) for row in rows} == {("delivered", 1)}
