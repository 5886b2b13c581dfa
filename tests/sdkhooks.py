"""What every b24pysdk test module needs: the live server's CA trusted, and its webhook."""

from __future__ import annotations

import pytest
from b24pysdk import BitrixWebhook


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
