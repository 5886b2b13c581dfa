"""OAuth through HTTP: the log-in page, codes, token pairs, refresh, and calls
with ``auth``; the clock is moved, never slept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient

from b24local import admin
from b24local.app import create_app
from b24local.config import Settings
from loginform import form_token, post_login, token_in

REDIRECT = "https://app.example/callback?from=b24"
PASSWORD = "correct horse battery staple"


@dataclass
class Installed:
    client_id: str
    secret: str
    app_id: int


def install(server) -> Installed:
    """The app "Time Sync" and the administrator's password."""
    installed, secret = server.run(
        admin.add_app,
        server.store,
        server.clock.now(),
        name="Time Sync",
        scopes=["im", "timeman"],
        redirect_uri=REDIRECT,
    )
    server.run(admin.set_password, server.store, server.admin_id, PASSWORD)
    return Installed(installed.client_id, secret, installed.id)


@pytest.fixture
def app(server) -> Installed:
    return install(server)


def authorize(
    server, app: Installed, *, login="1", password=PASSWORD, state="s-42", headers=None, **query
):
    params = {"client_id": app.client_id, "state": state, **query}
    return post_login(server.http, params, login, password, headers)


def code_from(response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    assert response.headers["cache-control"] == "no-store"
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT.split("?")[0]
    query = parse_qs(location.query)
    assert all(len(values) == 1 for values in query.values()), query
    return {key: values[0] for key, values in query.items()}


def token(server, app: Installed, **params):
    return server.http.get(
        "/oauth/token/",
        params={"client_id": app.client_id, "client_secret": app.secret, **params},
    )


def exchange(server, app: Installed, code: str):
    return token(server, app, grant_type="authorization_code", code=code)


def refresh(server, app: Installed, refresh_token: str):
    return token(server, app, grant_type="refresh_token", refresh_token=refresh_token)


def tokens(server, app: Installed) -> dict:
    answer = exchange(server, app, code_from(authorize(server, app))["code"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def call(server, method: str, access_token: str, **params):
    return server.http.post(f"/rest/{method}", json={"auth": access_token, **params})


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


# --- the full flow ---------------------------------------------------------------------


def test_authorize_code_token_call_expire_refresh_call(server, app):
    # The log-in page first.
    page = server.http.get("/oauth/authorize/", params={"client_id": app.client_id})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Time Sync" in page.text and 'name="password"' in page.text

    redirect = code_from(authorize(server, app))
    portal = server.run(admin.list_portals, server.store)[0]
    assert redirect["state"] == "s-42"
    assert redirect["from"] == "b24"  # the redirect URI's own query survives
    assert redirect["domain"] == "127.0.0.1:8024"
    assert redirect["member_id"] == portal.member_id
    assert redirect["scope"] == "im,timeman"
    assert redirect["server_domain"] == "127.0.0.1:8024"

    answer = exchange(server, app, redirect["code"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    pair = answer.json()
    assert set(pair) == {
        "access_token",
        "expires",
        "expires_in",
        "scope",
        "domain",
        "server_endpoint",
        "status",
        "client_endpoint",
        "member_id",
        "user_id",
        "refresh_token",
    }
    now = int(server.clock.now().timestamp())
    assert pair["expires_in"] == 3600
    assert pair["expires"] == now + 3600
    assert pair["scope"] == "im,timeman"
    assert pair["status"] == "L"
    assert pair["client_endpoint"] == "http://127.0.0.1:8024/rest/"
    assert pair["server_endpoint"] == "http://127.0.0.1:8024/oauth/rest/"
    assert pair["member_id"] == portal.member_id
    assert pair["user_id"] == 1
    assert pair["access_token"] != pair["refresh_token"]

    status = call(server, "im.user.status.get", pair["access_token"])
    assert status.status_code == 200, status.text
    assert status.json()["result"] == "online"

    # One second before the hour is up the token still works; at the hour it does not.
    server.clock.advance(3599)
    assert call(server, "timeman.status", pair["access_token"]).status_code == 200
    server.clock.advance(1)
    expired = call(server, "timeman.status", pair["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "expired_token",
        "error_description": "The access token provided has expired",
    }

    renewed = refresh(server, app, pair["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()
    assert fresh["access_token"] != pair["access_token"]
    assert fresh["refresh_token"] != pair["refresh_token"]
    assert fresh["expires"] == int(server.clock.now().timestamp()) + 3600
    assert call(server, "timeman.status", fresh["access_token"]).json()["result"]["STATUS"] == (
        "CLOSED"
    )
    # The old access token stays expired.
    assert error_of(call(server, "timeman.status", pair["access_token"])) == (
        401,
        "expired_token",
    )


def test_a_logged_in_user_is_not_asked_again(server, app):
    first = authorize(server, app)
    assert first.status_code == 302
    assert "B24LOCAL_SESSION" in first.cookies or "B24LOCAL_SESSION" in server.http.cookies
    again = server.http.get(
        "/oauth/authorize/",
        params={"client_id": app.client_id, "state": "second"},
        follow_redirects=False,
    )
    query = code_from(again)
    assert query["state"] == "second"
    assert exchange(server, app, query["code"]).status_code == 200


def session_of(response) -> str:
    cookie = response.cookies.get("B24LOCAL_SESSION")
    assert cookie, response.headers
    return cookie


def test_a_posted_login_wins_over_the_session(server, app):
    """Logged in as user 1, the browser posts user 2's credentials: user 2's code, a
    new session for user 2, and user 1's session is over."""
    first = authorize(server, app)
    assert exchange(server, app, code_from(first)["code"]).json()["user_id"] == 1
    old_session = session_of(first)
    olga = server.add_user("Olga", "Berg")
    server.run(admin.set_password, server.store, olga, "olga's pw")

    second = authorize(server, app, login=str(olga), password="olga's pw")
    assert exchange(server, app, code_from(second)["code"]).json()["user_id"] == olga
    new_session = session_of(second)
    assert new_session != old_session

    server.http.cookies.clear()
    for cookie, expected in ((new_session, olga), (old_session, None)):
        again = server.http.get(
            "/oauth/authorize/",
            params={"client_id": app.client_id},
            headers={"Cookie": f"B24LOCAL_SESSION={cookie}"},
            follow_redirects=False,
        )
        if expected is None:
            assert again.status_code == 200
            assert 'name="password"' in again.text
        else:
            assert exchange(server, app, code_from(again)["code"]).json()["user_id"] == expected


def test_a_wrong_password_is_refused_even_when_logged_in(server, app):
    logged_in = authorize(server, app)
    assert logged_in.status_code == 302
    olga = server.add_user("Olga", "Berg")
    server.run(admin.set_password, server.store, olga, "olga's pw")
    for login, password in (("1", "wrong"), (str(olga), PASSWORD), ("nobody@x.y", PASSWORD)):
        refused = authorize(server, app, login=login, password=password)
        assert refused.status_code == 401, (login, refused.text)
        assert "Wrong login or password" in refused.text
        assert "location" not in refused.headers
        assert "set-cookie" not in refused.headers
    # A failed attempt logs no one out: the session still stands for user 1.
    again = server.http.get(
        "/oauth/authorize/", params={"client_id": app.client_id}, follow_redirects=False
    )
    assert exchange(server, app, code_from(again)["code"]).json()["user_id"] == 1


def test_state_goes_back_only_if_the_app_sent_one(server, app):
    def redirected(params: dict) -> list[tuple[str, str]]:
        answer = server.http.post(
            "/oauth/authorize/",
            params={"client_id": app.client_id, **params},
            data={
                "login": "1",
                "password": PASSWORD,
                "csrf_token": form_token(server.http, {"client_id": app.client_id}),
            },
            follow_redirects=False,
        )
        assert answer.status_code == 302, answer.text
        return parse_qsl(urlsplit(answer.headers["location"]).query, keep_blank_values=True)

    without = redirected({})
    assert "state" not in dict(without)
    assert [key for key, _ in without] == [
        "from",
        "code",
        "domain",
        "member_id",
        "scope",
        "server_domain",
    ]
    assert dict(redirected({"state": ""}))["state"] == ""
    assert dict(redirected({"state": "a b&c"}))["state"] == "a b&c"


def test_token_endpoint_answers_are_never_cached(server, app):
    pair = tokens(server, app)
    answers = [
        refresh(server, app, pair["refresh_token"]),
        refresh(server, app, pair["refresh_token"]),  # spent by now
        server.http.post("/oauth/token/", data={"grant_type": "password"}),
    ]
    assert [answer.status_code for answer in answers] == [200, 400, 400]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["pragma"] == "no-cache"


def test_login_by_email_any_case(server, app):
    user_id = server.add_user("Olga", "Berg", email="Olga.Berg@example.com")
    server.run(admin.set_password, server.store, user_id, "s3cret")
    answer = authorize(server, app, login="OLGA.berg@EXAMPLE.com", password="s3cret")
    pair = exchange(server, app, code_from(answer)["code"]).json()
    assert pair["user_id"] == user_id
    me = call(server, "im.user.get", pair["access_token"]).json()["result"]
    assert (me["id"], me["name"]) == (user_id, "Olga Berg")


def test_wrong_password_shows_the_form_again_and_issues_nothing(server, app):
    for login, password in (("1", "wrong"), ("99", PASSWORD), ("nobody@x.y", PASSWORD), ("", "")):
        answer = authorize(server, app, login=login, password=password)
        assert answer.status_code == 401, (login, answer.text)
        assert "Wrong login or password" in answer.text
        assert "location" not in answer.headers
    # A user without a password cannot log in at all.
    user_id = server.add_user()
    assert authorize(server, app, login=str(user_id), password="").status_code == 401


def test_app_without_redirect_uri_shows_the_code(server):
    installed, secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Desk", scopes=["im"]
    )
    server.run(admin.set_password, server.store, 1, PASSWORD)
    app = Installed(installed.client_id, secret, installed.id)
    page = authorize(server, app)
    assert page.status_code == 200
    code = page.text.split("<code>")[1].split("</code>")[0]
    pair = exchange(server, app, code).json()
    assert pair["scope"] == "im"


def test_app_info_and_scope_answer_for_the_app(server, app):
    pair = tokens(server, app)
    info = call(server, "app.info", pair["access_token"])
    assert info.status_code == 200
    assert info.json()["result"] == {
        "ID": app.app_id,
        "CODE": app.client_id,
        "VERSION": 1,
        "STATUS": "L",
        "INSTALLED": True,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "en",
        "LICENSE": "en_professional",
        "LICENSE_TYPE": "professional",
        "LICENSE_FAMILY": "pro",
    }
    assert call(server, "scope", pair["access_token"]).json()["result"] == ["im", "timeman"]
    # A webhook is no application: it is told its scopes and the plan.
    hook = server.add_webhook(server.add_user(), ["timeman", "im"])
    hooked = server.call("app.info", hook=hook)
    assert hooked.status_code == 200
    assert hooked.json()["result"] == {"SCOPE": ["im", "timeman"], "LICENSE": "en_professional"}


def test_auth_in_query_string_and_form_data(server, app):
    access = tokens(server, app)["access_token"]
    by_query = server.http.get("/rest/im.user.status.get.json", params={"auth": access})
    assert by_query.json()["result"] == "online"
    by_form = server.http.post("/rest/im.user.status.set", data={"auth": access, "STATUS": "dnd"})
    assert by_form.json()["result"] is True
    assert call(server, "im.user.status.get", access).json()["result"] == "dnd"


def test_the_apps_scopes_bound_the_call(server):
    installed, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Chat only", scopes=["im"]
    )
    pair, _ = server.run(
        admin.issue_app_token,
        server.store,
        server.clock.now(),
        client_id=installed.client_id,
        user_id=1,
    )
    assert call(server, "im.user.status.get", pair.access_token).status_code == 200
    denied = call(server, "timeman.status", pair.access_token)
    assert error_of(denied) == (403, "insufficient_scope")


def test_the_user_rights_still_apply(server, app):
    """An app acts within its user's rights: an employee's token may not manage
    someone else's workday."""
    employee = server.add_user("Eve", "Worker")
    pair, _ = server.run(
        admin.issue_app_token,
        server.store,
        server.clock.now(),
        client_id=app.client_id,
        user_id=employee,
    )
    own = call(server, "timeman.status", pair.access_token)
    assert own.status_code == 200
    other = call(server, "timeman.status", pair.access_token, USER_ID=1)
    assert other.status_code == 403
    assert other.json()["error"] == "ACCESS_DENIED"


def test_an_app_restricted_to_some_users(server):
    allowed = server.add_user("Ann", "Allowed")
    other = server.add_user("Bob", "Other")
    installed, secret = server.run(
        admin.add_app,
        server.store,
        server.clock.now(),
        name="Pilot",
        scopes=["im"],
        redirect_uri=REDIRECT,
        allowed_users=[allowed],
    )
    app = Installed(installed.client_id, secret, installed.id)
    server.run(admin.set_password, server.store, other, "pw-bob")
    refused = authorize(server, app, login=str(other), password="pw-bob")
    assert refused.status_code == 403
    assert "location" not in refused.headers
    with pytest.raises(admin.AdminError, match="may not use"):
        server.run(
            admin.issue_app_token,
            server.store,
            server.clock.now(),
            client_id=app.client_id,
            user_id=other,
        )
    pair, _ = server.run(
        admin.issue_app_token,
        server.store,
        server.clock.now(),
        client_id=app.client_id,
        user_id=allowed,
    )
    assert call(server, "im.user.status.get", pair.access_token).status_code == 200


def test_user_access_error_when_the_restriction_comes_later(server, app):
    """A token issued before the app was limited to other users: user_access_error;
    opened to every user again, the same token works."""
    access = tokens(server, app)["access_token"]
    someone = server.add_user()

    server.run(admin.update_app, server.store, app.client_id, allowed_users=[someone])
    answer = call(server, "im.user.status.get", access)
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "user_access_error",
        "error_description": "The user does not have access to the application",
    }

    server.run(admin.update_app, server.store, app.client_id, all_users=True)
    assert call(server, "im.user.status.get", access).json()["result"] == "online"


def test_narrower_scopes_narrow_the_tokens_already_issued(server, app):
    pair = tokens(server, app)
    server.run(admin.update_app, server.store, app.client_id, scopes=["im"])
    assert call(server, "im.user.status.get", pair["access_token"]).status_code == 200
    assert error_of(call(server, "timeman.status", pair["access_token"])) == (
        403,
        "insufficient_scope",
    )
    assert call(server, "scope", pair["access_token"]).json()["result"] == ["im"]
    renewed = refresh(server, app, pair["refresh_token"]).json()
    assert renewed["scope"] == "im"


def test_a_new_redirect_uri_is_where_the_page_sends_the_user(server, app):
    moved = "https://moved.example/oauth"
    server.run(admin.update_app, server.store, app.client_id, redirect_uri=moved)
    answer = authorize(server, app)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(moved + "?code=")
    # The old address is no longer the app's.
    old = authorize(server, app, redirect_uri=REDIRECT)
    assert old.status_code == 400
    assert "location" not in old.headers


def app_info(server, access_token: str) -> dict:
    answer = call(server, "app.info", access_token)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def test_payment_required_once_the_paid_period_is_over(server, app):
    """The last paid day still issues tokens; from the next day, on the server's
    clock, the token endpoint answers PAYMENT_REQUIRED and spends nothing."""
    pair = tokens(server, app)
    info = app_info(server, pair["access_token"])
    assert (info["PAYMENT_EXPIRED"], info["DAYS"]) == ("N", None)  # no paid period at all
    server.run(admin.update_app, server.store, app.client_id, paid_until=date(2026, 3, 7))
    assert app_info(server, pair["access_token"])["DAYS"] == 5

    server.run(admin.update_app, server.store, app.client_id, paid_until=date(2026, 3, 2))
    server.clock.advance(15 * 3600)  # 2026-03-02 23:30 in the portal's zone (UTC)
    pair = tokens(server, app)
    info = app_info(server, pair["access_token"])
    assert (info["PAYMENT_EXPIRED"], info["DAYS"]) == ("N", 0)

    server.clock.advance(30 * 60)  # midnight: the period is over
    # A token issued before lives out its hour, and app.info says so.
    info = app_info(server, pair["access_token"])
    assert (info["PAYMENT_EXPIRED"], info["DAYS"]) == ("Y", -1)
    refused = refresh(server, app, pair["refresh_token"])
    assert refused.status_code == 401
    assert refused.json() == {"error": "PAYMENT_REQUIRED", "error_description": "Payment required"}
    # The page still hands out codes; the token endpoint will not trade them.
    code = code_from(authorize(server, app))["code"]
    assert error_of(exchange(server, app, code)) == (401, "PAYMENT_REQUIRED")
    with pytest.raises(admin.AdminError, match="payment required"):
        server.run(
            admin.issue_app_token,
            server.store,
            server.clock.now(),
            client_id=app.client_id,
            user_id=1,
        )

    # Paid: the code and the refresh token were not spent.
    server.run(admin.update_app, server.store, app.client_id, paid=True)
    assert exchange(server, app, code).status_code == 200
    renewed = refresh(server, app, pair["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    info = app_info(server, renewed.json()["access_token"])
    assert (info["PAYMENT_EXPIRED"], info["DAYS"]) == ("N", None)


def test_the_paid_period_ends_at_midnight_in_the_portals_zone(server, app):
    server.run(admin.update_portal, server.store, None, time_zone="Asia/Tokyo")
    server.run(admin.update_app, server.store, app.client_id, paid_until=date(2026, 3, 2))
    pair = tokens(server, app)  # 17:30 in Tokyo
    server.clock.advance(6.5 * 3600 - 1)  # 23:59:59 in Tokyo, 14:59:59 UTC
    kept = refresh(server, app, pair["refresh_token"])
    assert kept.status_code == 200, kept.text
    server.clock.advance(1)
    assert error_of(refresh(server, app, kept.json()["refresh_token"])) == (
        401,
        "PAYMENT_REQUIRED",
    )


def test_removing_the_app_kills_its_tokens(server, app):
    pair = tokens(server, app)
    server.run(admin.remove_app, server.store, app.client_id, now=server.clock.now())
    assert error_of(call(server, "im.user.status.get", pair["access_token"])) == (
        401,
        "NO_AUTH_FOUND",
    )
    assert error_of(refresh(server, app, pair["refresh_token"])) == (401, "invalid_client")


def test_an_inactive_user_token_is_refused(server, app):
    employee = server.add_user()
    pair, _ = server.run(
        admin.issue_app_token,
        server.store,
        server.clock.now(),
        client_id=app.client_id,
        user_id=employee,
    )
    server.run(admin.update_user, server.store, server.clock.now(), employee, active=False)
    assert error_of(call(server, "profile", pair.access_token)) == (403, "INVALID_CREDENTIALS")


# --- bad input -------------------------------------------------------------------------


def test_a_code_works_once_and_for_thirty_seconds(server, app):
    code = code_from(authorize(server, app))["code"]
    assert exchange(server, app, code).status_code == 200
    assert error_of(exchange(server, app, code)) == (400, "invalid_grant")

    late = code_from(authorize(server, app))["code"]
    server.clock.advance(30)
    assert error_of(exchange(server, app, late)) == (400, "invalid_grant")

    just_in_time = code_from(authorize(server, app))["code"]
    server.clock.advance(29)
    assert exchange(server, app, just_in_time).status_code == 200


def test_a_refresh_token_works_once(server, app):
    pair = tokens(server, app)
    assert refresh(server, app, pair["refresh_token"]).status_code == 200
    second = refresh(server, app, pair["refresh_token"])
    assert error_of(second) == (400, "invalid_grant")
    assert "access_token" not in second.json()


def test_a_refresh_token_lives_180_days(server, app):
    pair = tokens(server, app)
    server.clock.advance(180 * 86400 - 1)
    kept = refresh(server, app, pair["refresh_token"])
    assert kept.status_code == 200
    server.clock.advance(180 * 86400)
    assert error_of(refresh(server, app, kept.json()["refresh_token"])) == (400, "invalid_grant")


def test_wrong_client_credentials(server, app):
    code = code_from(authorize(server, app))["code"]
    wrong = server.http.get(
        "/oauth/token/",
        params={
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "client_secret": app.secret + "x",
            "code": code,
        },
    )
    assert error_of(wrong) == (401, "invalid_client")
    # The failed attempt did not spend the code.
    assert exchange(server, app, code).status_code == 200


def test_a_code_of_another_app_is_refused(server, app):
    other, other_secret = server.run(
        admin.add_app,
        server.store,
        server.clock.now(),
        name="Other",
        scopes=["im"],
        redirect_uri=REDIRECT,
    )
    code = code_from(authorize(server, app))["code"]
    stolen = exchange(server, Installed(other.client_id, other_secret, other.id), code)
    assert error_of(stolen) == (400, "invalid_grant")
    assert exchange(server, app, code).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"grant_type": "authorization_code"},
        {"grant_type": "password", "code": "x"},
        {"grant_type": "refresh_token"},
        {"grant_type": "authorization_code", "client_id": "", "code": "x"},
    ],
)
def test_malformed_token_requests(server, app, params):
    answer = server.http.get(
        "/oauth/token/",
        params={"client_id": app.client_id, "client_secret": app.secret, **params},
    )
    assert error_of(answer) == (400, "invalid_request")
    assert set(answer.json()) == {"error", "error_description"}


def test_redirect_uri_must_match(server, app):
    page = server.http.get(
        "/oauth/authorize/",
        params={"client_id": app.client_id, "redirect_uri": "https://evil.example/"},
        follow_redirects=False,
    )
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "redirect_uri" in page.text
    code = code_from(authorize(server, app))["code"]
    mismatch = token(
        server, app, grant_type="authorization_code", code=code, redirect_uri="https://evil/"
    )
    assert error_of(mismatch) == (400, "invalid_grant")


def test_scope_beyond_the_apps(server, app):
    page = authorize(server, app, scope="im,crm")
    assert page.status_code == 400
    narrower = code_from(authorize(server, app, scope="im"))
    assert narrower["scope"] == "im"
    pair = exchange(server, app, narrower["code"]).json()
    assert pair["scope"] == "im"
    assert error_of(call(server, "timeman.status", pair["access_token"])) == (
        403,
        "insufficient_scope",
    )
    wider = token(server, app, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert wider.status_code == 200  # no scope asked: the grant's own
    assert error_of(
        token(
            server,
            app,
            grant_type="refresh_token",
            refresh_token=wider.json()["refresh_token"],
            scope="im,timeman",
        )
    ) == (400, "invalid_scope")


def test_unknown_client_on_the_login_page(server, app):
    for client_id in ("", "local.nope.1"):
        page = server.http.get("/oauth/authorize/", params={"client_id": client_id})
        assert page.status_code == 400
        assert "not installed" in page.text


def test_garbage_tokens(server, app):
    for garbage in ("", "x" * 5000, "' OR 1=1 --"):
        answer = call(server, "im.user.status.get", garbage)
        assert error_of(answer) == (401, "NO_AUTH_FOUND")
        assert error_of(refresh(server, app, garbage))[1] in ("invalid_grant", "invalid_request")


def test_the_authorization_servers_app_info(server, app):
    pair = tokens(server, app)
    endpoint = pair["server_endpoint"]
    assert endpoint == "http://127.0.0.1:8024/oauth/rest/"
    answer = server.http.get(f"{endpoint}app.info", params={"auth": pair["access_token"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"result", "time"}
    portal = server.run(admin.list_portals, server.store)[0]
    assert body["result"] == {
        "client_id": app.client_id,
        "scope": "im,timeman",
        "expires": "2026-03-02T09:30:00+00:00",
        "install": {
            "installed": True,
            "version": 1,
            "status": "L",
            "scope": "im,timeman",
            "domain": "127.0.0.1",
            "uri": "http://127.0.0.1:8024",
            "client_endpoint": "http://127.0.0.1:8024/rest/",
            "member_id": portal.member_id,
            "member_type": "PORTAL",
        },
        "user_id": 1,
    }
    server.clock.advance(3600)
    expired = server.http.post(f"{endpoint}app.info", data={"auth": pair["access_token"]})
    assert error_of(expired) == (401, "expired_token")
    # A webhook's code or garbage is no token of this server's.
    for auth in ("", "garbage"):
        refused = server.http.get(f"{endpoint}app.info", params={"auth": auth})
        assert error_of(refused) == (401, "invalid_token")


# --- guessing passwords ------------------------------------------------------------------

LOCKED = "Too many failed log-in attempts"


def locked(answer, seconds: int) -> None:
    """A 429 log-in form that says so, with ``Retry-After``; nothing issued."""
    assert answer.status_code == 429, answer.text
    assert answer.headers["retry-after"] == str(seconds)
    assert answer.headers["content-type"].startswith("text/html")
    assert LOCKED in answer.text and 'name="password"' in answer.text
    assert "location" not in answer.headers
    assert "B24LOCAL_SESSION" not in answer.headers.get("set-cookie", "")


def test_ten_failures_lock_the_login_for_fifteen_minutes(server, app):
    for _ in range(10):
        assert authorize(server, app, password="guess").status_code == 401
    # The right password, too, waits: the window is on the server's clock.
    locked(authorize(server, app), 900)
    server.clock.advance(899)
    locked(authorize(server, app), 1)
    server.clock.advance(1)
    assert exchange(server, app, code_from(authorize(server, app))["code"]).status_code == 200


def test_a_right_password_forgives_and_the_count_starts_over_after_fifteen_minutes(server, app):
    for _ in range(9):
        assert authorize(server, app, password="guess").status_code == 401
    code_from(authorize(server, app))
    # Forgiven: nine more are still only wrong passwords.
    for _ in range(9):
        assert authorize(server, app, password="guess").status_code == 401
    # Fifteen minutes after the first of them the count starts over: nine, then the
    # tenth locks.
    server.clock.advance(15 * 60)
    for _ in range(10):
        assert authorize(server, app, password="guess").status_code == 401
    locked(authorize(server, app), 900)


def test_the_lock_is_per_login(server, app):
    olga = server.add_user("Olga", "Berg", email="olga@example.com")
    server.run(admin.set_password, server.store, olga, "olga's pw")
    for _ in range(10):
        authorize(server, app, login="OLGA@example.com", password="guess")
    # The same login in another case is the same login; another login is not locked.
    locked(authorize(server, app, login=" olga@EXAMPLE.com ", password="olga's pw"), 900)
    code_from(authorize(server, app))


def test_a_locked_unknown_login_answers_as_a_locked_real_one(server, app):
    answers = {}
    for login in ("1", "nobody@example.com"):
        for _ in range(10):
            assert authorize(server, app, login=login, password="guess").status_code == 401
        answers[login] = authorize(server, app, login=login, password=PASSWORD)
    real, unknown = answers.values()
    locked(real, 900)
    assert (unknown.status_code, unknown.text) == (real.status_code, real.text)
    assert dict(unknown.headers) == dict(real.headers)


def test_attempts_sent_at_once_cannot_pass_the_limit_together(server, app):
    token = form_token(server.http, {"client_id": app.client_id})

    def attempt(_: int) -> int:
        return post_form(server, app, {"csrf_token": token, "password": "guess"}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(attempt, range(20)))
    assert statuses == [401] * 10 + [429] * 10


def proxied(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_an_address_failing_many_logins_is_throttled(server_with):
    """Thirty failures from one address, one per login, lock the address for every
    login; another address still logs in."""
    with server_with(trusted_proxies=("testclient",)) as server:
        app = install(server)
        for n in range(30):
            answer = authorize(server, app, login=f"u{n}@x.y", headers=proxied("203.0.113.7"))
            assert answer.status_code == 401
        locked(authorize(server, app, headers=proxied("203.0.113.7")), 900)
        code_from(authorize(server, app, headers=proxied("198.51.100.1")))
        # The login itself counts across addresses: ten from ten addresses lock it.
        for n in range(10):
            authorize(server, app, password="guess", headers=proxied(f"192.0.2.{n}"))
        locked(authorize(server, app, headers=proxied("198.51.100.1")), 900)


def test_after_a_lock_the_count_starts_from_nought(server_with):
    """Once the lock has passed, ten new failures, from addresses never seen, lock
    the login again: the eleventh waits."""
    with server_with(trusted_proxies=("testclient",)) as server:
        app = install(server)
        for round_ in range(2):
            for n in range(10):
                address = proxied(f"192.0.{round_}.{n}")
                assert authorize(server, app, password="guess", headers=address).status_code == 401
            locked(authorize(server, app, headers=proxied("198.51.100.1")), 900)
            server.clock.advance(901)
        code_from(authorize(server, app, headers=proxied("198.51.100.1")))


def test_a_right_password_does_not_reset_the_address_count(server_with):
    """An account of one's own does not buy more guesses at others'."""
    with server_with(trusted_proxies=("testclient",)) as server:
        app = install(server)
        for n in range(29):
            authorize(server, app, login=f"u{n}@x.y", headers=proxied("203.0.113.7"))
        for _ in range(3):
            code_from(authorize(server, app, headers=proxied("203.0.113.7")))
        assert (
            authorize(server, app, login="u99@x.y", headers=proxied("203.0.113.7")).status_code
            == 401
        )
        locked(authorize(server, app, headers=proxied("203.0.113.7")), 900)


def test_the_counts_are_kept_in_the_database(server, app, db_url, tmp_path):
    """Another server process on the same database (or this one restarted) sees the
    lock, and accepts a form another process showed."""
    for _ in range(10):
        authorize(server, app, password="guess")
    other = create_app(Settings(data_dir=tmp_path, db=db_url, limits=False), clock=server.clock)
    with TestClient(other, base_url="http://127.0.0.1:8024") as http:
        token = form_token(server.http, {"client_id": app.client_id})
        http.cookies = server.http.cookies
        answer = http.post(
            "/oauth/authorize/",
            params={"client_id": app.client_id},
            data={"login": "1", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        locked(answer, 900)


# --- cross-site posts --------------------------------------------------------------------

REFUSED_FORM = "The log-in form has expired or did not come from this page"
CROSS_SITE = "The log-in form was sent from another site"


def post_form(server, app: Installed, data: dict, headers=None):
    return server.http.post(
        "/oauth/authorize/",
        params={"client_id": app.client_id, "state": "x"},
        data={"login": "1", "password": PASSWORD, **data},
        headers=headers,
        follow_redirects=False,
    )


def refused(answer, message: str) -> None:
    """A 403 HTML page saying why; no code, no session."""
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert message in answer.text
    assert "location" not in answer.headers
    assert "B24LOCAL_SESSION" not in answer.headers.get("set-cookie", "")


def test_a_post_without_the_forms_token_is_refused(server, app):
    # Another site's form: the right login and password, but no token.
    refused(post_form(server, app, {}), REFUSED_FORM)
    token = form_token(server.http, {"client_id": app.client_id})
    # One character changed (a fixed "0" would leave one token in 64 unchanged).
    tampered = token[:-1] + ("1" if token.endswith("0") else "0")
    refused(post_form(server, app, {"csrf_token": tampered}), REFUSED_FORM)
    # The token of one browser's cookie is no good with another browser's cookie...
    server.http.cookies.clear()
    server.http.cookies.set("B24LOCAL_CSRF", "A" * 43)
    refused(post_form(server, app, {"csrf_token": token}), REFUSED_FORM)
    # ...nor without any.
    server.http.cookies.clear()
    refused(post_form(server, app, {"csrf_token": token}), REFUSED_FORM)
    # The refusal shows the form again, ready to be sent from here.
    again = post_form(server, app, {"csrf_token": token})
    assert 'name="password"' in again.text
    code_from(post_form(server, app, {"csrf_token": token_in(again.text)}))


def test_only_the_page_itself_may_post_the_form(server, app):
    """A browser names the page a post comes from (Origin, else Referer): another
    site's is refused even with a valid token; none at all (curl, SDKs) is judged by
    the token alone."""
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:8025"},
        {"Referer": "https://evil.example/login.html"},
        {"Referer": "http://[::1"},  # unreadable: no address of ours (it was a 500)
        {"Origin": "https://evil.example", "Referer": "http://127.0.0.1:8024/oauth/authorize/"},
    ):
        token = form_token(server.http, {"client_id": app.client_id})
        refused(post_form(server, app, {"csrf_token": token}, headers), CROSS_SITE)
    for headers in (
        {"Origin": "http://127.0.0.1:8024"},
        {"Referer": "http://127.0.0.1:8024/oauth/authorize/?client_id=x"},
        {},
    ):
        token = form_token(server.http, {"client_id": app.client_id})
        code_from(post_form(server, app, {"csrf_token": token}, headers))


def cookie_attributes(answer, name: str) -> set[str]:
    (header,) = [h for h in answer.headers.get_list("set-cookie") if h.startswith(name + "=")]
    return {part.strip().lower() for part in header.split(";")[1:]}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_pages_cookies_are_http_only_and_same_site(server, app, scheme):
    base = f"{scheme}://127.0.0.1:8024"
    form = server.http.get(f"{base}/oauth/authorize/", params={"client_id": app.client_id})
    logged_in = server.http.post(
        f"{base}/oauth/authorize/",
        params={"client_id": app.client_id},
        data={"login": "1", "password": PASSWORD, "csrf_token": token_in(form.text)},
        follow_redirects=False,
    )
    assert logged_in.status_code == 302, logged_in.text
    for answer, name in ((form, "B24LOCAL_CSRF"), (logged_in, "B24LOCAL_SESSION")):
        attributes = cookie_attributes(answer, name)
        assert {"httponly", "samesite=lax", "path=/"} <= attributes
        assert ("secure" in attributes) == (scheme == "https")


# --- security headers ------------------------------------------------------------------


def html_answers(server, app: Installed) -> dict:
    """Every kind of HTML page the server shows."""
    desk, _ = server.run(
        admin.add_app, server.store, server.clock.now(), name="Desk", scopes=["im"]
    )
    pages = {"code": authorize(server, Installed(desk.client_id, "", desk.id))}
    server.http.cookies.clear()  # logged in, the form would not be shown
    pages |= {
        "form": server.http.get("/oauth/authorize/", params={"client_id": app.client_id}),
        "wrong password": authorize(server, app, password="guess"),
        "cross-site": post_form(server, app, {}),
        "error": server.http.get("/oauth/authorize/", params={"client_id": "nope"}),
        "unreadable": server.http.post(
            "/oauth/authorize/", content=b"x", headers={"Content-Type": "multipart/form-data"}
        ),
    }
    for _ in range(9):
        authorize(server, app, password="guess")
    pages["locked"] = authorize(server, app)
    return pages


def test_every_html_page_refuses_frames_and_sniffing(server, app):
    answers = html_answers(server, app)
    assert [a.status_code for a in answers.values()] == [200, 200, 401, 403, 400, 400, 429]
    for name, answer in answers.items():
        assert answer.headers["content-type"].startswith("text/html"), name
        assert answer.headers["x-frame-options"] == "DENY", name
        assert answer.headers["x-content-type-options"] == "nosniff", name
        policy = {
            part.strip().split(" ", 1)[0]: part.strip()
            for part in answer.headers["content-security-policy"].split(";")
        }
        assert policy["frame-ancestors"] == "frame-ancestors 'none'", name
        assert policy["default-src"] == "default-src 'none'", name
        assert policy["style-src"].startswith("style-src 'sha256-"), name


# --- the public URL ----------------------------------------------------------------------

PUBLIC = "https://b24.example.com"


def test_the_public_url_wins_over_the_host_header(server_with):
    """Behind a proxy the request's Host is an internal name; the addresses given out
    are the public ones, and the browser's Origin there is the public one."""
    with server_with(public_url=PUBLIC) as server:
        app = install(server)
        # The proxy speaks plain HTTP to the server, but the browser reaches the page
        # over https: the form's cookies are Secure.
        form = server.http.get("/oauth/authorize/", params={"client_id": app.client_id})
        assert "secure" in cookie_attributes(form, "B24LOCAL_CSRF")
        # (A client keeps Secure cookies for https: the proxy's side of the story.)
        server.http.base_url = "https://127.0.0.1:8024"
        redirect = code_from(authorize(server, app, headers={"Origin": PUBLIC}))
        assert (redirect["domain"], redirect["server_domain"]) == ("b24.example.com",) * 2
        pair = exchange(server, app, redirect["code"]).json()
        assert pair["client_endpoint"] == f"{PUBLIC}/rest/"
        assert pair["server_endpoint"] == f"{PUBLIC}/oauth/rest/"
        assert pair["domain"] == "b24.example.com"
        answer = server.http.get("/oauth/rest/app.info", params={"auth": pair["access_token"]})
        install_info = answer.json()["result"]["install"]
        assert install_info["domain"] == "b24.example.com"
        assert install_info["uri"] == PUBLIC
        assert install_info["client_endpoint"] == f"{PUBLIC}/rest/"


@pytest.mark.parametrize("login", ["²", "١", "9" * 30, "2147483648", "9" * 5000, "x" * 5000])
def test_odd_logins_are_wrong_logins(server, app, login):
    """Hostile logins (digits int() refuses or reads as another's, IDs beyond any
    column) are refused as wrong, not failed with a server error."""
    answer = authorize(server, app, login=login)
    assert answer.status_code == 401, answer.text
    assert "Wrong login or password" in answer.text
