"""An application's own events: installing, updating and uninstalling it put
ONAPPINSTALL, ONAPPUPDATE and ONAPPUNINSTALL in the outbox for its handler, and
updating or uninstalling removes its event handlers."""

from __future__ import annotations

import pytest

from b24local import admin
from b24local.admin import AdminError
from eventrows import deliveries

INSTALL_URL = "https://app.example/install/"
BOUND_URL = "https://app.example/events/"


def install(server, handler: str = INSTALL_URL, **options):
    app, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Hears", scopes=["user"],
        handler=handler, **options,
    )  # fmt: skip
    return app


def token_for(server, client_id: str, user_id: int) -> str:
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=client_id,
        user_id=user_id,
    )  # fmt: skip
    return pair.access_token


def bind(server, token: str, event: str, handler: str = BOUND_URL, **params) -> None:
    body = {"auth": token, "event": event, "handler": handler, **params}
    answer = server.http.post("/rest/event.bind", json=body)
    assert answer.status_code == 200, answer.text


def handlers(server, token: str) -> list:
    answer = server.http.post("/rest/event.get", json={"auth": token})
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def summary(rows: list[dict]) -> list[tuple]:
    return [(r["event"], r["handler_url"], r["app_id"], r["auth_user_id"], r["data"]) for r in rows]


def test_installing_an_app_with_a_handler_sends_onappinstall(server):
    app = install(server)
    assert app.application_token and len(app.application_token) == 32
    (row,) = deliveries(server)
    data = {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"}
    assert summary([row]) == [("ONAPPINSTALL", INSTALL_URL, app.id, server.admin_id, data)]
    assert (row["state"], row["handler_id"], row["hook_id"]) == ("pending", None, None)


def test_an_app_without_a_handler_is_installed_quietly(server):
    install(server, handler="")
    assert deliveries(server) == []


def test_the_installer_is_the_administrator_named(server):
    second = server.add_user("Grace", admin=True)
    install(server, installer_id=second)
    assert deliveries(server)[0]["auth_user_id"] == second
    emily = server.add_user("Emily")
    with pytest.raises(AdminError, match="not an active administrator"):
        install(server, installer_id=emily)
    assert len(deliveries(server)) == 1  # the refused install raised nothing


def test_each_app_gets_its_own_application_token(server):
    first, second = install(server), install(server)
    assert first.application_token != second.application_token


def update(server, client_id: str, **changes):
    return server.run(admin.update_app, server.store, client_id, now=server.clock.now(), **changes)


def test_a_new_version_sends_onappupdate_and_removes_the_handlers(server):
    app = install(server)
    token = token_for(server, app.client_id, server.admin_id)
    bind(server, token, "ONAPPUPDATE")
    bind(server, token, "ONUSERADD")
    server.clock.advance(300)
    updated = update(server, app.client_id, version=2)
    assert updated.version == 2
    rows = deliveries(server)[1:]
    data = {"VERSION": "2", "PREVIOUS_VERSION": "1", "LANGUAGE_ID": "en"}
    # The install handler and the handler the app bound to the event.
    assert summary(rows) == [
        ("ONAPPUPDATE", INSTALL_URL, app.id, server.admin_id, data),
        ("ONAPPUPDATE", BOUND_URL, app.id, server.admin_id, data),
    ]
    assert handlers(server, token) == []


def test_other_changes_are_no_update(server):
    app = install(server)
    token = token_for(server, app.client_id, server.admin_id)
    bind(server, token, "ONUSERADD")
    update(server, app.client_id, name="Renamed", version=1)
    assert [r["event"] for r in deliveries(server)] == ["ONAPPINSTALL"]
    assert len(handlers(server, token)) == 1
    with pytest.raises(AdminError, match="positive"):
        update(server, app.client_id, version=0)
    update(server, app.client_id, version=3)
    with pytest.raises(AdminError, match="only goes up"):
        update(server, app.client_id, version=2)
    assert [r["event"] for r in deliveries(server)] == ["ONAPPINSTALL", "ONAPPUPDATE"]


def test_uninstalling_sends_onappuninstall_without_the_apps_rows(server):
    app = install(server)
    token = token_for(server, app.client_id, server.admin_id)
    bind(server, token, "ONAPPUNINSTALL", auth_type=server.admin_id)
    bind(server, token, "ONUSERADD")
    server.run(admin.remove_app, server.store, app.client_id, now=server.clock.now(), clean=True)
    rows = deliveries(server)[1:]
    data = {"LANGUAGE_ID": "en", "CLEAN": 1}
    assert summary(rows) == [
        ("ONAPPUNINSTALL", INSTALL_URL, None, None, data),
        ("ONAPPUNINSTALL", BOUND_URL, None, None, data),
    ]
    # What the auth block needs and the app's rows no longer hold.
    assert {r["payload"]["auth"]["application_token"] for r in rows} == {app.application_token}
    assert server.run(_handler_count, server.store) == 0


def test_clean_defaults_to_zero(server):
    app = install(server)
    server.run(admin.remove_app, server.store, app.client_id, now=server.clock.now())
    assert deliveries(server)[-1]["data"] == {"LANGUAGE_ID": "en", "CLEAN": 0}


def test_removing_an_unknown_app_raises_nothing(server):
    with pytest.raises(AdminError, match="no application"):
        server.run(admin.remove_app, server.store, "local.nope", now=server.clock.now())
    assert deliveries(server) == []


async def _handler_count(store) -> int:
    from sqlalchemy import func, select

    from b24local.store.tables import event_handlers

    async with store.transaction() as conn:
        return (await conn.execute(select(func.count()).select_from(event_handlers))).scalar()
