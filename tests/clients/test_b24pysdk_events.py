"""The official Python SDK (b24pysdk) with an application's token against a real
``b24local serve``: ``client.event.bind/get/unbind``, ``client.events`` and the
SDK's own event objects built from ``event.get``."""

from __future__ import annotations

import pytest
from b24pysdk import BitrixApp, BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError

from sdkhooks import app_client, trust_local_ca  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.process

HANDLER = "https://app.example/handler/"


def test_events_through_the_sdk(live_server) -> None:
    printed = live_server.cli("app", "add", "--name", "SDK Events", "--scope", "user")
    client_id, secret = printed.split(" ")
    app = BitrixApp(client_id=client_id, client_secret=secret)
    ada = int(live_server.cli("user", "add", "--name", "Ada", "--last-name", "Ev"))
    boss, staff = app_client(live_server, app, 1), app_client(live_server, app, ada)

    listed = boss.events().result
    assert listed[0] == "ONAPPUNINSTALL" and "ONUSERADD" in listed
    assert boss.events(scope="user").result == ["ONUSERADD"]

    assert boss.event.bind("ONUSERADD", HANDLER).result is True
    assert boss.event.bind("OnAppUninstall", HANDLER, auth_type=1).result is True
    assert boss.event.bind("ONUSERADD", event_type="offline", auth_connector="sync").result
    assert staff.event.bind("ONUSERADD", "https://app.example/ada/").result is True

    assert boss.event.get().result == [
        {"event": "ONUSERADD", "handler": HANDLER, "auth_type": "0", "offline": 0},
        {"event": "ONAPPUNINSTALL", "handler": HANDLER, "auth_type": "1", "offline": 0},
        {"event": "ONUSERADD", "connector_id": "sync", "offline": 1},
        {
            "event": "ONUSERADD",
            "handler": "https://app.example/ada/",
            "auth_type": str(ada),
            "offline": 0,
        },
    ]
    # The SDK's objects read the same answer: types and keys as it expects them.
    mine = staff.event.get().values
    assert [(e.event, e.handler, e.auth_type, e.offline) for e in mine] == [
        ("ONUSERADD", "https://app.example/ada/", ada, False)
    ]
    assert mine[0].delete() is True
    assert staff.event.get().result == []

    with pytest.raises(BitrixAPIError) as raised:
        boss.event.bind("ONUSERADD", HANDLER).result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (400, "ERROR_CORE")
    assert raised.value.error_description.endswith("Handler already binded")

    with pytest.raises(BitrixAPIError) as raised:
        staff.event.bind("ONUSERADD", event_type="offline").result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (403, "ACCESS_DENIED")

    with pytest.raises(BitrixAPIError) as raised:
        boss.event.bind("ONCRMLEADADD", HANDLER).result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (400, "ERROR_EVENT_NOT_FOUND")

    assert boss.event.unbind("ONUSERADD", HANDLER).result == {"count": 1}
    # The SDK sends no auth_connector here: the "sync" binding is not this call's.
    assert boss.event.unbind("ONUSERADD", event_type="offline").value == 0

    hook = Client(BitrixWebhook(domain=live_server.domain, webhook_token=live_server.webhook_token))
    with pytest.raises(BitrixAPIError) as raised:
        hook.event.get().result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (403, "WRONG_AUTH_TYPE")
