"""Events from a real ``b24local serve --tls --dev`` process to a handler on a local
port: the change is written by another process (this test, on the same database),
the server sends it after the commit, the handler reads the form as PHP would, and
the official SDK calls back with the token the event carried."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from b24pysdk import BitrixApp, BitrixToken, Client

from b24local import admin
from b24local.events.raising import raise_event
from b24local.store import apps
from b24local.store import events as event_store
from b24local.store.engine import sqlite_url
from eventhandler import event_handler
from sdkhooks import trust_local_ca  # noqa: F401 (an autouse fixture)

pytestmark = [
    pytest.mark.process,
    pytest.mark.parametrize("live_server", ["sqlite", "postgresql"], indirect=True, scope="module"),
]


def change_elsewhere(live_server, client_id: str, url: str) -> None:
    """Bind the app's handler and raise ONUSERADD from this process, as a second
    server on the same database would."""

    async def go() -> None:
        store = await admin.open_store(live_server.db or sqlite_url(live_server.data_dir))
        try:
            async with store.transaction(write=True) as conn:
                app = await apps.by_client_id(conn, client_id)
                assert app is not None
                # The dev server's clock starts at the real time and runs.
                now = datetime.now(UTC)
                await event_store.add_handler(
                    conn, 1, event="ONUSERADD", handler=url, now=now, user_id=1, app_id=app.id
                )
                await raise_event(conn, 1, "ONUSERADD", {"FIELDS": {"ID": "1"}}, now=now,
                                  actor_id=1)  # fmt: skip
        finally:
            await store.close()

    asyncio.run(go())


def test_the_handler_gets_a_token_the_sdk_can_use(live_server):
    client_id, secret = live_server.cli(
        "app", "add", "--name", "Hears", "--scope", "user", "--redirect-uri",
        "https://app.example/cb",
    ).split(" ")  # fmt: skip
    with event_handler() as handler:
        change_elsewhere(live_server, client_id, handler.url())
        query = urlencode({"event": "ONUSERADD", "timeout": 10})
        row = live_server.dev("GET", f"/_b24local/events/deliveries/wait?{query}")["delivery"]
        assert row["state"] == "delivered", row
        (got,) = handler.wait_for(1)
    auth = got["auth"]
    assert auth["client_endpoint"] == f"{live_server.base_url}/rest/"
    assert auth["domain"] == live_server.domain
    token = BitrixToken(
        domain=auth["domain"],
        auth_token=auth["access_token"],
        bitrix_app=BitrixApp(client_id=client_id, client_secret=secret),
    )
    me = Client(token).user.current().result
    assert me["ID"] == "1"
