"""The --dev control surface: the clock, behind a token."""

from __future__ import annotations

import pytest

AUTH = {"Authorization": "Bearer test-dev-token"}


def server_time(server) -> str:
    return server.call("server.time").json()["result"]


def test_read_the_clock(server):
    body = server.http.get("/_b24local/clock", headers=AUTH).json()
    assert body == {
        "now": "2026-03-02T08:30:00+00:00",
        "timestamp": server.clock.now().timestamp(),
        "frozen": True,
    }


def test_set_the_clock_moves_what_methods_see(server):
    response = server.http.post(
        "/_b24local/clock", headers=AUTH, json={"now": "2027-01-01T12:00:00+03:00"}
    )
    assert response.status_code == 200
    assert response.json()["now"] == "2027-01-01T09:00:00+00:00"
    assert server_time(server) == "2027-01-01T09:00:00+00:00"


def test_advance_the_clock(server):
    server.http.post("/_b24local/clock/advance", headers=AUTH, json={"seconds": 90})
    assert server_time(server) == "2026-03-02T08:31:30+00:00"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_the_token_is_required(server, headers):
    for response in (
        server.http.get("/_b24local/clock", headers=headers),
        server.http.post("/_b24local/clock/advance", headers=headers, json={"seconds": 9}),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "NO_AUTH_FOUND"
    assert server_time(server) == "2026-03-02T08:30:00+00:00"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_b24local/clock", {"now": "not a date"}),
        ("/_b24local/clock", {"now": "2026-01-01T00:00:00"}),
        ("/_b24local/clock/advance", {"seconds": -5}),
        ("/_b24local/clock/advance", {"seconds": "soon"}),
        ("/_b24local/clock/advance", {"seconds": 1e300}),
        ("/_b24local/clock/advance", {"seconds": 300_000_000_000}),
        ("/_b24local/clock/advance", {"seconds": "inf"}),
        ("/_b24local/clock/advance", {"seconds": "nan"}),
        ("/_b24local/clock", {"now": "9999-12-31T23:59:59-23:59"}),
        ("/_b24local/clock", {"now": "9999-06-01T00:00:00+00:00"}),
        ("/_b24local/clock", {"now": "1969-12-31T23:59:59+00:00"}),
    ],
)
def test_bad_clock_requests(server, path, body):
    response = server.http.post(path, headers=AUTH, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "ERROR_ARGUMENT"
    assert response.json()["error_description"].startswith("Bad clock request: ")
    assert server_time(server) == "2026-03-02T08:30:00+00:00"


def test_off_without_dev(server_with):
    with server_with(dev=False) as srv:
        assert srv.http.get("/_b24local/clock", headers=AUTH).status_code == 404
