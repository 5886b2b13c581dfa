"""What raises events: a change made through HTTP leaves, in the same transaction,
one outbox row per online handler and one offline row per application; a refused
change leaves none. Handlers are bound straight in the store (event.bind is tested
on its own), so these tests see only the raising side."""

from __future__ import annotations

from typing import Any

import pytest
from tests.eventrows import deliveries, offline_rows
from tests.restcalls import error_of, result

from b24local import admin, plans
from b24local.store import events as event_store

#: Refusal cases: the answer does not depend on the store, so SQLite only (the flows
#: around them run on both databases).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

HANDLER = "http://127.0.0.1:9/handler"


def install(server, name: str = "Hears users") -> int:
    app, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name=name, scopes=["user"]
    )
    return app.id


def bind(server, app_id: int, event: str = "ONUSERADD", **options: Any) -> None:
    async def insert(store) -> None:
        async with store.transaction(write=True) as conn:
            await event_store.add_handler(
                conn, 1, event=event, handler=options.pop("handler", HANDLER),
                now=server.clock.now(), user_id=server.admin_id, app_id=app_id, **options,
            )  # fmt: skip

    server.run(insert, server.store)


def raised(server, event: str = "ONUSERADD") -> list[dict[str, Any]]:
    return [row for row in deliveries(server) if row["event"] == event]


def queued(server, event: str = "ONUSERADD") -> list[dict[str, Any]]:
    return [row for row in offline_rows(server) if row["event"] == event]


def expected_data(user_id: int, **changes: Any) -> dict[str, Any]:
    """ONUSERADD's data for a user added at the frozen start (portal zone UTC)."""
    return {
        "ID": user_id,
        "ACTIVE": "Y",
        "EMAIL": "",
        "NAME": "",
        "LAST_NAME": "",
        "PERSONAL_GENDER": "",
        "PERSONAL_BIRTHDAY": "",
        "UF_DEPARTMENT": [1],
        "DATE_REGISTER": "2026-03-02T08:30:00+00:00",
        "WORK_POSITION": "",
        "UF_EMPLOYMENT_DATE": "",
    } | changes


# --- ONUSERADD ---------------------------------------------------------------------------


def test_user_add_raises_onuseradd_with_the_pages_data(server):
    app_id = install(server)
    bind(server, app_id)
    new_id = result(
        server.call(
            "user.add",
            {
                "EMAIL": "klaus@example.com", "NAME": "Klaus", "LAST_NAME": "Weber",
                "PERSONAL_GENDER": "M", "PERSONAL_BIRTHDAY": "1990-01-01",
                "UF_DEPARTMENT": [1], "WORK_POSITION": "Developer",
            },
        )
    )  # fmt: skip
    [row] = raised(server)
    assert row["data"] == expected_data(
        new_id, EMAIL="klaus@example.com", NAME="Klaus", LAST_NAME="Weber",
        PERSONAL_GENDER="M", PERSONAL_BIRTHDAY="1990-01-01", WORK_POSITION="Developer",
    )  # fmt: skip
    assert row["handler_url"] == HANDLER
    assert row["app_id"] == app_id
    # The token the handler gets is the inviting administrator's.
    assert row["auth_user_id"] == server.admin_id
    assert row["state"] == "pending"
    assert row["due_at"] == row["raised_at"] == server.clock.now()


def test_the_data_is_in_the_portals_zone_and_follows_the_stored_profile(server):
    server.run(admin.update_portal, server.store, None, time_zone="Europe/Berlin")
    bind(server, install(server))
    new_id = result(
        server.call(
            "user.add",
            {"EMAIL": "a@example.com", "UF_DEPARTMENT": "1", "ACTIVE": "N", "NAME": " Ann "},
        )
    )
    [row] = raised(server)
    shown = result(server.call("user.get", {"ID": new_id}))[0]
    assert row["data"]["DATE_REGISTER"] == "2026-03-02T09:30:00+01:00"
    assert row["data"]["ACTIVE"] == "N"
    assert row["data"]["NAME"] == shown["NAME"]
    assert row["data"]["UF_DEPARTMENT"] == [1]


def test_an_extranet_user_has_no_departments_in_the_data(server):
    bind(server, install(server))
    new_id = result(
        server.call(
            "user.add", {"EMAIL": "guest@example.com", "EXTRANET": "Y", "SONET_GROUP_ID": [1]}
        )
    )
    [row] = raised(server)
    assert row["data"]["ID"] == new_id
    assert "UF_DEPARTMENT" not in row["data"]


def test_each_handler_hears_it_with_its_own_auth_type(server):
    other = server.add_user("Olga", "Ivanova")
    first, second = install(server, "First"), install(server, "Second")
    bind(server, first)
    bind(server, second, auth_type=other, handler="http://127.0.0.1:9/second")
    new_id = result(server.call("user.add", {"EMAIL": "b@example.com", "UF_DEPARTMENT": [1]}))
    rows = raised(server)
    assert [(r["app_id"], r["auth_user_id"]) for r in rows] == [
        (first, server.admin_id),
        (second, other),
    ]
    assert {r["data"]["ID"] for r in rows} == {new_id}


def test_the_acting_user_of_an_application_call_gets_the_token(server):
    app_id = install(server)
    bind(server, app_id)
    client_id = next(
        app.client_id for app in server.run(admin.list_apps, server.store) if app.id == app_id
    )
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=client_id,
        user_id=server.admin_id,
    )  # fmt: skip
    response = server.http.post(
        "/rest/user.add",
        json={"auth": pair.access_token, "EMAIL": "c@example.com", "UF_DEPARTMENT": [1]},
    )
    new_id = result(response)
    [row] = raised(server)
    assert (row["data"]["ID"], row["auth_user_id"]) == (new_id, server.admin_id)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"EMAIL": "taken@example.com", "UF_DEPARTMENT": [1]}, id="e-mail taken"),
        pytest.param({"EMAIL": "not an address", "UF_DEPARTMENT": [1]}, id="wrong e-mail"),
        pytest.param({"EMAIL": "d@example.com", "UF_DEPARTMENT": [99]}, id="no department"),
        pytest.param({"EMAIL": "d@example.com"}, id="no department given"),
    ],
)
def test_a_refused_user_add_raises_nothing(server, params):
    server.add_user("Taken", "Already", email="taken@example.com")
    app_id = install(server)
    bind(server, app_id)
    bind(server, app_id, handler="", offline=True)
    status, _body = error_of(server.call("user.add", params))
    assert status == 400
    assert raised(server) == [] and queued(server) == []


def test_a_non_administrator_is_refused_and_raises_nothing(server):
    hook = server.add_webhook(server.add_user("Plain", "User"), ["user"])
    bind(server, install(server))
    status, body = error_of(
        server.call("user.add", {"EMAIL": "e@example.com", "UF_DEPARTMENT": [1]}, hook=hook)
    )
    assert (status, body["error"]) == (400, "ERROR_CORE")
    assert raised(server) == []


def test_user_update_raises_no_event(server):
    bind(server, install(server))
    for event in ("ONUSERUPDATE", "ONUSERADD"):
        bind(server, install(server, event), event=event)
    result(server.call("user.update", {"ID": server.admin_id, "WORK_POSITION": "Boss"}))
    assert deliveries(server) == [] and offline_rows(server) == []


def test_no_handler_no_row(server):
    result(server.call("user.add", {"EMAIL": "f@example.com", "UF_DEPARTMENT": [1]}))
    assert deliveries(server) == [] and offline_rows(server) == []


def test_another_portals_handlers_hear_nothing(server):
    bind(server, install(server))
    server.run(admin.add_portal, server.store, server.clock.now(), domain="acme.localhost")
    acme = server.run(
        admin.add_user, server.store, server.clock.now(), name="Ann", last_name="Acme",
        domain="acme.localhost",
    )  # fmt: skip
    assert acme.portal_id != 1
    assert raised(server) == []


# --- offline handlers and auth_connector ------------------------------------------------


def token_of(server, app_id: int, user_id: int | None = None) -> str:
    client_id = next(
        a.client_id for a in server.run(admin.list_apps, server.store) if a.id == app_id
    )
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=client_id,
        user_id=user_id or server.admin_id,
    )  # fmt: skip
    return pair.access_token


def add_by_app(server, token: str, email: str, **params: Any) -> int:
    body = {"auth": token, "EMAIL": email, "UF_DEPARTMENT": [1], **params}
    return result(server.http.post("/rest/user.add", json=body))


def test_an_offline_handler_gets_one_row(server):
    app_id = install(server)
    bind(server, app_id, handler="", offline=True)
    new_id = result(server.call("user.add", {"EMAIL": "g@example.com", "UF_DEPARTMENT": [1]}))
    assert raised(server) == []
    [row] = queued(server)
    assert row["app_id"] == app_id
    assert row["data"] == expected_data(new_id, EMAIL="g@example.com")


def test_the_app_that_made_the_change_with_the_connector_does_not_queue_it(server):
    app_id, other = install(server), install(server, "Other")
    bind(server, app_id, handler="", offline=True, connector="sync")
    bind(server, other, handler="", offline=True, connector="sync")
    add_by_app(server, token_of(server, app_id), "h@example.com", auth_connector="sync")
    # Only the other application hears it: the connector names a channel of one app.
    assert [row["app_id"] for row in queued(server)] == [other]


def test_without_the_matching_connector_the_apps_own_change_is_queued(server):
    app_id = install(server)
    bind(server, app_id, handler="", offline=True, connector="sync")
    token = token_of(server, app_id)
    add_by_app(server, token, "i@example.com", auth_connector="crm")
    add_by_app(server, token, "j@example.com")
    assert len(queued(server)) == 2


def test_an_apps_own_change_reaches_its_queue_without_a_connector(server):
    # offline-events.md's cycle: with no connector on either side, nothing breaks it.
    app_id = install(server)
    bind(server, app_id, handler="", offline=True)
    add_by_app(server, token_of(server, app_id), "n@example.com")
    assert [row["app_id"] for row in queued(server)] == [app_id]


def test_a_webhooks_connector_is_ignored(server):
    bind(server, install(server), handler="", offline=True, connector="sync")
    result(
        server.call(
            "user.add", {"EMAIL": "k@example.com", "UF_DEPARTMENT": [1], "auth_connector": "sync"}
        )
    )
    assert len(queued(server)) == 1


def test_below_professional_the_connector_is_not_heeded(server):
    server.run(admin.update_portal, server.store, None, plan=plans.STANDARD)
    app_id = install(server)
    bind(server, app_id, handler="", offline=True, connector="sync")
    add_by_app(server, token_of(server, app_id), "l@example.com", auth_connector="sync")
    assert len(queued(server)) == 1


@pytest.mark.parametrize(
    ("connector", "heard"),
    [(["sync"], 1), ({"a": "sync"}, 1), ("x" * 5000, 1), (12, 1), ("sync" + "x" * 300, 1)],
    ids=["list", "dict", "huge", "number", "long"],
)
@sqlite_only
def test_a_malformed_connector_is_no_connector_or_text(server, connector, heard):
    app_id = install(server)
    bind(server, app_id, handler="", offline=True, connector="sync")
    add_by_app(server, token_of(server, app_id), "m@example.com", auth_connector=connector)
    assert len(queued(server)) == heard
