"""The administration pages for applications and, under ``--dev``, the call journal
and the event deliveries: what they list is what the CLI and the dev API list (the
same functions), only administrators get in, the dev pages exist only under
``--dev``, secrets stay hidden, and hostile queries are a 400 page, never a 500."""

from __future__ import annotations

import html
import re

import pytest

from adminforms import log_in
from b24local import admin
from conftest import DEV_TOKEN
from eventhandler import event_handler
from loginform import token_in

DEV = {"Authorization": f"Bearer {DEV_TOKEN}"}
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def install(server, name: str = "Time sheets", **options) -> str:
    app, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name=name, scopes=["timeman", "user"],
        **options,
    )  # fmt: skip
    return app.client_id


def token_for(server, client_id: str, user: int) -> str:
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=client_id,
        user_id=user,
    )  # fmt: skip
    return pair.access_token


def rows(text: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]*)"', text)


# --- applications -----------------------------------------------------------------------------


def test_the_apps_page_lists_what_the_cli_lists_and_removes_an_app(server):
    emily = server.add_user("Emily", "Smith", email="emily@example.com")
    kept = install(server, "Kept <app>", handler="https://hooks.example.com/kept")
    gone = install(server, "Leaving", redirect_uri="https://example.com/back",
                   allowed_users=[emily])  # fmt: skip
    token = token_for(server, gone, emily)
    assert server.http.post("/rest/user.current", json={"auth": token}).status_code == 200

    log_in(server, server.admin_id)
    listed = server.http.get("/admin/apps")
    assert listed.status_code == 200
    assert sorted(rows(listed.text, "data-app")) == sorted([kept, gone])
    assert "Kept &lt;app&gt;" in listed.text  # names are escaped
    assert "https://hooks.example.com/kept" in listed.text
    assert "https://example.com/back" in listed.text and "Emily Smith" in listed.text
    assert "timeman, user" in listed.text and "· version 1" in listed.text
    assert 'href="/admin/apps" aria-current="page"' in listed.text
    secret_free = server.run(admin.list_apps, server.store)
    assert all(app.application_token is None or app.application_token not in listed.text
               for app in secret_free)  # fmt: skip

    removed = server.http.post(
        f"/admin/apps/{gone}/delete", data={"csrf_token": token_in(listed.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert removed.status_code == 303 and removed.headers["location"] == "/admin/apps?done=removed"
    after = server.http.get("/admin/apps?done=removed")
    assert rows(after.text, "data-app") == [kept]
    assert 'role="status"' in after.text
    assert [app.client_id for app in server.run(admin.list_apps, server.store)] == [kept]
    # Its token is refused over REST from now on.
    refused = server.http.post("/rest/user.current", json={"auth": token})
    assert refused.status_code == 401, refused.text

    # Removing it again, or an ID that is no client ID, finds nothing.
    token = token_in(after.text)
    again = server.http.post(f"/admin/apps/{gone}/delete", data={"csrf_token": token})
    assert again.status_code == 404
    for hostile in ("x" * 65, "a%20b", "%00", "..%2Fadmin"):
        answer = server.http.post(f"/admin/apps/{hostile}/delete", data={"csrf_token": token})
        assert answer.status_code == 404, hostile


def test_removing_an_app_needs_the_csrf_token_and_a_same_site_post(server):
    client_id = install(server)
    log_in(server, server.admin_id)
    token = token_in(server.http.get("/admin/apps").text)
    path = f"/admin/apps/{client_id}/delete"
    assert server.http.post(path, data={}).status_code == 403
    assert server.http.post(path, data={"csrf_token": "forged"}).status_code == 403
    cross = server.http.post(
        path, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert len(server.run(admin.list_apps, server.store)) == 1


def test_only_administrators_see_or_remove_apps(server):
    client_id = install(server)
    emily = server.add_user("Emily", "Smith", email="emily@example.com")
    log_in(server, emily)
    assert server.http.get("/admin/apps").status_code == 403
    token = token_in(server.http.get("/day").text)
    answer = server.http.post(f"/admin/apps/{client_id}/delete", data={"csrf_token": token})
    assert answer.status_code == 403
    assert len(server.run(admin.list_apps, server.store)) == 1
    server.http.cookies.clear()
    stranger = server.http.get("/admin/apps", follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/login"


# --- the call journal and the event deliveries (--dev) ----------------------------------------


def test_the_calls_page_shows_the_journal_newest_first_with_secrets_blanked(server):
    assert server.call("user.current").status_code == 200
    assert server.call("no.such.method").status_code == 404
    batch = server.call("batch", {"cmd": {"me": "user.current", "who": "user.get?auth=hush123"}})
    assert batch.status_code == 200
    server.call("user.get", {"password": "letmein42", "ID": 1})
    journal = server.http.get("/_b24local/calls", headers=DEV).json()["calls"]

    log_in(server, server.admin_id)
    listed = server.http.get("/admin/calls")
    assert listed.status_code == 200
    shown = [int(i) for i in rows(listed.text, "data-call")]
    assert shown == [call["id"] for call in reversed(journal)]  # the same calls, newest first
    assert 'href="/admin/calls" aria-current="page"' in listed.text
    text = html.unescape(listed.text)
    code = server.webhook.split("/")[3]
    for secret in ("hush123", "letmein42", code):
        assert secret not in text
    assert '"auth": "***"' in text and '"password": "***"' in text
    # The batch's commands are nested in its row.
    assert rows(listed.text, "data-command") == ["me", "who"]
    assert "ERROR_METHOD_NOT_FOUND" in listed.text

    def ids(query: str) -> list[int]:
        answer = server.http.get(f"/admin/calls?{query}")
        assert answer.status_code == 200, query
        return [int(i) for i in rows(answer.text, "data-call")]

    def api(query: dict) -> list[int]:
        found = server.http.get("/_b24local/calls", headers=DEV, params=query).json()["calls"]
        return [call["id"] for call in reversed(found)]

    for query in ({"method": "batch"}, {"method": "user.*"}, {"error": "any"},
                  {"caller": "webhook:1"}, {"caller": "user:99"}):  # fmt: skip
        assert ids("&".join(f"{k}={v}" for k, v in query.items())) == api(query), query
    assert ids("method=user.get") == [shown[0], shown[1]]  # also a batch's command
    assert ids(f"before={shown[1]}") == shown[2:]


def test_the_deliveries_page_lists_the_outbox_with_tokens_blanked(server):
    with event_handler() as handler:
        install(server, "Hooked", handler=handler.url("/install"))
        install(server, "Other", handler=handler.url("/other"))
        run = server.http.post("/_b24local/events/run", json={"all": True}, headers=DEV)
        assert run.status_code == 200 and run.json()["attempted"] == 2
    outbox = server.http.get("/_b24local/events/deliveries", headers=DEV).json()["deliveries"]
    assert [row["event"] for row in outbox] == ["ONAPPINSTALL", "ONAPPINSTALL"]
    tokens = [v for row in outbox for v in row["payload"]["auth"].values() if len(str(v)) >= 16]
    assert len(tokens) >= 2  # what was posted carries the application's tokens

    log_in(server, server.admin_id)
    listed = server.http.get("/admin/deliveries")
    assert listed.status_code == 200
    assert [int(i) for i in rows(listed.text, "data-delivery")] == [
        row["id"] for row in reversed(outbox)
    ]
    assert handler.url("/install") in listed.text and "Delivered" in listed.text
    text = html.unescape(listed.text)
    assert '"auth": "***"' in text and '"event": "ONAPPINSTALL"' in text
    for token in tokens:
        assert str(token) not in text
    assert "ONAPPINSTALL" in server.http.get("/admin/deliveries?event=onappinstall").text
    assert rows(server.http.get("/admin/deliveries?event=ONUSERADD").text, "data-delivery") == []
    assert rows(server.http.get("/admin/deliveries?state=failed").text, "data-delivery") == []
    older = server.http.get(f"/admin/deliveries?before={outbox[1]['id']}")
    assert [int(i) for i in rows(older.text, "data-delivery")] == [outbox[0]["id"]]


@pytest.mark.parametrize("path", ["/admin/calls", "/admin/deliveries"])
def test_the_dev_pages_are_for_administrators(server, path):
    emily = server.add_user("Emily", "Smith", email="emily@example.com")
    log_in(server, emily)
    assert server.http.get(path).status_code == 403
    server.http.cookies.clear()
    assert server.http.get(path, follow_redirects=False).status_code == 303


def test_without_dev_the_pages_do_not_exist(server_with):
    with server_with(dev=False) as server:
        log_in(server, server.admin_id)
        for path in ("/admin/calls", "/admin/deliveries", "/admin/calls?method=x"):
            assert server.http.get(path).status_code == 404, path
        apps = server.http.get("/admin/apps")
        assert apps.status_code == 200  # not a --dev page
        assert "/admin/calls" not in apps.text and "/admin/deliveries" not in apps.text


@pytest.mark.parametrize(
    "query",
    [
        "method=" + "x" * 201,
        "caller=a&caller=b",
        "error=%00",
        "since=yesterday",
        "before=abc",
        "before=0",
        "before=99999999999999",
        "before=%EF%BC%91",  # a full-width 1
        "state=lost",
        "&".join(f"p{i}=1" for i in range(11)),
    ],
)
def test_hostile_queries_are_a_400_page(server, query):
    log_in(server, server.admin_id)
    for path in ("/admin/calls", "/admin/deliveries"):
        answer = server.http.get(f"{path}?{query}")
        if query == "state=lost" and path == "/admin/calls":
            assert answer.status_code == 200  # not one of the journal's filters
            continue
        if query == "since=yesterday" and path == "/admin/deliveries":
            assert answer.status_code == 200
            continue
        assert answer.status_code == 400, (path, query)
        assert "The address asks for more than this page has" in answer.text
