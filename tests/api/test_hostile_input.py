"""Requests the fuzz test (tests/clients/test_fuzz.py) found mishandled, each kept
here as a regression test through HTTP on both databases."""

from __future__ import annotations

import pytest

from b24local import admin
from loginform import post_login

PASSWORD = "fuzzed password"


@pytest.fixture
def client_id(server) -> str:
    app, _ = server.run(
        admin.add_app, server.store, server.clock.now(), name="Fuzzed", scopes=["im"],
        redirect_uri="https://app.example/cb",
    )  # fmt: skip
    server.run(admin.set_password, server.store, server.admin_id, PASSWORD)
    return app.client_id


def test_a_login_with_leading_zeros_names_the_user(server, client_id) -> None:
    """(Logins that name no storable ID are wrong logins: test_oauth's odd logins.)"""
    answer = post_login(server.http, {"client_id": client_id}, f"000{server.admin_id}", PASSWORD)
    assert answer.status_code == 302, answer.text


@pytest.mark.parametrize(
    ("verb", "path", "status", "allow"),
    [
        ("PUT", "/oauth/token/", 405, "GET, HEAD, POST"),
        ("DELETE", "/oauth/authorize/", 405, "GET, HEAD, POST"),
        ("PATCH", "/oauth/rest/app.info", 405, "GET, HEAD, POST"),
        ("PUT", "/_b24local/faults", 405, "DELETE, GET, HEAD, POST"),
        ("GET", "/_b24local/tokens", 405, "POST"),
        ("GET", "/oauth/rest/", 404, None),
        ("POST", "/_b24local/nothing", 404, None),
        # ("/" itself serves the web pages.)
        ("GET", "/nothing-here", 404, None),
    ],
)
def test_addresses_outside_rest_answer_in_json(server, verb, path, status, allow) -> None:
    """A wrong HTTP method or an unknown address outside ``/rest/`` gets a JSON error
    body, as everything else does, not Starlette's plain text."""
    answer = server.http.request(verb, path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"error", "error_description"}
    if allow is None:
        assert body["error"] == "ERROR_METHOD_NOT_FOUND"
        return
    assert body["error"] == "INVALID_REQUEST"
    assert sorted(answer.headers["allow"].split(", ")) == allow.split(", ")
    assert body["error_description"] == f"Only {answer.headers['allow']} accepted here"


@pytest.mark.parametrize(
    "field", ["client_id", "state", "login", "password", "redirect_uri", "scope"]
)
def test_a_nul_in_a_login_form_field_is_refused(server, client_id, field) -> None:
    """As on /rest/, a NUL is refused before anything is looked up (PostgreSQL would
    refuse the query: a 500)."""
    fields = {"client_id": client_id, "login": "1", "password": PASSWORD, field: "a\x00b"}
    answer = server.http.post("/oauth/authorize/", data=fields, follow_redirects=False)
    assert answer.status_code == 400, answer.text
    assert "A field contains a NUL character" in answer.text


@pytest.mark.parametrize(
    "path", ["/oauth/token/?client_id=a%00b", "/oauth/rest/app.info?auth=a%00b"]
)
def test_a_nul_at_the_token_endpoint_is_invalid_request(server, path) -> None:
    answer = server.http.get(path)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "A field contains a NUL character",
    }


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_a_close_time_past_the_calendar_is_not_the_start_date(server, moment) -> None:
    """A TIME with no UTC instant (year 10000, or year 0, once its offset is taken
    off) is no date of the day: the close is refused as any other day's would be."""
    assert server.call("timeman.open").status_code == 200
    answer = server.call("timeman.close", {"TIME": moment, "REPORT": "late"})
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "error": "WRONG_DATETIME",
        "error_description": "Day close date should correspond to the day open date",
    }
