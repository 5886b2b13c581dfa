"""Behind a proxy that rewrites ``Host``: ``X-Forwarded-Host`` from a trusted proxy
chooses the portal (and the addresses given out), and from anyone else is ignored."""

from __future__ import annotations

import pytest

from b24local import admin
from peers import client_from

PROXY = "203.0.113.7"
ACME = "acme.localhost"


def _acme_webhook(server) -> str:
    now = server.clock.now()
    boot = server.run(admin.add_portal, server.store, now, domain=ACME)
    hook, code = server.run(
        admin.add_webhook, server.store, now, user_id=boot.admin.id, scopes=["user"], domain=ACME
    )
    return f"/rest/{hook.user_id}/{code}/"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_trusted_proxy_names_the_portal(server_with):
    with server_with(trusted_proxies=(PROXY,)) as server:
        hook = _acme_webhook(server)
        # The proxy sends its backend's own name as Host, the client's in the header.
        forwarded = {"Host": "b24local-backend:8024", "X-Forwarded-Host": f"{ACME}:8443"}
        with client_from(server, PROXY) as proxy:
            answer = proxy.post(f"{hook}profile", headers=forwarded)
            assert answer.status_code == 200, answer.text
            assert answer.json()["result"]["ADMIN"] is True
            # Several proxies appended theirs: the nearest one's (last) counts.
            chained = {**forwarded, "X-Forwarded-Host": f"evil.example, {ACME}"}
            assert proxy.post(f"{hook}profile", headers=chained).status_code == 200
            # Nothing but a host (and port) is taken: anything else is ignored.
            odd = {**forwarded, "X-Forwarded-Host": f"{ACME}/path"}
            assert proxy.post(f"{hook}profile", headers=odd).status_code == 401
        # From a peer that is not the proxy, the header is ignored: the default portal
        # knows no such webhook.
        stranger = server.http.post(f"{hook}profile", headers=forwarded)
        assert stranger.status_code == 401, stranger.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_trusted_proxies_the_header_is_ignored(server):
    hook = _acme_webhook(server)
    answer = server.http.post(f"{hook}profile", headers={"X-Forwarded-Host": ACME})
    assert answer.status_code == 401, answer.text
