"""The core of events: raising writes deliveries and offline rows in the caller's
transaction, so an aborted change raises nothing and a committed one keeps them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from b24local import admin
from b24local.events.raising import raise_event
from b24local.store import events as event_store
from b24local.store.tables import event_deliveries, offline_events


class Aborted(Exception):
    pass


async def _bind_and_raise(store, now, app_id: int, *, abort: bool) -> None:
    async with store.transaction(write=True) as conn:
        await event_store.add_handler(
            conn, 1, event="onuseradd", handler="http://127.0.0.1:9/h", now=now, user_id=1,
            app_id=app_id,
        )  # fmt: skip
        await event_store.add_handler(
            conn, 1, event="ONUSERADD", handler="", now=now, user_id=1, app_id=app_id,
            offline=True, connector="sync",
        )  # fmt: skip
    try:
        async with store.transaction(write=True) as conn:
            await raise_event(conn, 1, "ONUSERADD", {"FIELDS": {"ID": 7}}, now=now, actor_id=1)
            if abort:
                raise Aborted
    except Aborted:
        pass


async def _counts(store) -> tuple[int, int]:
    async with store.transaction() as conn:
        sent = (await conn.execute(select(func.count()).select_from(event_deliveries))).scalar()
        queued = (await conn.execute(select(func.count()).select_from(offline_events))).scalar()
        return sent, queued


@pytest.mark.parametrize(("abort", "expected"), [(True, (0, 0)), (False, (1, 1))])
def test_events_commit_and_roll_back_with_the_change(server, abort, expected):
    now = server.clock.now()
    made, _secret = server.run(
        admin.add_app, server.store, now, name="Hears", scopes=["user"],
        redirect_uri="https://app.example/cb",
    )  # fmt: skip
    server.run(_bind_and_raise, server.store, now, made.id, abort=abort)
    assert server.run(_counts, server.store) == expected


def test_an_offline_handler_does_not_hear_its_own_connector(server):
    now = server.clock.now()
    made, _secret = server.run(
        admin.add_app, server.store, now, name="Hears", scopes=["user"],
        redirect_uri="https://app.example/cb",
    )  # fmt: skip

    async def scenario(store) -> tuple[int, int]:
        async with store.transaction(write=True) as conn:
            await event_store.add_handler(
                conn, 1, event="ONUSERADD", handler="", now=now, user_id=1, app_id=made.id,
                offline=True, connector="sync",
            )  # fmt: skip
            mine = {"now": now, "app_id": made.id}
            await raise_event(conn, 1, "ONUSERADD", {}, connector="sync", **mine)
            await raise_event(conn, 1, "ONUSERADD", {}, connector="other", **mine)
        return await _counts(store)

    assert server.run(scenario, server.store) == (0, 1)
