"""Several processes each run an event sender on one database (``serve --workers N``,
or servers on several hosts): every row still reaches its handler once.

Three senders race here, each with a store (and connections) of its own as a
process would have, all looking for due rows at once, over and over, until the
outbox is empty. (The ``--dev`` "run now", which
sends rows another sender has claimed too, is for one process: ``--dev`` refuses
``--workers``.)
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl

import httpx

from b24local import admin
from b24local.config import Settings
from b24local.events.delivery import Sender
from b24local.events.raising import raise_event
from b24local.rest.phpkeys import decode_pairs
from b24local.store import events as event_store
from b24local.store.engine import Store, create_engine
from eventrows import deliveries

HANDLERS = 6
EVENTS = 10


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


def test_senders_of_several_processes_never_send_a_row_twice(server, db_url, tmp_path):
    """Every post is recorded by the senders' HTTP transport itself (the handler's
    side of it: a real listening server adds only its own flakiness here), and the
    app's own sender is stopped first so that every post is seen."""
    server.run(server.http.app.state.runtime.sender.stop)
    urls = [f"http://handler.example/h{n}" for n in range(HANDLERS)]
    server.run(_outbox, server.store, server.clock.now(), urls)
    settings = Settings(data_dir=tmp_path, db=db_url, limits=False)
    posted: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = decode_pairs(parse_qsl(request.content.decode()), max_depth=16, max_count=1000)
        posted.append((request.url.path, form["data"]["FIELDS"]["ID"]))
        return httpx.Response(200, stream=httpx.ByteStream(b"ok"))

    async def race() -> None:
        stores = [Store(create_engine(db_url)) for _ in range(3)]
        senders = [
            Sender(lambda s=s: s, server.clock, settings, transport=httpx.MockTransport(handler))
            for s in stores
        ]
        for sender in senders:
            await sender.start()
        try:
            deadline = time.monotonic() + 60
            while len(posted) < HANDLERS * EVENTS and time.monotonic() < deadline:
                await asyncio.gather(*(s.dispatch() for s in senders))
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # room for a second post, were there one
        finally:
            for sender in senders:
                await sender.stop()
            for store in stores:
                await store.close()

    server.run(race)

    rows = deliveries(server)
    assert len(set(posted)) == HANDLERS * EVENTS, "a row was not delivered"
    assert len(posted) == len(set(posted)), "a row was delivered twice"
    outcomes = {(row["state"], row["attempts"], row["last_error"]) for row in rows}
    assert outcomes == {("delivered", 1, None)}
