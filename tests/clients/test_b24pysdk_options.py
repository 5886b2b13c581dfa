"""The official Python SDK (b24pysdk) with an application's token against a real
``b24local serve``: ``client.app.option`` and ``client.user.option``."""

from __future__ import annotations

import pytest
from b24pysdk import BitrixApp, BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError

from sdkhooks import app_client, trust_local_ca  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.process


def test_options_through_the_sdk(live_server) -> None:
    printed = live_server.cli("app", "add", "--name", "SDK Options", "--scope", "user")
    client_id, secret = printed.split(" ")
    app = BitrixApp(client_id=client_id, client_secret=secret)
    ivy = int(live_server.cli("user", "add", "--name", "Ivy", "--last-name", "Opt"))
    boss, staff = app_client(live_server, app, 1), app_client(live_server, app, ivy)

    assert boss.app.option.get().result == []
    settings = {"mode": "sync", "interval": 15, "targets": [1, 2], "nested": {"on": True}}
    assert boss.app.option.set(settings).result is True
    assert boss.app.option.get().result == settings
    assert staff.app.option.get(option="interval").result == 15
    assert staff.app.option.get(option="absent").result is None

    with pytest.raises(BitrixAPIError) as raised:
        staff.app.option.set({"mode": "off"}).result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (400, "ACCESS_DENIED")
    assert raised.value.error_description == "Access denied! Administrator authorization required"

    assert staff.user.option.set({"theme": "dark"}).result is True
    assert staff.user.option.get().result == {"theme": "dark"}
    assert boss.user.option.get(option="theme").result is None

    hook = Client(BitrixWebhook(domain=live_server.domain, webhook_token=live_server.webhook_token))
    with pytest.raises(BitrixAPIError) as raised:
        hook.app.option.get().result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (400, "ACCESS_DENIED")
    assert raised.value.error_description == "Access denied! Application context required"
