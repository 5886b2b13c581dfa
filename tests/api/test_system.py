"""The platform's own methods: user.admin, user.access, access.name, feature.get."""

from __future__ import annotations

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
