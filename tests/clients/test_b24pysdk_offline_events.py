"""The official Python SDK (b24pysdk) reading an application's offline queue on a real
``b24local serve``: ``client.event.offline.list/get/clear/error``."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from b24pysdk import BitrixApp, BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError

from b24local import admin
from b24local.events.raising import raise_event
from b24local.store import apps
from b24local.store import events as event_store
from b24local.store.engine import sqlite_url
from sdkhooks import app_client, trust_local_ca  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.process


async def _queue_users(url: str, client_id: str, now: datetime, ids: list[str]) -> None:
    """Bind an offline handler for the app and raise ONUSERADD for each ID, in the
    server's own database (nothing in b24local raises it yet for an SDK to trigger)."""
    store = await admin.open_store(url)
    try:
        async with store.transaction(write=True) as conn:
            app = await apps.by_client_id(conn, client_id)
            assert app is not None
            await event_store.add_handler(
                conn, app.portal_id, event="ONUSERADD", handler="", now=now, user_id=1,
                app_id=app.id, offline=True,
            )  # fmt: skip
            for user_id in ids:
                data = {"FIELDS": {"ID": user_id}}
                await raise_event(conn, app.portal_id, "ONUSERADD", data, now=now, actor_id=1)
    finally:
        await store.close()


def test_offline_queue_through_the_sdk(live_server) -> None:
    printed = live_server.cli("app", "add", "--name", "SDK Offline", "--scope", "user")
    client_id, secret = printed.split(" ")
    app = BitrixApp(client_id=client_id, client_secret=secret)
    now = datetime.fromisoformat(live_server.dev("GET", "/_b24local/clock")["now"])
    url = live_server.db or sqlite_url(live_server.data_dir)
    asyncio.run(_queue_users(url, client_id, now, ["11", "12", "13"]))
    boss = app_client(live_server, app, 1)
    offline = boss.event.offline

    listed = offline.list().result
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in listed] == ["11", "12", "13"]
    assert {e["PROCESS_ID"] for e in listed} == {""}

    held = offline.get(clear=False, limit=2).result
    process = held["process_id"]
    assert [e["EVENT_NAME"] for e in held["events"]] == ["ONUSERADD", "ONUSERADD"]
    first, second = held["events"]
    assert offline.error(process, message_id=[first["MESSAGE_ID"]]).result is True
    assert offline.clear(process, bitrix_id=[int(second["ID"])]).result is True
    rest = offline.get().result
    assert rest["process_id"] is None
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in rest["events"]] == ["13"]
    failed = offline.get(error=True).result["events"]
    assert [e["MESSAGE_ID"] for e in failed] == [first["MESSAGE_ID"]]
    assert offline.list().result == []

    hook = Client(BitrixWebhook(domain=live_server.domain, webhook_token=live_server.webhook_token))
    with pytest.raises(BitrixAPIError) as raised:
        hook.event.offline.list().result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (403, "WRONG_AUTH_TYPE")
