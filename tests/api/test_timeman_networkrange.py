"""timeman.networkrange.get/set/check through HTTP: office networks, administrators only.

User 1 is the portal's administrator; the test client's peer is "testclient"
unless a test picks another address.
"""

from __future__ import annotations

import json

import pytest

from b24local import admin
from peers import client_from
from restcalls import call, error_of, result

OFFICE = [
    {"ip_range": "10.0.0.0-10.255.255.255", "name": "10.x.x.x"},
    {"ip_range": "172.16.0.0-172.31.255.255", "name": "172.x.x.x"},
    {"ip_range": "192.168.0.0-192.168.255.255", "name": "192.168.x.x"},
]
ACCESS_ERROR = {
    "error": "ACCESS_ERROR",
    "error_description": "You don't have access to use this method",
}
INVALID_FORMAT = {
    "error": "INVALID_FORMAT",
    "error_description": "A wrong format for the RANGES field is passed",
}


# --- get / set ---------------------------------------------------------------------------------


def test_no_ranges_at_first(server):
    assert call(server, "timeman.networkrange.get") == []


def test_set_then_get_as_the_page_shows(server):
    assert call(server, "timeman.networkrange.set", RANGES=OFFICE) == {"result": True}
    assert call(server, "timeman.networkrange.get") == OFFICE


def test_set_replaces_every_range(server):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    single = [{"ip_range": "10.10.0.1", "name": "printer"}]
    assert call(server, "timeman.networkrange.set", RANGES=single) == {"result": True}
    assert call(server, "timeman.networkrange.get") == single
    # An empty list (as a JSON string: forms cannot send one) clears them.
    assert call(server, "timeman.networkrange.set", RANGES="[]") == {"result": True}
    assert call(server, "timeman.networkrange.get") == []


def test_ranges_as_a_json_string_and_keys_in_any_case(server):
    given = [{"IP_RANGE": "10.0.0.0 - 10.0.0.255", "Name": "LAN"}]
    assert call(server, "timeman.networkrange.set", ranges=json.dumps(given)) == {"result": True}
    # The spaces around the dash go, as in the real module.
    assert call(server, "timeman.networkrange.get") == [
        {"ip_range": "10.0.0.0-10.0.0.255", "name": "LAN"}
    ]


def test_ranges_form_encoded_with_php_brackets(server):
    response = server.http.post(
        f"{server.webhook}timeman.networkrange.set",
        content=(
            "RANGES[0][ip_range]=10.0.0.0-10.255.255.255&RANGES[0][name]=ten"
            "&RANGES[1][ip_range]=2001:db8::-2001:db8::ffff&RANGES[1][name]=v6"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result(response) == {"result": True}
    assert call(server, "timeman.networkrange.get") == [
        {"ip_range": "10.0.0.0-10.255.255.255", "name": "ten"},
        {"ip_range": "2001:db8::-2001:db8::ffff", "name": "v6"},
    ]


def test_a_missing_name_is_empty(server):
    call(server, "timeman.networkrange.set", RANGES=[{"ip_range": "10.0.0.1"}])
    assert call(server, "timeman.networkrange.get") == [{"ip_range": "10.0.0.1", "name": ""}]


@pytest.mark.parametrize(
    "bad",
    [
        "a172.16.0.0-172.31.255.255",  # the page's own example
        "10.0.0.256",
        "10.0.0.1-",
        "-10.0.0.1",
        "10.0.0.9-10.0.0.1",  # backwards
        "10.0.0.1-2001:db8::1",  # two families
        "10.0.0.0/8",  # CIDR is not a form the page gives
        "10.0.0.1-10.0.0.2-10.0.0.3",
        "fe80::1%eth0",
        "",
    ],
)
def test_malformed_ranges_are_named_and_nothing_is_saved(server, bad):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    given = [
        {"ip_range": "192.168.1.0-192.168.1.255", "name": "fine"},
        {"ip_range": bad, "name": "Office Network 172.x.x.x"},
    ]
    assert call(server, "timeman.networkrange.set", RANGES=given) == {
        "result": False,
        "error_ranges": [{"ip_range": bad, "name": "Office Network 172.x.x.x"}],
    }
    assert call(server, "timeman.networkrange.get") == OFFICE


def test_error_ranges_keep_what_was_given(server):
    given = [{"IP_RANGE": 42, "NAME": "number"}, {"name": "no range"}]
    assert call(server, "timeman.networkrange.set", RANGES=given) == {
        "result": False,
        "error_ranges": [{"ip_range": 42, "name": "number"}, {"name": "no range"}],
    }


@pytest.mark.parametrize(
    "ranges",
    [None, "", "not json", "42", '"text"', ["10.0.0.1"], [["10.0.0.1"]], 7],
)
def test_ranges_that_are_no_list_of_objects(server, ranges):
    params = {} if ranges is None else {"RANGES": ranges}
    assert error_of(server.call("timeman.networkrange.set", params)) == (400, INVALID_FORMAT)
    assert call(server, "timeman.networkrange.get") == []


# --- check -------------------------------------------------------------------------------------


def test_check_as_the_page_shows(server):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    assert call(server, "timeman.networkrange.check", IP="10.10.255.255") == {
        "ip": "10.10.255.255",
        "range": "10.0.0.0-10.255.255.255",
        "name": "10.x.x.x",
    }
    assert call(server, "timeman.networkrange.check", IP=" 172.31.255.255 ") == {
        "ip": "172.31.255.255",
        "range": "172.16.0.0-172.31.255.255",
        "name": "172.x.x.x",
    }
    # Outside every range: false, not an empty object.
    assert call(server, "timeman.networkrange.check", IP="172.32.0.0") is False
    assert call(server, "timeman.networkrange.check", IP="not an address") is False


def test_check_single_addresses_and_ipv6(server):
    ranges = [
        {"ip_range": "10.10.0.1", "name": "printer"},
        {"ip_range": "2001:db8::-2001:db8::ffff", "name": "v6"},
        {"ip_range": "::ffff:0:0-::ffff:ffff:ffff", "name": "mapped"},
    ]
    call(server, "timeman.networkrange.set", RANGES=ranges)
    assert call(server, "timeman.networkrange.check", IP="10.10.0.1")["name"] == "printer"
    assert call(server, "timeman.networkrange.check", IP="10.10.0.2") is False
    assert call(server, "timeman.networkrange.check", IP="2001:DB8::1:0") is False
    assert call(server, "timeman.networkrange.check", IP="2001:db8:0::ff") == {
        "ip": "2001:db8:0::ff",
        "range": "2001:db8::-2001:db8::ffff",
        "name": "v6",
    }
    # An IPv4 address is not its IPv6-mapped twin: families never mix.
    assert call(server, "timeman.networkrange.check", IP="10.0.0.1") is False


def test_check_with_no_ranges_counts_every_address_in(server):
    assert call(server, "timeman.networkrange.check", IP="198.51.100.7") == {
        "ip": "198.51.100.7",
        "range": "198.51.100.7",
        "name": "198.51.100.7",
    }


def test_check_of_the_loopback_address_is_localhost(server):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    assert call(server, "timeman.networkrange.check", IP="127.0.0.1") == {
        "ip": "127.0.0.1",
        "range": "127.0.0.1",
        "name": "localhost",
    }


def test_check_without_ip_takes_the_callers_address(server):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    with client_from(server, "192.168.4.20") as inside:
        answer = result(inside.post(f"{server.webhook}timeman.networkrange.check", json={}))
        assert answer == {
            "ip": "192.168.4.20",
            "range": OFFICE[2]["ip_range"],
            "name": "192.168.x.x",
        }
        blank = result(inside.post(f"{server.webhook}timeman.networkrange.check", json={"IP": " "}))
        assert blank == answer
    with client_from(server, "203.0.113.5") as outside:
        assert result(outside.post(f"{server.webhook}timeman.networkrange.check", json={})) is False


def test_check_behind_a_trusted_proxy_takes_the_forwarded_address(server_with):
    forwarded = {"X-Forwarded-For": "10.1.2.3"}
    with server_with(trusted_proxies=("203.0.113.7",)) as srv:
        call(srv, "timeman.networkrange.set", RANGES=OFFICE)
        with client_from(srv, "203.0.113.7") as proxy:
            response = proxy.post(
                f"{srv.webhook}timeman.networkrange.check", json={}, headers=forwarded
            )
        assert result(response) == {
            "ip": "10.1.2.3",
            "range": OFFICE[0]["ip_range"],
            "name": "10.x.x.x",
        }
        # From a peer that is no trusted proxy the header counts for nothing.
        with client_from(srv, "203.0.113.8") as stranger:
            response = stranger.post(
                f"{srv.webhook}timeman.networkrange.check", json={}, headers=forwarded
            )
        assert result(response) is False


# --- rights, scope, batch, xml -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("timeman.networkrange.get", {}),
        ("timeman.networkrange.set", {"RANGES": [{"ip_range": "10.0.0.1", "name": "x"}]}),
        ("timeman.networkrange.check", {"IP": "10.0.0.1"}),
    ],
)
def test_only_administrators(server, method, params):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    # A department head manages people's days but not the portal's networks.
    head = server.add_user("Hanna", "Head")
    server.run(admin.add_department, server.store, name="Sales", parent_id=1, head_id=head)
    hook = server.add_webhook(head, ["timeman"])
    assert error_of(server.call(method, params, hook=hook)) == (400, ACCESS_ERROR)
    assert call(server, "timeman.networkrange.get") == OFFICE


def test_scope_timeman_is_needed(server):
    hook = server.add_webhook(server.admin_id, ["user"])
    status, body = error_of(server.call("timeman.networkrange.get", hook=hook))
    assert (status, body["error"]) == (403, "insufficient_scope")


def test_in_batch(server):
    response = server.call(
        "batch",
        {
            "halt": 0,
            "cmd": {
                "set": "timeman.networkrange.set?RANGES[0][ip_range]=10.0.0.0-10.0.0.9"
                "&RANGES[0][name]=lab",
                "get": "timeman.networkrange.get",
                "in": "timeman.networkrange.check?IP=10.0.0.5",
                "out": "timeman.networkrange.check?IP=10.0.0.10",
            },
        },
    )
    inner = result(response)
    assert inner["result_error"] == []
    assert inner["result"] == {
        "set": {"result": True},
        "get": [{"ip_range": "10.0.0.0-10.0.0.9", "name": "lab"}],
        "in": {"ip": "10.0.0.5", "range": "10.0.0.0-10.0.0.9", "name": "lab"},
        "out": False,
    }
    assert call(server, "timeman.networkrange.get") == [
        {"ip_range": "10.0.0.0-10.0.0.9", "name": "lab"}
    ]


def test_xml(server):
    call(server, "timeman.networkrange.set", RANGES=OFFICE)
    response = server.http.get(f"{server.webhook}timeman.networkrange.check.xml?IP=10.0.0.1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert (
        "<result><ip>10.0.0.1</ip><range>10.0.0.0-10.255.255.255</range>"
        "<name>10.x.x.x</name></result>"
    ) in response.text


def test_methods_lists_them(server):
    listed = call(server, "methods", scope="timeman")
    for name in (
        "timeman.networkrange.get",
        "timeman.networkrange.set",
        "timeman.networkrange.check",
    ):
        assert name in listed


def test_too_many_ranges_are_refused_with_the_reason(server):
    many = [{"ip_range": f"10.0.{i // 256}.{i % 256}", "name": ""} for i in range(1001)]
    assert error_of(server.call("timeman.networkrange.set", {"RANGES": many})) == (
        400,
        {"error": "INVALID_FORMAT", "error_description": "RANGES holds more than 1000 ranges"},
    )
    # A thousand is fine.
    assert call(server, "timeman.networkrange.set", RANGES=many[:1000]) == {"result": True}
    assert len(call(server, "timeman.networkrange.get")) == 1000
    assert call(server, "timeman.networkrange.check", IP="10.0.3.231")["range"] == "10.0.3.231"


def test_a_huge_json_string_is_refused_before_decoding(server):
    huge = json.dumps([{"ip_range": "10.0.0.1", "name": "x" * 300_000}])
    assert error_of(server.call("timeman.networkrange.set", {"RANGES": huge})) == (
        400,
        {
            "error": "INVALID_FORMAT",
            "error_description": "RANGES is longer than 262144 characters",
        },
    )
