"""The administration pages for applications and, under ``--dev``, the call journal
and the event deliveries: what they list is what the CLI and the dev API list (the
same functions), only administrators get in, the dev pages exist only under
``--dev``, secrets stay hidden, and hostile queries are a 400 page, never a 500."""

from __future__ import annotations

import re

import pytest

from b24local import admin
from loginform import token_in

PASSWORD = "admin password"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def log_in(server, user: int) -> None:
    server.run(admin.set_password, server.store, user, PASSWORD)
    server.http.cookies.clear()
    page = server.http.get("/login")
    answer = server.http.post(
        "/login",
        data={"login": str(user), "password": PASSWORD, "csrf_token": token_in(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


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
    assert listed.status_code == 200, listed.text[:3000]
    assert sorted(rows(listed.text, "data-app")) == sorted([kept, gone])
    assert "Kept &lt;app&gt;" in listed.text  # names are escaped
    assert "https://hooks.example.com/kept" in listed.text
    assert "https://example.com/back" in listed.text and "Emily Smith" in listed.text
    assert "timeman, user" in listed.text and "version 1" in listed.text
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
