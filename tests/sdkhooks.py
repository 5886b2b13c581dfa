"""What every b24pysdk test module needs: the live server's CA trusted, its webhook,
and clients holding an application's token."""

from __future__ import annotations

import json

import pytest
from b24pysdk import BitrixApp, BitrixToken, BitrixWebhook, Client


@pytest.fixture(autouse=True)
def trust_local_ca(monkeypatch: pytest.MonkeyPatch, live_server) -> None:
    """Imported into a test module, trust the local CA for each of its tests."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live_server.ca_path))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def webhook(live_server, token: str | None = None) -> BitrixWebhook:
    return BitrixWebhook(
        domain=live_server.domain, webhook_token=token or live_server.webhook_token
    )


def app_client(live_server, app: BitrixApp, user: int) -> Client:
    """A client with an access token of the app for ``user``, issued by the server."""
    server = ["--server", live_server.base_url, "--dev-token", live_server.dev_token]
    printed = live_server.cli(
        "app", "token", "--client-id", app.client_id, "--user", str(user), *server, "--json"
    )
    access = json.loads(printed)["access_token"]
    return Client(BitrixToken(domain=live_server.domain, auth_token=access, bitrix_app=app))
