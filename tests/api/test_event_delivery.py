"""Sending the outbox: what a handler listening on a local port receives (its body
read by a PHP-style form decoder), retries and backoff on the injected clock, a
slow handler paused and never blocking another, deliveries surviving a restart,
and the ``--dev`` surface that lists, waits for and runs deliveries."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from b24local import admin
from b24local.app import create_app
from b24local.config import Settings
from b24local.events.raising import raise_event
from b24local.store import events as event_store
from b24local.store import outbox
from b24local.store.tables import apps
from conftest import DEV_TOKEN, Server, make_server
from eventhandler import event_handler
from eventrows import deliveries

#: Sender logic with timeouts: what the store holds does not change it, so SQLite only.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

DEV = {"Authorization": f"Bearer {DEV_TOKEN}"}
APP_AUTH_KEYS = [
    "access_token",
    "expires_in",
    "scope",
    "domain",
    "server_endpoint",
    "status",
    "client_endpoint",
    "member_id",
    "application_token",
]


@pytest.fixture
def handler():
    with event_handler() as running:
        yield running


def new_app(server, scopes=("user",)):
    made, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Hears", scopes=list(scopes),
        redirect_uri="https://app.example/cb",
    )  # fmt: skip
    return made


def bind(server, url: str, *, event="ONUSERADD", app_id=None, hook_id=None, auth_type=0):
    async def go():
        async with server.store.transaction(write=True) as conn:
            return await event_store.add_handler(
                conn, 1, event=event, handler=url, now=server.clock.now(), user_id=1,
                app_id=app_id, hook_id=hook_id, auth_type=auth_type,
            )  # fmt: skip

    return server.run(go)


def fire(server, event="ONUSERADD", data=None, *, actor=1, abort=False):
    """Raise an event as a change would, in a transaction that commits (or not)."""

    class Aborted(Exception):
        pass

    async def go():
        try:
            async with server.store.transaction(write=True) as conn:
                await raise_event(
                    conn, 1, event, data if data is not None else {"FIELDS": {"ID": "7"}},
                    now=server.clock.now(), actor_id=actor,
                )  # fmt: skip
                if abort:
                    raise Aborted
        except Aborted:
            pass

    server.run(go)


def lifecycle(server, app, url: str, event="ONAPPINSTALL", data=None):
    """A lifecycle row as the install code writes it: the app's own handler, no
    subscription."""

    async def go():
        async with server.store.transaction(write=True) as conn:
            return await event_store.enqueue(
                conn, 1, event=event, handler_url=url,
                data=data or {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y",
                              "LANGUAGE_ID": "en"},
                now=server.clock.now(), app_id=app.id, auth_user_id=1,
            )  # fmt: skip

    return server.run(go)


def wait(server, event="ONUSERADD", after=0, timeout=10):
    answer = server.http.get(
        "/_b24local/events/deliveries/wait",
        params={"event": event, "after": after, "timeout": timeout},
        headers=DEV,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["delivery"]


def run_now(server, everything=False) -> int:
    answer = server.http.post("/_b24local/events/run", json={"all": everything}, headers=DEV)
    assert answer.status_code == 200, answer.text
    return answer.json()["attempted"]


def listed(server, **filters):
    answer = server.http.get("/_b24local/events/deliveries", params=filters, headers=DEV)
    assert answer.status_code == 200, answer.text
    return answer.json()["deliveries"]


def app_token(server, app_id: int) -> str:
    async def go():
        async with server.store.transaction() as conn:
            found = await conn.execute(select(apps.c.application_token).where(apps.c.id == app_id))
            return found.scalar_one()

    return server.run(go)


# --- what the handler receives ---------------------------------------------------------------


def test_an_application_handler_receives_the_form_the_pages_show(server, handler):
    app = new_app(server)
    bound = bind(server, handler.url(), app_id=app.id)
    fire(server, data={"FIELDS": {"ID": "7"}, "LIST": [1, 2], "FLAG": True})
    row = wait(server)
    assert row["state"] == "delivered" and row["attempts"] == 1 and row["last_status"] == 200

    (got,) = handler.wait_for(1)
    assert handler.received[0].content_type == "application/x-www-form-urlencoded"
    assert list(got) == ["event", "event_handler_id", "data", "ts", "auth"]
    assert got["event"] == "ONUSERADD"
    assert got["event_handler_id"] == str(bound.id)
    assert got["data"] == {"FIELDS": {"ID": "7"}, "LIST": ["1", "2"], "FLAG": "1"}
    assert got["ts"] == str(int(server.clock.now().timestamp()))
    auth = got["auth"]
    assert list(auth) == APP_AUTH_KEYS
    portal = server.run(admin.list_portals, server.store)[0]
    assert auth["expires_in"] == "3600"
    assert auth["scope"] == "user"
    assert auth["domain"] == "127.0.0.1:8024"
    assert auth["server_endpoint"] == "http://127.0.0.1:8024/oauth/rest/"
    assert auth["client_endpoint"] == "http://127.0.0.1:8024/rest/"
    assert auth["status"] == "L"
    assert auth["member_id"] == portal.member_id
    assert auth["application_token"] == app_token(server, app.id)
    # The dev API shows the decoded form it sent, its live token blanked.
    assert row["payload"] == {**got, "auth": {**auth, "access_token": "***"}}

    # The token is the acting user's, for the app's scopes.
    current = server.http.post("/rest/user.current", json={"auth": auth["access_token"]})
    assert current.status_code == 200, current.text
    assert current.json()["result"]["ID"] == "1"


def test_auth_type_names_whose_token_is_sent(server, handler):
    other = server.add_user("Ann", "Lee")
    app = new_app(server)
    bind(server, handler.url(), app_id=app.id, auth_type=other)
    fire(server, actor=1)
    wait(server)
    token = handler.on("/hook")[0]["auth"]["access_token"]
    current = server.http.post("/rest/user.current", json={"auth": token})
    assert current.json()["result"]["ID"] == str(other)


def test_no_token_when_no_user_made_the_change(server, handler):
    app = new_app(server)
    bind(server, handler.url(), app_id=app.id)
    fire(server, actor=None)
    wait(server)
    auth = handler.on("/hook")[0]["auth"]
    assert list(auth) == [
        "domain", "server_endpoint", "client_endpoint", "member_id", "application_token",
    ]  # fmt: skip


def test_install_carries_a_refresh_token_and_no_handler_id(server, handler):
    app = new_app(server)
    lifecycle(server, app, handler.url("/install"))
    wait(server, "ONAPPINSTALL")
    (got,) = handler.on("/install")
    assert "event_handler_id" not in got
    assert got["data"]["INSTALLED"] == "Y"
    assert list(got["auth"]) == [*APP_AUTH_KEYS[:3], "refresh_token", *APP_AUTH_KEYS[3:]]
    assert got["auth"]["refresh_token"] != got["auth"]["access_token"]


def test_an_outgoing_webhook_gets_only_the_portal_and_its_token(server, handler):
    hook = server.run(
        admin.add_outgoing_webhook, server.store, server.clock.now(),
        handler=handler.url(), event_names=["onUserAdd"],
    )  # fmt: skip
    fire(server)
    wait(server)
    (got,) = handler.on("/hook")
    assert got["event"] == "ONUSERADD"
    assert got["event_handler_id"].isdigit()
    assert got["auth"] == {
        "domain": "127.0.0.1:8024",
        "client_endpoint": "http://127.0.0.1:8024/rest/",
        "server_endpoint": "http://127.0.0.1:8024/oauth/rest/",
        "member_id": server.run(admin.list_portals, server.store)[0].member_id,
        "application_token": hook.application_token,
    }
    assert list(got["auth"])[:3] == ["domain", "client_endpoint", "server_endpoint"]


def test_an_outgoing_webhook_cannot_hear_application_events(server, handler):
    with pytest.raises(admin.AdminError, match="ONAPPINSTALL"):
        server.run(
            admin.add_outgoing_webhook, server.store, server.clock.now(),
            handler=handler.url(), event_names=["ONAPPINSTALL"],
        )  # fmt: skip


def test_a_rolled_back_change_sends_nothing(server, handler):
    app = new_app(server)
    bind(server, handler.url(), app_id=app.id)
    fire(server, abort=True)
    assert run_now(server, everything=True) == 0
    assert handler.received == [] and deliveries(server) == []


# --- retries, backoff and pace ---------------------------------------------------------------


@sqlite_only
def test_a_failing_handler_is_retried_with_backoff_then_given_up(server, handler):
    handler.status["/hook"] = 500
    app = new_app(server)
    bind(server, handler.url(), app_id=app.id)
    fire(server)
    first = wait(server)
    assert first["state"] == "pending" and first["attempts"] == 1
    assert first["last_status"] == 500 and "HTTP 500" in first["last_error"]
    assert first["last_answer"] == "ok"

    # Not due before its backoff: 10 s, then 20, 40, 80.
    for attempts, pause in ((1, 10), (2, 20), (3, 40), (4, 80)):
        server.clock.advance(pause - 1)
        assert run_now(server) == 0
        server.clock.advance(1)
        run_now(server)
        assert len(handler.on("/hook")) == attempts + 1
    (row,) = listed(server)
    assert row["state"] == "failed" and row["attempts"] == 5
    server.clock.advance(3600)
    assert run_now(server, everything=True) == 0


@sqlite_only
def test_a_handler_that_recovers_gets_the_retry(server, handler):
    handler.status["/hook"] = 503
    app = new_app(server)
    bind(server, handler.url(), app_id=app.id)
    fire(server)
    wait(server)
    handler.status["/hook"] = 200
    server.clock.advance(10)
    run_now(server)
    (row,) = listed(server, state="delivered")
    assert row["attempts"] == 2 and row["last_error"] is None
    assert row["delivered_at"] == server.clock.now().isoformat()


@sqlite_only
def test_a_slow_handler_neither_blocks_another_nor_the_api(db_url, clock, tmp_path, handler):
    http, server = make_server(db_url, clock, tmp_path, event_timeout=1.0)
    handler.delay["/slow"] = 3
    with http:
        app = new_app(server)
        bind(server, handler.url("/fast"), app_id=app.id)
        bind(server, handler.url("/slow"), app_id=app.id)
        began = time.monotonic()
        fire(server)
        fast = wait(server, timeout=2)
        handler.wait_for(1, "/slow", timeout=2)
        # The API answers while the slow handler holds its delivery.
        assert server.call("user.current").status_code == 200
        assert time.monotonic() - began < 1.0
        assert fast["handler_url"] == handler.url("/fast") and fast["state"] == "delivered"
        # The slow one is given up on after the timeout, and will be retried.
        slow = wait(server, after=fast["id"], timeout=5)
        assert slow["handler_url"] == handler.url("/slow")
        assert slow["state"] == "pending" and "no answer in time" in slow["last_error"]


@sqlite_only
def test_a_slow_handler_is_called_less_often(db_url, clock, tmp_path, handler):
    http, server = make_server(db_url, clock, tmp_path, event_timeout=0.5)
    handler.delay["/slow"] = 1
    with http:
        app = new_app(server)
        bind(server, handler.url("/slow"), app_id=app.id)
        fire(server)
        wait(server)
        sender = server.http.app.state.runtime.sender
        paused = sender.paused_until(handler.url("/slow"))
        assert paused == clock.now() + timedelta(seconds=5)
        handler.delay["/slow"] = 0
        fire(server)  # due now, but its handler is paused
        assert run_now(server) == 0
        clock.advance(5)
        run_now(server)
        # The new event only: the timed-out one's retry is due at +10 s.
        assert len(handler.on("/slow")) == 2
        assert sender.paused_until(handler.url("/slow")) is None


@sqlite_only
def test_private_handlers_can_be_forbidden(db_url, clock, tmp_path, handler):
    http, server = make_server(db_url, clock, tmp_path, forbid_private_handlers=True)
    with http:
        app = new_app(server)
        bind(server, handler.url(), app_id=app.id)
        fire(server)
        row = wait(server)
        assert row["state"] == "failed"
        assert "private or local address" in row["last_error"]
        assert handler.received == []


# --- durability -------------------------------------------------------------------------------


def restarted(db_url, clock, tmp_path):
    """Another server on the same database, as after a restart."""
    app = create_app(Settings(data_dir=tmp_path, db=db_url, dev=True, limits=False),
                     clock=clock, dev_token=DEV_TOKEN)  # fmt: skip
    http = TestClient(app, base_url="http://127.0.0.1:8024", raise_server_exceptions=False)
    return http, Server(http, clock, "", 1)


def test_deliveries_survive_a_restart(db_url, clock, tmp_path, handler):
    http, server = make_server(db_url, clock, tmp_path)
    with http:
        app = new_app(server)
        bind(server, handler.url(), app_id=app.id)

        # A row taken for sending by a process that then died: its claim runs out.
        async def claimed_and_lost():
            async with server.store.transaction(write=True) as conn:
                await raise_event(conn, 1, "ONUSERADD", {"ID": "1"}, now=clock.now(), actor_id=1)
                (row,) = await outbox.due(conn, clock.now(), limit=5)
                assert await outbox.claim(conn, row, until=clock.now() + timedelta(seconds=65))

        server.run(claimed_and_lost)
        assert run_now(server) == 0
    http, server = restarted(db_url, clock, tmp_path)
    with http:
        assert run_now(server) == 0
        assert handler.received == []
        clock.advance(65)
        run_now(server)
        (got,) = handler.on("/hook")
        assert got["data"] == {"ID": "1"}
        (row,) = listed(server)
        assert row["state"] == "delivered" and row["attempts"] == 2


def test_rows_written_while_no_server_runs_are_sent_on_start(db_url, clock, tmp_path, handler):
    http, _server = make_server(db_url, clock, tmp_path)

    async def offline_change():
        store = await admin.open_store(db_url)
        try:
            made, _ = await admin.add_app(
                store, clock.now(), name="Hears", scopes=["user"], redirect_uri="https://a.example/"
            )
            async with store.transaction(write=True) as conn:
                await event_store.add_handler(
                    conn, 1, event="ONUSERADD", handler=handler.url(), now=clock.now(),
                    user_id=1, app_id=made.id,
                )  # fmt: skip
                await raise_event(conn, 1, "ONUSERADD", {"ID": "5"}, now=clock.now(), actor_id=1)
        finally:
            await store.close()

    asyncio.run(offline_change())
    with http:
        (got,) = handler.wait_for(1)
        assert got["data"] == {"ID": "5"}


# --- the dev surface --------------------------------------------------------------------------


def test_the_dev_api_needs_its_token_and_checks_its_input(server):
    assert server.http.get("/_b24local/events/deliveries").status_code == 401
    assert server.http.post("/_b24local/events/run").status_code == 401
    bad = server.http.get("/_b24local/events/deliveries", params={"state": "x"}, headers=DEV)
    assert bad.status_code == 400 and bad.json()["error"] == "ERROR_ARGUMENT"
    for params in ({"after": "-1"}, {"after": "1e300"}, {"timeout": "nan"}, {"timeout": "99"}):
        answer = server.http.get("/_b24local/events/deliveries/wait", params=params, headers=DEV)
        assert answer.status_code == 400, params
    for body in (b"[1]", b'{"all": "yes"}', b"{"):
        answer = server.http.post("/_b24local/events/run", content=body, headers=DEV)
        assert answer.status_code == 400, body
    late = server.http.get(
        "/_b24local/events/deliveries/wait", params={"timeout": 0.2}, headers=DEV
    )
    assert late.status_code == 408 and late.json()["error"] == "TIMEOUT"


def test_the_dev_api_lists_by_event_and_state(server, handler):
    handler.status["/bad"] = 500
    app = new_app(server)
    bind(server, handler.url(), app_id=app.id)
    bind(server, handler.url("/bad"), event="ONAPPTEST", app_id=app.id)
    fire(server)
    fire(server, "ONAPPTEST", {"QUERY": {"any": "data"}})
    first = wait(server)
    wait(server, "ONAPPTEST")
    assert [r["event"] for r in listed(server, event="onapptest")] == ["ONAPPTEST"]
    assert [r["event"] for r in listed(server, state="delivered")] == ["ONUSERADD"]
    assert listed(server, after=first["id"], event="ONUSERADD") == []
    assert listed(server, state="pending")[0]["handler_url"] == handler.url("/bad")


# --- the application lifecycle, end to end ----------------------------------------------------


def test_install_and_uninstall_reach_the_app_handler_with_one_token(server, handler):
    made, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="CRest", scopes=["user"],
        redirect_uri="https://app.example/cb", handler=handler.url("/install"),
    )  # fmt: skip
    installed = wait(server, "ONAPPINSTALL")
    assert installed["state"] == "delivered"
    (install,) = handler.on("/install")
    assert install["event"] == "ONAPPINSTALL" and "event_handler_id" not in install
    assert "refresh_token" in install["auth"] and install["auth"]["status"] == "L"

    server.run(admin.remove_app, server.store, made.client_id, now=server.clock.now(), clean=True)
    removed = wait(server, "ONAPPUNINSTALL")
    assert removed["state"] == "delivered", removed
    uninstall = handler.on("/install")[1]
    assert uninstall["data"] == {"LANGUAGE_ID": "en", "CLEAN": "1"}
    # No tokens for an app that is gone; the token it got at install proves the sender.
    assert list(uninstall["auth"]) == [
        "domain", "server_endpoint", "client_endpoint", "member_id", "application_token",
    ]  # fmt: skip
    assert uninstall["auth"]["application_token"] == install["auth"]["application_token"]


@sqlite_only
def test_an_attempt_in_flight_across_a_restore_leaves_the_restored_rows_alone(
    db_url, clock, tmp_path, handler
):
    """A restore puts back rows whose IDs an attempt still in flight may share: the
    attempt ends without touching them, and the new row is sent itself."""
    http, server = make_server(db_url, clock, tmp_path, event_timeout=5.0)
    # Long enough for the restore and the new row, short of a "slow" handler (2 s).
    handler.delay["/hook"] = 1.5
    with http:
        app = new_app(server)
        bind(server, handler.url(), app_id=app.id)
        assert server.http.put("/_b24local/snapshots/bound", headers=DEV).status_code == 200
        fire(server, data={"FIELDS": {"ID": "7"}})
        handler.wait_for(1)  # its attempt is in flight
        (before,) = listed(server)
        restored = server.http.post("/_b24local/snapshots/bound/restore", headers=DEV)
        assert restored.status_code == 200
        handler.delay["/hook"] = 0
        fire(server, data={"FIELDS": {"ID": "8"}})
        (after,) = listed(server)
        assert after["id"] == before["id"] and after["state"] == "pending"
        # Not marked delivered by the attempt that began before the restore: sent.
        forms = handler.wait_for(2)
        assert forms[1]["data"]["FIELDS"]["ID"] == "8"
        delivered = wait(server)
        assert delivered["state"] == "delivered" and delivered["attempts"] == 1
        assert delivered["payload"]["data"]["FIELDS"]["ID"] == "8"
