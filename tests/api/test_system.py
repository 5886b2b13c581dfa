"""The platform's own methods: user.admin, user.access, access.name, feature.get."""

from __future__ import annotations

import pytest

from b24local import admin


def result(response):
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"result", "time"}
    return response.json()["result"]


def hook_of(server, **fields) -> tuple[int, str]:
    user_id = server.run(
        admin.add_user, server.store, server.clock.now(), name="Ann", last_name="Lee", **fields
    )
    user_id = user_id.id
    return user_id, server.add_webhook(user_id, ["im"])


# --- user.admin -----------------------------------------------------------------------------


def test_user_admin_answers_for_the_caller(server):
    assert result(server.call("user.admin")) is True
    _, hook = hook_of(server)
    assert result(server.call("user.admin", hook=hook)) is False
    # Parameters change nothing: it is always about the caller.
    assert result(server.call("user.admin", {"ID": 1, "ADMIN": "Y"}, hook=hook)) is False
    _, admin_hook = hook_of(server, admin=True)
    assert result(server.call("USER.ADMIN", hook=admin_hook)) is True


# --- feature.get ----------------------------------------------------------------------------


def feature(server, params):
    return server.call("feature.get", params)


def test_feature_get_follows_the_portal_plan(server):
    for code in ("rest_offline_extended", "rest_auth_connector"):
        assert result(feature(server, {"CODE": code})) == {"value": "Y"}
        assert result(feature(server, {"code": code})) == {"value": "Y"}
    assert result(feature(server, {"CODE": "no_such_feature"})) == {"value": "N"}
    # Codes are matched exactly; an array is PHP's "Array", no feature.
    assert result(feature(server, {"CODE": "REST_AUTH_CONNECTOR"})) == {"value": "N"}
    assert result(feature(server, {"CODE": ["rest_auth_connector"]})) == {"value": "N"}
    server.run(admin.update_portal, server.store, None, plan="standard")
    assert result(feature(server, {"CODE": "rest_auth_connector"})) == {"value": "N"}
    server.run(admin.update_portal, server.store, None, plan="enterprise")
    assert result(feature(server, {"CODE": "rest_offline_extended"})) == {"value": "Y"}


@pytest.mark.parametrize("params", [{}, {"CODE": ""}, {"CODE": "0"}, {"CODE": None}, {"CODE": []}])
def test_feature_get_without_a_code(server, params):
    answer = feature(server, params)
    assert answer.status_code == 400
    assert answer.json() == {"error": "CODE_EMPTY", "error_description": "CODE can't be empty"}
