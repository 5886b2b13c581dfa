"""Offline events: what raising queues for an application, and event.offline.get, list,
clear and error reading it, through HTTP; ONOFFLINEEVENT notifications on the clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from tests.eventrows import deliveries, offline_rows

from b24local import admin, plans
from b24local.events.raising import raise_event
from b24local.store import events as event_store
from b24local.store import offline
from b24local.store.tables import offline_events

#: Refusal cases: the answer does not depend on the store, so SQLite only (the flows
#: around them run on both databases).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

OTHER_HOST = "other.localhost"
METHODS = ("event.offline.get", "event.offline.list", "event.offline.clear", "event.offline.error")


@dataclass
class App:
    id: int
    client_id: str
    token: str  # an administrator's
    portal_id: int = 1
    host: str = "127.0.0.1:8024"


def install(server, name: str = "Sync", *, domain: str | None = None, user_id: int | None = None):
    made, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name=name, scopes=["user"],
        domain=domain,
    )  # fmt: skip
    user = user_id if user_id is not None else server.admin_id
    pair, portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=made.client_id,
        user_id=user, domain=domain,
    )  # fmt: skip
    host = domain or "127.0.0.1:8024"
    return App(made.id, made.client_id, pair.access_token, portal.id, host)


def token(server, app: App, user_id: int) -> str:
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=app.client_id,
        user_id=user_id,
    )  # fmt: skip
    return pair.access_token


def bind(server, app: App, event: str = "ONUSERADD", **options: Any) -> None:
    async def add(store):
        async with store.transaction(write=True) as conn:
            await event_store.add_handler(
                conn, app.portal_id, event=event, handler=options.pop("handler", ""),
                now=server.clock.now(), user_id=server.admin_id, app_id=app.id, **options,
            )  # fmt: skip

    server.run(add, server.store)


def bind_offline(server, app: App, event: str = "ONUSERADD", connector: str = "") -> None:
    bind(server, app, event, offline=True, connector=connector)


def bind_notification(server, app: App, url: str = "http://127.0.0.1:9/n", **options: Any):
    bind(server, app, "ONOFFLINEEVENT", handler=url, options=options or None)


def fire(server, name: str, data: dict, *, portal_id: int = 1, actor: int | None = 1,
         connector: str = "", by_app: int | None = None) -> None:  # fmt: skip
    """Raise ``name``; ``by_app`` and ``connector`` say which application's call made it."""

    async def go(store):
        async with store.transaction(write=True) as conn:
            await raise_event(
                conn, portal_id, name, data, now=server.clock.now(), actor_id=actor,
                connector=connector, app_id=by_app,
            )  # fmt: skip

    server.run(go, server.store)


def call(server, app: App, method: str, params: dict | None = None, *, auth: str | None = None):
    return server.http.post(
        f"/rest/{method}",
        json={"auth": auth or app.token, **(params or {})},
        headers={"Host": app.host},
    )


def ok(response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def names(events: list[dict]) -> list[str]:
    return [e["EVENT_DATA"]["FIELDS"]["ID"] for e in events]


@pytest.fixture
def app(server) -> App:
    made = install(server)
    bind_offline(server, made)
    return made


def queue_users(server, count: int, event: str = "ONUSERADD") -> None:
    for n in range(1, count + 1):
        fire(server, event, {"FIELDS": {"ID": str(n)}})


# --- what raising queues ------------------------------------------------------------------


def test_the_queue_keeps_the_latest_state_of_each_object(server, app):
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "7"}})
    server.clock.advance(60)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "7"}}, actor=server.admin_id)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "8"}}, actor=None)
    listed = call(server, app, "event.offline.list").json()
    assert listed["total"] == 2
    first, second = listed["result"]
    assert first == {
        "ID": first["ID"],
        "TIMESTAMP_X": "2026-03-02T08:31:00+00:00",
        "EVENT_NAME": "ONUSERADD",
        "EVENT_DATA": {"FIELDS": {"ID": "7"}},
        "EVENT_ADDITIONAL": {"user_id": str(server.admin_id)},
        "MESSAGE_ID": first["MESSAGE_ID"],
        "PROCESS_ID": "",
        "ERROR": "0",
    }
    assert len(first["MESSAGE_ID"]) == 32 and first["MESSAGE_ID"] != second["MESSAGE_ID"]
    assert second["EVENT_ADDITIONAL"] == {"user_id": 0}


def test_each_connector_has_its_own_queue(server):
    made = install(server)
    bind_offline(server, made)
    bind_offline(server, made, connector="sync")
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})  # both queues
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "2"}}, connector="sync", by_app=made.id)
    assert sorted((r["connector"], r["data"]["FIELDS"]["ID"]) for r in offline_rows(server)) == [
        ("", "1"), ("", "2"), ("sync", "1"),
    ]  # fmt: skip
    plain = ok(call(server, made, "event.offline.list"))
    synced = ok(call(server, made, "event.offline.list", {"auth_connector": "sync"}))
    assert names(plain) == ["1", "2"] and names(synced) == ["1"]
    got = ok(call(server, made, "event.offline.get", {"auth_connector": "sync"}))
    assert names(got["events"]) == ["1"]
    assert ok(call(server, made, "event.offline.list", {"auth_connector": "sync"})) == []
    assert len(ok(call(server, made, "event.offline.list"))) == 2


def test_auth_connector_needs_a_plan_with_it(server, app):
    server.run(admin.update_portal, server.store, None, plan=plans.STANDARD)
    for method in METHODS:
        answer = call(server, app, method, {"auth_connector": "sync", "process_id": "x"})
        assert refused(answer, 403) == {
            "error": "WRONG_LICENSE",
            "error_description": "This feature is not enabled for the current license: "
            "auth_connector",
        }, method


# --- who may call -------------------------------------------------------------------------


def test_a_webhook_gets_the_wrong_auth_type(server, app):
    for method in METHODS:
        assert refused(server.call(method, {}), 403) == {
            "error": "WRONG_AUTH_TYPE",
            "error_description": "Current authorization type is denied for this method",
        }, method


def test_only_administrators_may_read_the_queue(server, app):
    someone = server.add_user("Ann", "Lee")  # itself an ONUSERADD: one row
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    theirs = token(server, app, someone)
    for method in METHODS:
        answer = call(server, app, method, {"process_id": "x", "message_id": []}, auth=theirs)
        assert refused(answer, 403) == {
            "error": "ACCESS_DENIED",
            "error_description": "Access denied!",
        }, method
    assert len(offline_rows(server)) == 2


def test_an_application_sees_only_its_own_queue_in_its_own_portal(server, app):
    other = install(server, "Other")
    bind_offline(server, other, "ONUSERUPDATE")
    server.run(admin.add_portal, server.store, server.clock.now(), domain=OTHER_HOST)
    boss = server.run(
        admin.add_user, server.store, server.clock.now(), name="Bo", last_name="Ss", admin=True,
        domain=OTHER_HOST,
    )  # fmt: skip
    far = install(server, "Far", domain=OTHER_HOST, user_id=boss.id)
    bind_offline(server, far)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    fire(server, "ONUSERUPDATE", {"FIELDS": {"ID": "2"}})
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "3"}}, portal_id=far.portal_id)
    assert names(ok(call(server, app, "event.offline.list"))) == ["1"]
    assert names(ok(call(server, other, "event.offline.list"))) == ["2"]
    assert names(ok(call(server, far, "event.offline.list"))) == ["3"]
    # Another application's process is no process of this one's.
    held = ok(call(server, other, "event.offline.get", {"clear": 0}))["process_id"]
    assert ok(call(server, app, "event.offline.clear", {"process_id": held})) is True
    assert names(ok(call(server, other, "event.offline.get", {"process_id": held}))["events"]) == [
        "2"
    ]


# --- event.offline.get --------------------------------------------------------------------


def test_get_hands_out_and_deletes_by_default(server, app):
    queue_users(server, 3)
    got = ok(call(server, app, "event.offline.get", {"limit": 2}))
    assert got["process_id"] is None
    assert names(got["events"]) == ["1", "2"]
    assert set(got["events"][0]) == {
        "ID", "TIMESTAMP_X", "EVENT_NAME", "EVENT_DATA", "EVENT_ADDITIONAL", "MESSAGE_ID",
    }  # fmt: skip
    assert names(ok(call(server, app, "event.offline.get"))["events"]) == ["3"]
    assert ok(call(server, app, "event.offline.get")) == {"process_id": None, "events": []}
    assert offline_rows(server) == []


def test_get_with_clear_0_reserves_rows_for_one_process(server, app):
    queue_users(server, 3)
    first = ok(call(server, app, "event.offline.get", {"clear": 0, "limit": 2}))
    process = first["process_id"]
    assert isinstance(process, str) and len(process) == 32
    assert names(first["events"]) == ["1", "2"]
    # A parallel reader gets the rest, never the reserved rows.
    second = ok(call(server, app, "event.offline.get", {"clear": 0}))
    assert names(second["events"]) == ["3"] and second["process_id"] != process
    assert ok(call(server, app, "event.offline.get", {"clear": "0"}))["events"] == []
    listed = ok(call(server, app, "event.offline.list"))
    assert [e["PROCESS_ID"] for e in listed] == [process, process, second["process_id"]]
    # The process re-reads its own rows; with clear (the default) they go.
    again = ok(call(server, app, "event.offline.get", {"process_id": process, "clear": 0}))
    assert again["process_id"] == process and names(again["events"]) == ["1", "2"]
    done = ok(call(server, app, "event.offline.get", {"process_id": process}))
    assert done["process_id"] == process and names(done["events"]) == ["1", "2"]
    assert names(ok(call(server, app, "event.offline.list"))) == ["3"]


async def _until_someone_waits_for_a_lock(store) -> None:
    for _ in range(1000):
        async with store.transaction() as conn:
            waiting = await conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
            if waiting.scalar():
                return
        await asyncio.sleep(0.005)


# SQLite runs one writing transaction at a time: nothing to race there.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_parallel_readers_never_get_the_same_row(server, app, db_url):
    queue_users(server, 3)
    queue = offline.Queue(app.portal_id, app.id, "")
    order = [offline_events.c.id.asc()]

    async def race(store) -> None:
        async def second() -> None:
            async with store.transaction(write=True) as conn:
                await offline.reserve(conn, queue, "b" * 32, [], order, 3)

        async with store.transaction(write=True) as conn:
            await offline.reserve(conn, queue, "a" * 32, [], order, 3)
            # The second reader has seen the rows unreserved and now waits for them.
            later = asyncio.create_task(second())
            await _until_someone_waits_for_a_lock(store)
        await later

    server.run(race, server.store)
    assert {row["process_id"] for row in offline_rows(server)} == {"a" * 32}


def test_a_repeat_of_a_reserved_event_is_queued_anew(server, app):
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    held = ok(call(server, app, "event.offline.get", {"clear": 0}))
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    listed = ok(call(server, app, "event.offline.list"))
    assert [e["PROCESS_ID"] for e in listed] == [held["process_id"], ""]
    assert listed[0]["MESSAGE_ID"] == listed[1]["MESSAGE_ID"]


def test_get_filters_and_orders(server, app):
    queue_users(server, 2)
    server.clock.advance(1800)
    fire(server, "ONUSERUPDATE", {"FIELDS": {"ID": "3"}})  # nobody listens yet
    bind_offline(server, app, "ONUSERUPDATE")
    fire(server, "ONUSERUPDATE", {"FIELDS": {"ID": "4"}})
    first_id = ok(call(server, app, "event.offline.list"))[0]["ID"]

    def take(params: dict) -> list[str]:
        return names(ok(call(server, app, "event.offline.get", params))["events"])

    assert take({"filter": {"event_name": "onuserupdate"}}) == ["4"]
    assert take({"filter": {">ID": first_id}, "order": {"id": "desc"}, "limit": 1}) == ["2"]
    assert take({"filter": {"<TIMESTAMP_X": "2026-03-02T08:00:00+00:00"}}) == []
    assert take({"filter": {"TIMESTAMP_X": "not a date"}}) == []
    assert take({"filter": {"@ID": str(first_id)}, "order": ["ID"]}) == ["1"]


def test_get_filter_on_time_and_message(server, app):
    queue_users(server, 2)
    server.clock.advance(1800)
    queue_users(server, 1, "ONUSERADD")  # the first again: refreshed, an hour later
    listed = ok(call(server, app, "event.offline.list", {"order": {"TIMESTAMP_X": "DESC"}}))
    assert names(listed) == ["1", "2"]
    early = {"filter": {"<TIMESTAMP_X": "2026-03-02T08:45:00+00:00"}}
    assert names(ok(call(server, app, "event.offline.list", early))) == ["2"]
    message = {"filter": {"MESSAGE_ID": listed[1]["MESSAGE_ID"]}}
    got = ok(call(server, app, "event.offline.get", message))
    assert names(got["events"]) == ["2"]
    assert names(ok(call(server, app, "event.offline.list"))) == ["1"]


@pytest.mark.parametrize(
    ("params", "description", "argument"),
    [
        ({"limit": 0}, "Value must be positive integer", "LIMIT"),
        ({"limit": "-5"}, "Value must be positive integer", "LIMIT"),
        ({"filter": "ID"}, "The filter is not an array.", None),
        ({"filter": {"!ID": 1}}, "Filter operation not allowed: !", None),
        ({"filter": {"PROCESS_ID": ""}}, "Filter field not allowed: PROCESS_ID", None),
        ({"filter": {"@ID": [1, 2]}}, "The value of an argument '@ID' has an invalid type", None),
        ({"order": "ID"}, "The order is not an array.", None),
        ({"order": {"ERROR": "ASC"}}, "Order field not allowed: ERROR", None),
        ({"order": {"ID": "UP"}}, "Order direction should be one of {ASC|DESC}", None),
        ({"order": ["NAME"]}, "Order field not allowed: NAME", None),
    ],
)
@sqlite_only
def test_get_refuses_bad_parameters(server, app, params, description, argument):
    answer = refused(call(server, app, "event.offline.get", params))
    expected = {"error": "ERROR_ARGUMENT", "error_description": description}
    if argument:
        expected["argument"] = argument
    assert answer == expected


def test_reserving_needs_the_extended_mode(server, app):
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    server.run(admin.update_portal, server.store, None, plan=plans.STANDARD)
    assert refused(call(server, app, "event.offline.get", {"clear": 0}), 403) == {
        "error": "WRONG_LICENSE",
        "error_description": "This feature is not enabled for the current license: "
        "extended offline events handling",
    }
    assert names(ok(call(server, app, "event.offline.get"))["events"]) == ["1"]


def test_a_reservation_nobody_clears_is_dropped_after_its_lifetime(server, app):
    queue_users(server, 2)
    held = ok(call(server, app, "event.offline.get", {"clear": 0, "limit": 1}))["process_id"]
    server.clock.advance(2_952_000)
    later = token(server, app, server.admin_id)
    assert len(ok(call(server, app, "event.offline.list", auth=later))) == 2
    server.clock.advance(1)
    later = token(server, app, server.admin_id)
    assert names(ok(call(server, app, "event.offline.list", auth=later))) == ["2"]
    assert len(offline_rows(server)) == 2  # until the queue is next written to
    gone = ok(call(server, app, "event.offline.get", {"process_id": held}, auth=later))
    assert gone == {"process_id": held, "events": []}
    assert len(offline_rows(server)) == 1


# --- event.offline.list -------------------------------------------------------------------


def test_list_pages_by_fifty_without_changing_the_queue(server, app):
    queue_users(server, 60)
    first = call(server, app, "event.offline.list").json()
    assert len(first["result"]) == 50 and first["total"] == 60 and first["next"] == 50
    second = call(server, app, "event.offline.list", {"start": 50}).json()
    assert names(second["result"]) == [str(n) for n in range(51, 61)]
    assert second["total"] == 60 and "next" not in second
    backwards = ok(call(server, app, "event.offline.list", {"order": {"ID": "DESC"}}))
    assert names(backwards)[:2] == ["60", "59"]
    assert len(offline_rows(server)) == 60


def test_list_filters_by_process_and_error(server, app):
    queue_users(server, 3)
    held = ok(call(server, app, "event.offline.get", {"clear": 0, "limit": 1}))["process_id"]
    by_process = {"filter": {"PROCESS_ID": held}}
    assert names(ok(call(server, app, "event.offline.list", by_process))) == ["1"]
    unreserved = {"filter": {"=process_id": ""}}
    assert names(ok(call(server, app, "event.offline.list", unreserved))) == ["2", "3"]
    assert ok(call(server, app, "event.offline.list", {"filter": {"ERROR": 1}})) == []
    assert names(ok(call(server, app, "event.offline.list", {"filter": {"@ID": []}}))) == []


# --- event.offline.clear ------------------------------------------------------------------


def test_clear_deletes_a_process_rows(server, app):
    queue_users(server, 4)
    held = ok(call(server, app, "event.offline.get", {"clear": 0, "limit": 3}))
    process, events = held["process_id"], held["events"]
    by_id = {"process_id": process, "id": [events[0]["ID"]]}
    assert ok(call(server, app, "event.offline.clear", by_id)) is True
    assert names(ok(call(server, app, "event.offline.list"))) == ["2", "3", "4"]
    by_message = {"process_id": process, "message_id": [events[1]["MESSAGE_ID"]], "id": [999]}
    assert ok(call(server, app, "event.offline.clear", by_message)) is True
    assert names(ok(call(server, app, "event.offline.list"))) == ["3", "4"]
    # Another process's ID, or rows nobody reserved, are not touched by it.
    assert ok(call(server, app, "event.offline.clear", {"process_id": "nope"})) is True
    assert ok(call(server, app, "event.offline.clear", {"process_id": process})) is True
    assert names(ok(call(server, app, "event.offline.list"))) == ["4"]


def test_clear_and_error_take_lists_longer_than_a_query_holds(server, app):
    # PostgreSQL takes 32,767 arguments a query: the lists go in parts.
    queue_users(server, 2)
    held = ok(call(server, app, "event.offline.get", {"clear": 0, "limit": 2}))
    process, events = held["process_id"], held["events"]
    many = [f"{n:032x}" for n in range(33_000)]
    marked = {"process_id": process, "message_id": [*many, events[0]["MESSAGE_ID"]]}
    assert ok(call(server, app, "event.offline.error", marked)) is True
    ids = {"process_id": process, "id": [*range(100_000, 133_000), int(events[1]["ID"])]}
    assert ok(call(server, app, "event.offline.clear", ids)) is True
    by_message = {"process_id": process, "message_id": many}
    assert ok(call(server, app, "event.offline.clear", by_message)) is True
    assert [e["ERROR"] for e in ok(call(server, app, "event.offline.list"))] == ["1"]


@pytest.mark.parametrize(
    ("params", "description", "argument"),
    [
        ({}, "Argument 'PROCESS_ID' is null or empty", "PROCESS_ID"),
        ({"process_id": None}, "Argument 'PROCESS_ID' is null or empty", "PROCESS_ID"),
        ({"process_id": "p", "message_id": "x"}, "Value must be array of MESSAGE_ID values",
         "message_id"),
        ({"process_id": "p", "message_id": ["short"]}, "Value must be array of MESSAGE_ID values",
         "messsage_id"),
        ({"process_id": "p", "id": "1"}, "Value must be array of integers", "id"),
        ({"process_id": "p", "id": [1, "0"]}, "Value must be array of integers", "id"),
    ],
)  # fmt: skip
@sqlite_only
def test_clear_refuses_bad_parameters(server, app, params, description, argument):
    assert refused(call(server, app, "event.offline.clear", params)) == {
        "error": "ERROR_ARGUMENT",
        "error_description": description,
        "argument": argument,
    }


# --- event.offline.error ------------------------------------------------------------------


def test_error_rows_come_back_only_when_asked_for(server, app):
    queue_users(server, 3)
    held = ok(call(server, app, "event.offline.get", {"clear": 0, "limit": 2}))
    process, events = held["process_id"], held["events"]
    failed = {"process_id": process, "message_id": [events[0]["MESSAGE_ID"]]}
    assert ok(call(server, app, "event.offline.error", failed)) is True
    listed = ok(call(server, app, "event.offline.list"))
    assert [(e["PROCESS_ID"], e["ERROR"]) for e in listed] == [
        ("", "1"), (process, "0"), ("", "0"),
    ]  # fmt: skip
    # An ordinary get skips error rows; error=1 hands out only them.
    assert names(ok(call(server, app, "event.offline.get"))["events"]) == ["3"]
    errors = ok(call(server, app, "event.offline.get", {"error": 1, "clear": 0}))
    assert names(errors["events"]) == ["1"]
    assert ok(call(server, app, "event.offline.clear", {"process_id": errors["process_id"]}))
    assert names(ok(call(server, app, "event.offline.list"))) == ["2"]


def test_marking_an_error_drops_newer_repeats_of_the_message(server, app):
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    held = ok(call(server, app, "event.offline.get", {"clear": 0}))
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})  # queued anew, unreserved
    message = held["events"][0]["MESSAGE_ID"]
    failed = {"process_id": held["process_id"], "message_id": {"a": message}}
    assert ok(call(server, app, "event.offline.error", failed)) is True
    listed = ok(call(server, app, "event.offline.list"))
    assert [(e["PROCESS_ID"], e["ERROR"]) for e in listed] == [("", "1")]
    # A repeat now refreshes the error row; marking again keeps one error row.
    server.clock.advance(5)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    again = ok(call(server, app, "event.offline.get", {"clear": 0, "error": 1}))
    assert again["events"][0]["TIMESTAMP_X"] == "2026-03-02T08:30:05+00:00"
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}}, actor=None)
    ok(call(server, app, "event.offline.error", {"process_id": "", "message_id": [message]}))
    # Only rows not yet in error are marked: the reserved error row stays as it is.
    ok(call(server, app, "event.offline.error",
            {"process_id": again["process_id"], "message_id": [message]}))  # fmt: skip
    listed = ok(call(server, app, "event.offline.list"))
    assert [(e["PROCESS_ID"], e["ERROR"]) for e in listed] == [
        (again["process_id"], "1"), ("", "1"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "description", "argument"),
    [
        ({"message_id": []}, "Argument 'PROCESS_ID' is null or empty", "PROCESS_ID"),
        ({"process_id": "p"}, "Value must be array of MESSAGE_ID values", "message_id"),
        ({"process_id": "p", "message_id": "m"}, "Value must be array of MESSAGE_ID values",
         "message_id"),
    ],
)  # fmt: skip
@sqlite_only
def test_error_refuses_bad_parameters(server, app, params, description, argument):
    assert refused(call(server, app, "event.offline.error", params)) == {
        "error": "ERROR_ARGUMENT",
        "error_description": description,
        "argument": argument,
    }


# --- ONOFFLINEEVENT -----------------------------------------------------------------------


def notifications(server) -> list[dict]:
    return [d for d in deliveries(server) if d["event"] == "ONOFFLINEEVENT"]


def test_onofflineevent_notifies_at_most_once_a_min_timeout(server, app):
    bind_notification(server, app, minTimeout=10)
    queue_users(server, 3)  # one notification for all three
    sent = notifications(server)
    assert len(sent) == 1
    assert sent[0]["handler_url"] == "http://127.0.0.1:9/n"
    assert sent[0]["data"] == {} and sent[0]["app_id"] == app.id
    assert sent[0]["auth_user_id"] == 1
    server.clock.advance(9)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "4"}})
    assert len(notifications(server)) == 1  # dropped, not postponed
    server.clock.advance(1)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "5"}})
    assert len(notifications(server)) == 2
    assert notifications(server)[1]["due_at"] == server.clock.now()


def test_onofflineevent_default_is_one_second(server, app):
    bind_notification(server, app)
    queue_users(server, 2)
    assert len(notifications(server)) == 1
    server.clock.advance(1)
    queue_users(server, 1)
    assert len(notifications(server)) == 2


def test_min_timeout_0_notifies_once_a_call(server, app):
    bind_notification(server, app, minTimeout="0")
    queue_users(server, 2)
    assert len(notifications(server)) == 1
    server.clock.advance(0.001)
    queue_users(server, 1)
    assert len(notifications(server)) == 2


def test_onofflineevent_only_for_the_application_whose_queue_grew(server, app):
    other = install(server, "Other")
    bind_notification(server, other, url="http://127.0.0.1:9/other", minTimeout=[1])
    hostile = install(server, "Hostile")
    bind_offline(server, hostile)
    bind_notification(server, hostile, url="http://127.0.0.1:9/h", minTimeout="99999")
    bind_notification(server, app)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "1"}})
    assert sorted(d["handler_url"] for d in notifications(server)) == [
        "http://127.0.0.1:9/h", "http://127.0.0.1:9/n",
    ]  # fmt: skip
    # Nothing queued (the connector's own change): nothing to tell.
    synced = install(server, "Synced")
    bind_offline(server, synced, connector="own")
    bind_notification(server, synced, url="http://127.0.0.1:9/s", minTimeout=0)
    server.clock.advance(100)
    fire(server, "ONUSERADD", {"FIELDS": {"ID": "2"}}, connector="own", by_app=synced.id)
    assert "http://127.0.0.1:9/s" not in [d["handler_url"] for d in notifications(server)]
    assert "http://127.0.0.1:9/h" not in [d["handler_url"] for d in notifications(server)[2:]]
