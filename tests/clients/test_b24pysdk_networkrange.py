"""Office networks through the official Python SDK (b24pysdk 1.3.2):
``client.timeman.networkrange.get/set/check`` against a real ``b24local serve --tls``,
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest
from b24pysdk import Client
from b24pysdk.errors import BitrixAPIAccessError

from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = [
    pytest.mark.process,
    pytest.mark.parametrize("live_server", ["sqlite", "postgresql"], indirect=True, scope="module"),
]

OFFICE = [
    {"ip_range": "10.0.0.0-10.255.255.255", "name": "Office Network 10.x.x.x"},
    {"ip_range": "2001:db8::-2001:db8::ffff", "name": "Office Network v6"},
]


@pytest.fixture
def networkrange(live_server):
    return Client(webhook(live_server)).timeman.networkrange


def test_set_get_check(networkrange) -> None:
    assert networkrange.set(OFFICE).result == {"result": True}
    assert networkrange.get().result == OFFICE
    assert networkrange.check(ip="10.10.255.255").result == {
        "ip": "10.10.255.255",
        "range": "10.0.0.0-10.255.255.255",
        "name": "Office Network 10.x.x.x",
    }
    assert networkrange.check(ip="2001:db8::abcd").result["name"] == "Office Network v6"
    assert networkrange.check(ip="192.0.2.1").result is False
    # The SDK's own address is the loopback one, which the real module calls localhost.
    assert networkrange.check().result == {
        "ip": "127.0.0.1",
        "range": "127.0.0.1",
        "name": "localhost",
    }


def test_a_malformed_range_is_named_and_nothing_changes(networkrange) -> None:
    networkrange.set(OFFICE).result  # noqa: B018
    bad = {"ip_range": "a172.16.0.0-172.31.255.255", "name": "Office Network 172.x.x.x"}
    assert networkrange.set([OFFICE[0], bad]).result == {"result": False, "error_ranges": [bad]}
    assert networkrange.get().result == OFFICE


def test_ranges_set_with_the_cli_reach_the_sdk(live_server, networkrange) -> None:
    live_server.cli("timeman", "network", "set", "192.168.0.0-192.168.255.255=LAN", "10.1.1.1")
    assert networkrange.get().result == [
        {"ip_range": "192.168.0.0-192.168.255.255", "name": "LAN"},
        {"ip_range": "10.1.1.1", "name": ""},
    ]
    assert networkrange.check(ip="192.168.7.7").result["name"] == "LAN"
    listed = live_server.cli("timeman", "network", "list")
    assert listed.splitlines() == ["192.168.0.0-192.168.255.255\tLAN", "10.1.1.1"]


def test_not_for_a_non_administrator(live_server) -> None:
    user_id = int(live_server.cli("user", "add", "--name", "Wendy", "--last-name", "Worker"))
    token = live_server.cli("webhook", "add", "--user", str(user_id), "--scope", "timeman")
    networkrange = Client(webhook(live_server, token)).timeman.networkrange
    with pytest.raises(BitrixAPIAccessError) as raised:
        networkrange.get().result  # noqa: B018
    assert raised.value.status_code == 400
    assert raised.value.error == "ACCESS_ERROR"
    assert raised.value.error_description == "You don't have access to use this method"
    del raised
