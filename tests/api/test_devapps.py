"""POST /_b24local/apps: an OAuth application installed by a test, then used."""

from __future__ import annotations

import pytest

AUTH = {"Authorization": "Bearer test-dev-token"}
#: Refusals happen before the store is written: one database is enough.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_install_an_app_and_call_with_its_token(server):
    answer = server.http.post(
        "/_b24local/apps", headers=AUTH, json={"name": "Shift planner", "scopes": ["user"]}
    )
    assert answer.status_code == 200, answer.text
    app = answer.json()
    assert app["name"] == "Shift planner"
    assert app["scopes"] == ["user"]
    assert app["client_id"].startswith("local.")
    assert len(app["client_secret"]) >= 16

    pair = server.http.post(
        "/_b24local/tokens", headers=AUTH, json={"client_id": app["client_id"], "user_id": 1}
    ).json()
    assert pair["scope"] == "user"
    me = server.http.post("/rest/user.current", json={"auth": pair["access_token"]})
    assert me.json()["result"]["ID"] == "1"
    # Only the scopes granted: presence is out of its reach.
    status = server.http.post("/rest/im.user.status.get", json={"auth": pair["access_token"]})
    assert status.json()["error"] == "insufficient_scope"

    # The secret is the app's: the token endpoint takes it for a refresh.
    refreshed = server.http.get(
        "/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "refresh_token": pair["refresh_token"],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"] != pair["access_token"]


@sqlite_only
def test_every_scope_by_default(server):
    app = server.http.post("/_b24local/apps", headers=AUTH).json()
    scopes = server.call("scope").json()["result"]
    assert app["scopes"] == sorted(scopes)
    assert app["name"] == "Test application"


@sqlite_only
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"scopes": "user"}, "scopes is a list"),
        ({"scopes": [1]}, "scopes is a list of strings"),
        ({"scopes": ["user"] * 1001}, "at most 1000"),
        ({"scopes": ["telepathy"]}, "unknown scope(s): telepathy"),
        ({"name": "x" * 256}, "longer than 255"),
        ({"name": "   "}, "needs a name"),
        ({"name": 5}, "name is a string"),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect URI"),
        ({"users": [99]}, "no user 99"),
        ({"users": [1e300]}, "users[]"),
        ({"users": "1"}, "list of at most"),
        ({"portal": ["x"]}, "portal is a domain"),
        ({"portal": "nope.localhost"}, "nope.localhost"),
    ],
)
def test_bad_requests(server, body, message):
    answer = server.http.post("/_b24local/apps", headers=AUTH, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "ERROR_ARGUMENT"
    assert message in answer.json()["error_description"]


@sqlite_only
def test_not_json_and_not_an_object(server):
    for raw in (b"{", b"[1]"):
        answer = server.http.post("/_b24local/apps", headers=AUTH, content=raw)
        assert answer.status_code == 400
        assert answer.json()["error"] == "ERROR_ARGUMENT"


@sqlite_only
def test_the_dev_token_is_required(server):
    answer = server.http.post("/_b24local/apps", json={"name": "x"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "NO_AUTH_FOUND"
    assert server.http.get("/_b24local/apps", headers=AUTH).status_code == 405
