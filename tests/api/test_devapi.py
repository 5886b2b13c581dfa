"""The --dev control surface: the clock and token pairs on it, behind a token."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from b24local import admin

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


def test_back_to_the_real_time(server):
    server.http.post("/_b24local/clock/advance", headers=AUTH, json={"seconds": 86_400 * 400})
    before = datetime.now(UTC)
    body = server.http.post("/_b24local/clock", headers=AUTH, json={"now": "real"}).json()
    after = datetime.now(UTC)
    assert body["frozen"] is False
    assert before <= datetime.fromisoformat(body["now"]) <= after
    frozen = server.http.post(
        "/_b24local/clock", headers=AUTH, json={"now": "real", "freeze": True}
    ).json()
    moment = datetime.fromisoformat(frozen["now"]).replace(microsecond=0)
    assert frozen["frozen"] is True
    assert moment == datetime.fromisoformat(server_time(server))  # and it stays there


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
        body = {"client_id": "x", "user_id": 1}
        assert srv.http.post("/_b24local/tokens", headers=AUTH, json=body).status_code == 404


# --- token pairs on the server's clock --------------------------------------------------


@pytest.fixture
def client_id(server) -> str:
    installed, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Dev", scopes=["im", "timeman"]
    )
    return installed.client_id


def test_a_pair_issued_on_the_moved_clock(server, client_id):
    server.http.post("/_b24local/clock", headers=AUTH, json={"now": "2030-06-01T12:00:00+00:00"})
    answer = server.http.post(
        "/_b24local/tokens", headers=AUTH, json={"client_id": client_id, "user_id": 1}
    )
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    portal = server.run(admin.list_portals, server.store)[0]
    assert set(pair) == {
        "access_token", "refresh_token", "expires", "expires_in", "scope", "member_id",
        "user_id", "status",
    }  # fmt: skip
    assert pair["expires"] == int(datetime(2030, 6, 1, 13, 0, tzinfo=UTC).timestamp())
    assert pair["expires_in"] == 3600
    assert (pair["scope"], pair["user_id"], pair["status"]) == ("im,timeman", 1, "L")
    assert pair["member_id"] == portal.member_id

    def status():
        return server.http.post("/rest/im.user.status.get", json={"auth": pair["access_token"]})

    assert status().json()["result"] == "online"
    server.http.post("/_b24local/clock/advance", headers=AUTH, json={"seconds": 3599})
    assert status().status_code == 200
    server.http.post("/_b24local/clock/advance", headers=AUTH, json={"seconds": 1})
    assert status().json()["error"] == "expired_token"


def test_a_pair_for_another_portal(server, client_id):
    server.run(admin.add_portal, server.store, server.clock.now(), domain="acme.localhost")
    acme, _secret = server.run(
        admin.add_app,
        server.store,
        server.clock.now(),
        name="Acme",
        scopes=["user"],
        domain="acme.localhost",
    )
    body = {"client_id": acme.client_id, "user_id": 1, "portal": "acme.localhost"}
    pair = server.http.post("/_b24local/tokens", headers=AUTH, json=body).json()
    me = server.http.post(
        "/rest/user.current",
        json={"auth": pair["access_token"]},
        headers={"Host": "acme.localhost:8024"},
    )
    assert me.json()["result"]["EMAIL"] == "admin@acme.localhost"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"user_id": 1}, "missing 'client_id'"),
        ({"client_id": "x"}, "missing 'user_id'"),
        ({"client_id": "x", "user_id": "one"}, "Bad token request"),
        ({"client_id": "CLIENT", "user_id": 1e300}, "Bad token request"),
        ({"client_id": "CLIENT", "user_id": 2**40}, "Bad token request"),
        ({"client_id": "CLIENT", "user_id": True}, "Bad token request"),
        ({"client_id": "CLIENT", "user_id": "9" * 5000}, "Bad token request"),
        ({"client_id": "local.nope.1", "user_id": 1}, "no application local.nope.1"),
        ({"client_id": "CLIENT", "user_id": 99}, "no user 99"),
        ({"client_id": "CLIENT", "user_id": 1, "portal": "nope.localhost"}, "nope.localhost"),
    ],
)
def test_bad_token_requests(server, client_id, body, message):
    body = {k: client_id if v == "CLIENT" else v for k, v in body.items()}
    answer = server.http.post("/_b24local/tokens", headers=AUTH, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "ERROR_ARGUMENT"
    assert message in answer.json()["error_description"]


def test_tokens_need_the_dev_token(server, client_id):
    body = {"client_id": client_id, "user_id": 1}
    answer = server.http.post("/_b24local/tokens", json=body)
    assert answer.status_code == 401
    assert answer.json()["error"] == "NO_AUTH_FOUND"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("chunked", [False, True])
def test_a_dev_body_is_read_within_bounds(server, chunked):
    """A dev call's JSON is a few fields: a body of megabytes is refused before it
    is buffered and decoded (declared, or streamed without a length)."""
    body = b'{"error": "QUERY_LIMIT_EXCEEDED", "method": "' + b"x" * 1_000_000 + b'"}'
    content = iter([body[:1000], body[1000:]]) if chunked else body
    response = server.http.post("/_b24local/faults", headers=AUTH, content=content)
    assert response.status_code == 413
    assert response.json() == {
        "error": "ERROR_REQUEST_TOO_LARGE",
        "error_description": "A dev API body is at most 64 KiB",
    }
    assert server.http.get("/_b24local/faults", headers=AUTH).json()["faults"] == []
    # A body within bounds is read as before.
    rule = {"error": "QUERY_LIMIT_EXCEEDED", "method": "server.time"}
    assert server.http.post("/_b24local/faults", headers=AUTH, json=rule).status_code == 200
