"""event.bind, event.unbind, event.get and events: an application subscribes to
events with its token; rights, errors and answers as the pages give them."""

from __future__ import annotations

import pytest

from b24local import admin
from b24local.scopes.common import event_methods

#: Refusal cases: the answer does not depend on the store, so SQLite only (the flows
#: around them run on both databases).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

HANDLER = "https://app.example/handler/"
LOCAL_HANDLER = "http://localhost:9090/events"
ACME = "acme.localhost"
ACME_HOST = "acme.localhost:8024"


def install(server, name: str = "Hears", scopes=("user",), domain: str | None = None) -> str:
    app, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name=name, scopes=list(scopes),
        domain=domain,
    )  # fmt: skip
    return app.client_id


def token_for(server, client_id: str, user_id: int, domain: str | None = None) -> str:
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=client_id,
        user_id=user_id, domain=domain,
    )  # fmt: skip
    return pair.access_token


def call(server, token: str, method: str, params: dict | None = None, host: str | None = None):
    headers = {"Host": host} if host else {}
    body = {"auth": token, **(params or {})}
    return server.http.post(f"/rest/{method}", json=body, headers=headers)


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def error(code: str, description: str, **extra: str) -> dict:
    return {"error": code, "error_description": description, **extra}


@pytest.fixture
def app_id(server) -> str:
    return install(server)


@pytest.fixture
def boss(server, app_id) -> str:
    return token_for(server, app_id, server.admin_id)


@pytest.fixture
def emily(server) -> int:
    return server.add_user("Emily")


@pytest.fixture
def emily_token(server, app_id, emily) -> str:
    return token_for(server, app_id, emily)


def bind(server, token: str, **params):
    return call(server, token, "event.bind", {"event": "ONUSERADD", "handler": HANDLER, **params})


# --- the application context ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["event.bind", "event.unbind", "event.get", "events"])
@sqlite_only
def test_a_webhook_gets_the_wrong_auth_type_error(server, method):
    answer = server.call(method, {"event": "ONUSERADD", "handler": HANDLER})
    assert refused(answer, 403) == error(
        "WRONG_AUTH_TYPE", "Current authorization type is denied for this method"
    )


# --- event.bind and event.get ---------------------------------------------------------------


def test_bind_then_get_shows_the_handler_in_the_pages_shape(server, boss):
    assert ok(bind(server, boss)) is True
    assert ok(bind(server, boss, event="onUserAdd", handler=LOCAL_HANDLER, auth_type=1)) is True
    assert ok(call(server, boss, "event.get")) == [
        {"event": "ONUSERADD", "handler": HANDLER, "auth_type": "0", "offline": 0},
        {"event": "ONUSERADD", "handler": LOCAL_HANDLER, "auth_type": "1", "offline": 0},
    ]


def test_form_encoded_bind_with_upper_case_keys(server, boss):
    form = {"auth": boss, "EVENT": "onappuninstall", "HANDLER": HANDLER}
    assert ok(server.http.post("/rest/event.bind", data=form)) is True
    assert ok(call(server, boss, "event.get"))[0]["event"] == "ONAPPUNINSTALL"


def test_the_same_binding_twice_is_refused(server, boss):
    assert ok(bind(server, boss))
    assert refused(bind(server, boss, event="onuseradd")) == error(
        "ERROR_CORE", "Unable to set event handler: Handler already binded"
    )
    # Another user to authorise it, or another connector, is another binding.
    assert ok(bind(server, boss, auth_type=1))
    assert ok(bind(server, boss, auth_connector="sync"))
    assert len(ok(call(server, boss, "event.get"))) == 3


NOT_FOUND = error("ERROR_EVENT_NOT_FOUND", "Event not found")
WRONG_URL = error("ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
NO_USER = error("ERROR_ARGUMENT", "User not found", argument="AUTH_TYPE")


def empty(argument: str) -> dict:
    return error("ERROR_ARGUMENT", f"Argument '{argument}' is null or empty", argument=argument)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"event": ""}, empty("EVENT")),
        ({"handler": ""}, empty("HANDLER")),
        (
            {"event_type": "later"},
            error("ERROR_ARGUMENT", "Value must be one of {online|offline}", argument="EVENT_TYPE"),
        ),
        ({"event": "ONCRMLEADADD"}, NOT_FOUND),
        ({"event": ["ONUSERADD"]}, NOT_FOUND),
        ({"handler": "not a url"}, WRONG_URL),
        ({"handler": "/relative/path"}, WRONG_URL),
        ({"handler": "http://[::1"}, WRONG_URL),
        ({"handler": "http://app.example:99999/"}, WRONG_URL),
        # Too long for the outbox's index on PostgreSQL, and for any server.
        ({"handler": "http://127.0.0.1:9/" + "a" * 2100}, WRONG_URL),
        # Hosts no IDNA encoding takes: the sender could never post to them.
        ({"handler": "http://é..x/"}, WRONG_URL),
        ({"handler": "http://xn--a/"}, WRONG_URL),
        ({"handler": {"a": 1}}, WRONG_URL),
        (
            {"handler": "ftp://app.example/h"},
            error("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol"),
        ),
        ({"auth_type": 999}, NO_USER),
        ({"auth_type": "99999999999999999999"}, NO_USER),
    ],
)
@sqlite_only
def test_bind_refusals(server, boss, params, expected):
    assert refused(bind(server, boss, **params)) == expected
    assert ok(call(server, boss, "event.get")) == []


def test_an_event_must_be_one_of_the_tokens_scopes(server):
    client_id = install(server, "Presence only", scopes=("im",))
    token = token_for(server, client_id, server.admin_id)
    assert refused(bind(server, token)) == error("ERROR_EVENT_NOT_FOUND", "Event not found")
    # The scopeless events are everyone's.
    assert ok(bind(server, token, event="ONAPPUNINSTALL"))


def test_a_non_administrator_binds_as_themselves(server, emily, emily_token, boss):
    assert ok(bind(server, emily_token))
    assert ok(bind(server, emily_token, handler=LOCAL_HANDLER, auth_type=emily))
    denied = error(
        "ACCESS_DENIED",
        "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
    )
    assert refused(bind(server, emily_token, auth_type=1), 403) == denied
    offline = error(
        "ACCESS_DENIED",
        "Access denied! Offline events binding requires administrator access rights",
    )
    assert refused(bind(server, emily_token, event_type="offline"), 403) == offline
    mine = [
        {"event": "ONUSERADD", "handler": HANDLER, "auth_type": str(emily), "offline": 0},
        {"event": "ONUSERADD", "handler": LOCAL_HANDLER, "auth_type": str(emily), "offline": 0},
    ]
    assert ok(call(server, emily_token, "event.get")) == mine
    # The administrator's binding is not hers to see; the administrator sees all.
    assert ok(bind(server, boss, handler="https://other.example/"))
    assert ok(call(server, emily_token, "event.get")) == mine
    assert len(ok(call(server, boss, "event.get"))) == 3


def test_offline_binding_keeps_the_connector_and_no_handler(server, boss):
    params = {"event_type": "OFFLINE", "handler": HANDLER, "auth_type": 1}
    assert ok(bind(server, boss, auth_connector="crm-sync", **params))
    assert ok(bind(server, boss, event="ONAPPUPDATE", event_type="offline"))
    assert ok(call(server, boss, "event.get")) == [
        {"event": "ONUSERADD", "connector_id": "crm-sync", "offline": 1},
        {"event": "ONAPPUPDATE", "connector_id": "", "offline": 1},
    ]
    assert refused(bind(server, boss, auth_connector="crm-sync", **params)) == error(
        "ERROR_CORE", "Unable to set event handler: Handler already binded"
    )
    assert refused(bind(server, boss, event="ONOFFLINEEVENT", event_type="offline")) == error(
        "ERROR_ARGUMENT", "Offline event cannot be registered for this event."
    )


def test_options_keep_min_timeout_for_onofflineevent_only(server, boss, app_id):
    params = {"options": {"minTimeout": "30", "other": "x"}}
    assert ok(bind(server, boss, event="ONOFFLINEEVENT", **params))
    assert ok(bind(server, boss, **params))
    assert ok(bind(server, boss, event="ONAPPUPDATE", options="not a map"))
    stored = server.run(_options_by_event, server.store)
    assert stored == {"ONOFFLINEEVENT": {"minTimeout": 30}, "ONUSERADD": {}, "ONAPPUPDATE": {}}


async def _options_by_event(store) -> dict:
    from sqlalchemy import select

    from b24local.store.tables import event_handlers

    async with store.transaction() as conn:
        rows = await conn.execute(select(event_handlers.c.event, event_handlers.c.options))
        return {row.event: row.options for row in rows}


def test_an_application_has_a_limit_of_handlers(server, boss, monkeypatch):
    monkeypatch.setattr(event_methods, "MAX_HANDLERS", 2)
    assert ok(bind(server, boss))
    assert ok(bind(server, boss, handler=LOCAL_HANDLER))
    answer = refused(bind(server, boss, handler="https://third.example/"))
    assert answer["error"] == "ERROR_CORE"
    assert answer["error_description"].startswith("Unable to set event handler:")
    # Unbinding makes room again.
    assert ok(call(server, boss, "event.unbind", {"event": "ONUSERADD", "handler": HANDLER}))
    assert ok(bind(server, boss, handler="https://third.example/"))


def test_handlers_belong_to_their_application(server, boss):
    other = token_for(server, install(server, "Other"), server.admin_id)
    assert ok(bind(server, boss))
    assert ok(call(server, other, "event.get")) == []
    # The same binding for another application is no duplicate.
    assert ok(bind(server, other))
    answer = call(server, other, "event.unbind", {"event": "ONUSERADD", "handler": HANDLER})
    assert ok(answer) == {"count": 1}
    assert len(ok(call(server, boss, "event.get"))) == 1


def test_another_portal_keeps_its_own_handlers(server, boss):
    server.run(admin.add_portal, server.store, server.clock.now(), domain=ACME)
    acme_app = install(server, "Acme", domain=ACME)
    acme = token_for(server, acme_app, 1, domain=ACME)
    assert ok(bind(server, boss))
    assert ok(call(server, acme, "event.get", host=ACME_HOST)) == []
    params = {"event": "ONUSERADD", "handler": HANDLER}
    assert ok(call(server, acme, "event.bind", params, ACME_HOST))
    assert len(ok(call(server, acme, "event.get", host=ACME_HOST))) == 1
    assert len(ok(call(server, boss, "event.get"))) == 1


# --- event.unbind ---------------------------------------------------------------------------


def unbind(server, token: str, **params):
    return call(server, token, "event.unbind", {"event": "ONUSERADD", "handler": HANDLER, **params})


def test_unbind_counts_what_it_removed(server, boss):
    assert ok(bind(server, boss))
    assert ok(bind(server, boss, auth_type=1))
    assert ok(bind(server, boss, handler=LOCAL_HANDLER))
    # auth_type=0 (or empty): only those authorised as whoever raises the event.
    assert ok(unbind(server, boss, auth_type="")) == {"count": 1}
    assert ok(unbind(server, boss, auth_type=0)) == {"count": 0}
    # No auth_type: every authorisation of that handler.
    assert ok(bind(server, boss))
    assert ok(unbind(server, boss)) == {"count": 2}
    assert ok(call(server, boss, "event.get")) == [
        {"event": "ONUSERADD", "handler": LOCAL_HANDLER, "auth_type": "0", "offline": 0}
    ]
    assert ok(unbind(server, boss, event="ONAPPUPDATE")) == {"count": 0}


def test_unbind_refusals(server, boss):
    assert refused(unbind(server, boss, event="")) == error(
        "ERROR_ARGUMENT", "Argument 'EVENT' is null or empty", argument="EVENT"
    )
    assert refused(unbind(server, boss, handler="")) == error(
        "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty", argument="HANDLER"
    )
    assert refused(unbind(server, boss, event_type="x")) == error(
        "ERROR_ARGUMENT", "Value must be one of {online|offline}", argument="EVENT_TYPE"
    )


def test_a_non_administrator_unbinds_only_their_own(server, boss, emily, emily_token):
    assert ok(bind(server, boss))
    assert ok(bind(server, emily_token))
    assert ok(unbind(server, emily_token)) == {"count": 1}
    assert ok(unbind(server, emily_token, auth_type=emily)) == {"count": 0}
    denied = error(
        "ACCESS_DENIED",
        "Access denied! Event unbinding with AUTH_TYPE requires administrator access rights",
    )
    assert refused(unbind(server, emily_token, auth_type=0), 403) == denied
    offline = error(
        "ACCESS_DENIED",
        "Access denied! Offline events unbinding requires administrator access rights",
    )
    assert refused(unbind(server, emily_token, event_type="offline"), 403) == offline
    assert len(ok(call(server, boss, "event.get"))) == 1


def test_offline_unbind_goes_by_connector(server, boss):
    assert ok(bind(server, boss, event_type="offline", auth_connector="a"))
    assert ok(bind(server, boss, event_type="offline", auth_connector="b"))
    assert ok(bind(server, boss))
    assert ok(unbind(server, boss, event_type="offline", auth_connector="a")) == {"count": 1}
    assert ok(call(server, boss, "event.get")) == [
        {"event": "ONUSERADD", "connector_id": "b", "offline": 1},
        {"event": "ONUSERADD", "handler": HANDLER, "auth_type": "0", "offline": 0},
    ]


# --- events ---------------------------------------------------------------------------------

BASIC = [
    "ONAPPUNINSTALL",
    "ONAPPINSTALL",
    "ONAPPUPDATE",
    "ONAPPPAYMENT",
    "ONAPPTEST",
    "ONAPPMETHODCONFIRM",
    "ONOFFLINEEVENT",
]


def test_events_lists_what_the_token_may_bind(server, boss):
    listed = ok(call(server, boss, "events"))
    assert listed[: len(BASIC)] == BASIC
    assert "ONUSERADD" in listed
    presence = token_for(server, install(server, "Presence", scopes=("im",)), server.admin_id)
    assert "ONUSERADD" not in ok(call(server, presence, "events"))
    # FULL: every scope's; SCOPE: that scope's alone (FULL ignored); an empty SCOPE: the basic.
    assert "ONUSERADD" in ok(call(server, presence, "events", {"FULL": "Y"}))
    assert "ONUSERADD" not in ok(call(server, presence, "events", {"full": "0"}))
    assert ok(call(server, presence, "events", {"scope": "user", "full": 1})) == ["ONUSERADD"]
    assert ok(call(server, presence, "events", {"SCOPE": ""})) == BASIC
    assert ok(call(server, presence, "events", {"SCOPE": "nothing"})) == []
    assert ok(call(server, presence, "events", {"SCOPE": ["user"]})) == []
