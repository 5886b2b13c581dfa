"""ONUSERADD from a real ``b24local serve --tls``: the official Python SDK (b24pysdk)
invites a user, and the server's outbox holds the event for the bound application,
with the page's data and the inviting administrator as the user to authorise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from b24pysdk import Client
from sqlalchemy import select

from b24local import admin
from b24local.store import events as event_store
from b24local.store.engine import sqlite_url
from b24local.store.tables import apps, event_deliveries
from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = [
    pytest.mark.process,
    pytest.mark.parametrize("live_server", ["sqlite", "postgresql"], indirect=True, scope="module"),
]

HANDLER = "http://127.0.0.1:9/onuseradd"
BOUND_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def in_store(live_server, work) -> Any:
    """Run ``work(conn)`` on the server's own database, beside the running server."""

    async def run() -> Any:
        store = await admin.open_store(live_server.db or sqlite_url(live_server.data_dir))
        try:
            async with store.transaction(write=True) as conn:
                return await work(conn)
        finally:
            await store.close()

    return asyncio.run(run())


def test_user_add_through_the_sdk_raises_onuseradd(live_server) -> None:
    client_id = live_server.cli("app", "add", "--name", "Hears", "--scope", "user").split()[0]

    async def bind(conn) -> int:
        found = await conn.execute(select(apps.c.id).where(apps.c.client_id == client_id))
        app_id = int(found.scalar_one())
        await event_store.add_handler(
            conn, 1, event="ONUSERADD", handler=HANDLER, now=BOUND_AT, user_id=1, app_id=app_id
        )
        return app_id

    app_id = in_store(live_server, bind)
    sdk = Client(webhook(live_server))
    new_id = sdk.user.add(
        {"EMAIL": "klaus@example.com", "NAME": "Klaus", "LAST_NAME": "Weber", "UF_DEPARTMENT": [1]}
    ).result

    async def rows(conn) -> list[dict[str, Any]]:
        found = await conn.execute(select(event_deliveries).order_by(event_deliveries.c.id))
        return [dict(row._mapping) for row in found if row.event == "ONUSERADD"]

    [row] = in_store(live_server, rows)
    assert (row["app_id"], row["handler_url"], row["auth_user_id"]) == (
        app_id,
        HANDLER,
        live_server.user_id,
    )
    data = row["data"]
    assert (data["ID"], data["NAME"], data["LAST_NAME"], data["EMAIL"]) == (
        new_id,
        "Klaus",
        "Weber",
        "klaus@example.com",
    )
    assert (data["ACTIVE"], data["UF_DEPARTMENT"]) == ("Y", [1])
