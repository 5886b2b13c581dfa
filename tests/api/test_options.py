"""app.option.* and user.option.*: options kept per application, and per
application and user, reached with an application's token."""

from __future__ import annotations

import pytest

from b24local import admin

METHODS = ("app.option.get", "app.option.set", "user.option.get", "user.option.set")
APP_CONTEXT = {
    "error": "ACCESS_DENIED",
    "error_description": "Access denied! Application context required",
}
EMPTY = {"error": "ERROR_ARGUMENT", "error_description": "Argument 'options' is null or empty"}


def install(server, name: str = "Time Sync") -> str:
    app, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name=name, scopes=["user"]
    )
    return app.client_id


def token_for(server, client_id: str, user_id: int) -> str:
    pair, _portal = server.run(
        admin.issue_app_token,
        server.store,
        server.clock.now(),
        client_id=client_id,
        user_id=user_id,
    )
    return pair.access_token


def call(server, token: str, method: str, params: dict | None = None):
    return server.http.post(f"/rest/{method}", json={"auth": token, **(params or {})})


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def refused(response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()


@pytest.fixture
def admin_token(server) -> str:
    return token_for(server, install(server), server.admin_id)


def test_a_webhook_lacks_the_application_context(server):
    for method in METHODS:
        answer = server.call(method, {"options": {"a": "1"}, "option": "a"})
        assert refused(answer) == APP_CONTEXT, method


def test_app_options_round_trip_with_their_types(server, admin_token):
    assert ok(call(server, admin_token, "app.option.get")) == []
    values = {
        "data": "value",
        "count": 5,
        "ratio": 1.5,
        "on": True,
        "list": [1, "two"],
        "nested": {"a": {"b": None}},
        "": "empty name",
    }
    assert ok(call(server, admin_token, "app.option.set", {"options": values})) is True
    assert ok(call(server, admin_token, "app.option.get")) == values
    assert ok(call(server, admin_token, "app.option.get", {"option": "count"})) == 5
    assert ok(call(server, admin_token, "app.option.get", {"option": "nested"})) == {
        "a": {"b": None}
    }
    for missing in ("absent", ["data"], {"x": 1}):
        assert ok(call(server, admin_token, "app.option.get", {"option": missing})) is None
    # New names are added, given ones replaced, the rest kept.
    assert ok(call(server, admin_token, "app.option.set", {"options": {"data": 7, "new": "n"}}))
    assert ok(call(server, admin_token, "app.option.get")) == {**values, "data": 7, "new": "n"}


def test_form_values_are_strings_and_bare_parameters_are_options(server, admin_token):
    form = {"auth": admin_token, "options[a]": "1", "options[b][]": "x"}
    assert ok(server.http.post("/rest/app.option.set", data=form)) is True
    # Without an `options` parameter the real method saves the parameters themselves.
    assert ok(call(server, admin_token, "app.option.set", {"c": 3}))
    assert ok(call(server, admin_token, "app.option.get")) == {"a": "1", "b": ["x"], "c": 3}
    answer = server.http.get("/rest/app.option.get", params={"auth": admin_token, "option": "a"})
    assert ok(answer) == "1"


def test_a_list_of_options_is_kept_by_position_and_answered_as_a_list(server, admin_token):
    assert ok(call(server, admin_token, "app.option.set", {"options": ["x", "y"]}))
    assert ok(call(server, admin_token, "app.option.get")) == ["x", "y"]
    assert ok(call(server, admin_token, "app.option.get", {"option": 1})) == "y"


def test_only_an_administrator_sets_app_options_but_anyone_reads_them(server):
    client_id = install(server)
    boss = token_for(server, client_id, server.admin_id)
    emily = token_for(server, client_id, server.add_user("Emily"))
    assert ok(call(server, boss, "app.option.set", {"options": {"mode": "on"}}))
    assert refused(call(server, emily, "app.option.set", {"options": {"mode": "off"}})) == {
        "error": "ACCESS_DENIED",
        "error_description": "Access denied! Administrator authorization required",
    }
    # The options are checked before the right, as in the real module.
    assert refused(call(server, emily, "app.option.set", {"options": {}})) == EMPTY
    assert ok(call(server, emily, "app.option.get", {"option": "mode"})) == "on"


def test_user_options_belong_to_the_user_and_the_application(server):
    first, second = install(server, "First"), install(server, "Second")
    emily = server.add_user("Emily")
    boss_first = token_for(server, first, server.admin_id)
    emily_first = token_for(server, first, emily)
    emily_second = token_for(server, second, emily)

    assert ok(call(server, emily_first, "user.option.get")) == []
    assert ok(call(server, emily_first, "user.option.set", {"options": {"theme": "dark"}}))
    assert ok(call(server, emily_first, "user.option.set", {"options": {"size": 12}}))
    assert ok(call(server, emily_first, "user.option.get")) == {"theme": "dark", "size": 12}
    assert ok(call(server, emily_first, "user.option.get", {"option": "theme"})) == "dark"
    # Not the administrator's, not another application's, not the application's own.
    assert ok(call(server, boss_first, "user.option.get")) == []
    assert ok(call(server, emily_second, "user.option.get", {"option": "theme"})) is None
    assert ok(call(server, emily_first, "app.option.get")) == []


@pytest.mark.parametrize("options", [{}, [], "abc", 5, None])
def test_empty_or_malformed_options_are_refused(server, admin_token, options):
    params = {"options": options} if options is not None else {}
    for method in ("app.option.set", "user.option.set"):
        assert refused(call(server, admin_token, method, params)) == EMPTY, method
    assert ok(call(server, admin_token, "app.option.get")) == []


def test_the_caps_refuse_and_keep_what_was_there(server, admin_token):
    assert ok(call(server, admin_token, "user.option.set", {"options": {"keep": 1}}))
    many = {f"k{i}": i for i in range(1_001)}
    answer = refused(call(server, admin_token, "user.option.set", {"options": many}))
    assert answer["error"] == "ERROR_ARGUMENT"
    assert answer["error_description"].startswith("Too many options")
    # Under the count but over the size once merged.
    for i in range(2):
        big = {f"big{i}": "x" * 150_000}
        if i == 0:
            assert ok(call(server, admin_token, "user.option.set", {"options": big}))
        else:
            answer = refused(call(server, admin_token, "user.option.set", {"options": big}))
            assert answer["error_description"].startswith("Options too large")
    kept = ok(call(server, admin_token, "user.option.get"))
    assert set(kept) == {"keep", "big0"}
