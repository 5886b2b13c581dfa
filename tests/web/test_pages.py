"""The web pages through HTTP: log-in, "My day" and its actions, refusals, CSRF and
the session's expiry on the injected clock. The browser tests (test_browser.py)
drive the same pages in Chromium."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from b24local import admin, plans, schedule_admin
from b24local.scopes.timeman.workday import Reason
from b24local.store import credentials, workdays
from b24local.web.catalogue import Catalogue, choose, languages
from b24local.web.visit import MAX_BODY
from loginform import token_in

PASSWORD = "correct horse"
#: Most of these tests exercise the pages, not the store: SQLite is enough. The
#: whole day's flow also runs on PostgreSQL (test_a_day_from_start_to_finish).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def log_in(server, login: str = "1", password: str = PASSWORD, **headers: str):
    """Show the log-in page, then post it as a browser would; no redirect followed."""
    page = server.http.get("/login")
    return server.http.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": token_in(page.text)},
        headers=headers,
        follow_redirects=False,
    )


def act(server, action: str, **fields: str):
    """Press a button of "My day" (the page's own token with it)."""
    token = token_in(server.http.get("/day").text)
    return server.http.post(
        f"/day/{action}", data={"csrf_token": token, **fields}, follow_redirects=False
    )


def day_status(server, hook: str | None = None, **params) -> dict:
    answer = server.call("timeman.status", params, hook=hook)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def badge(html: str) -> str:
    return re.search(r'data-state="(\w+)"', html).group(1)


@pytest.fixture
def admin_password(server) -> None:
    server.run(admin.set_password, server.store, server.admin_id, PASSWORD)


@pytest.mark.usefixtures("admin_password")
def test_a_day_from_start_to_finish(server):
    """Log in, start, pause, resume and finish: each click is the REST method's
    change (timeman.status sees it), and the page shows the day's timeline."""
    assert server.http.get("/", follow_redirects=False).headers["location"] == "/login"
    assert server.http.get("/day", follow_redirects=False).headers["location"] == "/login"

    logged_in = log_in(server)
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/day"
    cookie = logged_in.headers["set-cookie"]
    assert "B24LOCAL_SESSION=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the TLS test

    page = server.http.get("/day")
    assert page.status_code == 200 and badge(page.text) == "NONE"
    assert "Content-Security-Policy" in page.headers and "Start the day" in page.text

    assert act(server, "start").status_code == 303
    assert day_status(server)["STATUS"] == "OPENED"
    server.clock.advance(3600)
    assert act(server, "pause").status_code == 303
    assert day_status(server)["STATUS"] == "PAUSED"
    assert badge(server.http.get("/day").text) == "PAUSED"
    server.clock.advance(900)
    assert act(server, "resume").status_code == 303
    assert day_status(server)["STATUS"] == "OPENED"
    server.clock.advance(1800)
    assert act(server, "close").status_code == 303
    closed = day_status(server)
    assert closed["STATUS"] == "CLOSED"
    assert (closed["DURATION"], closed["TIME_LEAKS"]) == ("01:30:00", "00:15:00")

    page = server.http.get("/day").text
    assert badge(page) == "CLOSED" and "Continue the day" in page
    worked = re.search(r'id="worked"[^>]*>([^<]+)<', page).group(1)
    assert worked == "1:30"
    assert re.search(r'id="breaks">0:15<', page)
    # 08:30 UTC in the portal's zone, as the REST answer gives it.
    start = closed["TIME_START"][11:16]
    events = re.findall(r"<time>(\d\d:\d\d)</time> (\w[\w ]*)", page)
    assert [kind for _, kind in events] == ["Started", "Break", "Back to work", "Finished"]
    assert events[0][0] == start
    assert page.count('class="seg work"') == 2 and page.count('class="seg break"') == 1


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_the_page_shows_a_day_changed_over_rest(server):
    log_in(server)
    server.call("timeman.open")
    server.clock.advance(120)
    server.call("timeman.pause")
    assert badge(server.http.get("/day").text) == "PAUSED"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_wrong_password_is_refused(server):
    for login, password in (("1", "wrong"), ("99", PASSWORD), ("nobody@x.y", PASSWORD)):
        refused = log_in(server, login, password)
        assert refused.status_code == 401
        assert "Wrong login or password." in refused.text
        assert "B24LOCAL_SESSION" not in refused.headers.get("set-cookie", "")
    assert server.http.get("/day", follow_redirects=False).status_code == 303


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_guessing_is_throttled_as_on_the_oauth_page(server):
    answers = [log_in(server, "1", "wrong").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]
    locked = log_in(server, "1", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "Too many failed log-in attempts" in locked.text
    server.clock.advance(15 * 60 + 1)
    assert log_in(server).status_code == 303


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_forms_without_their_token_or_from_another_site_are_refused(server):
    # The log-in form itself.
    server.http.get("/login")
    no_token = server.http.post("/login", data={"login": "1", "password": PASSWORD})
    assert no_token.status_code == 403 and "B24LOCAL_SESSION" not in str(no_token.headers)
    cross = log_in(server, origin="https://evil.example")
    assert cross.status_code == 403 and "another site" in cross.text

    assert log_in(server).status_code == 303
    token = token_in(server.http.get("/day").text)
    for data, headers in (
        ({}, {}),
        ({"csrf_token": "0" * 64}, {}),
        ({"csrf_token": token}, {"origin": "https://evil.example"}),
        ({"csrf_token": token}, {"referer": "https://evil.example/day"}),
    ):
        answer = server.http.post("/day/start", data=data, headers=headers)
        assert answer.status_code == 403, (data, headers)
    # A token is good only with the browser's own cookie.
    server.http.cookies.delete("B24LOCAL_CSRF")
    assert server.http.post("/day/start", data={"csrf_token": token}).status_code == 403
    assert day_status(server)["STATUS"] == "CLOSED"
    answer = server.http.post("/status", data={"status": "dnd"})
    assert answer.status_code == 403
    assert server.call("im.user.status.get").json()["result"] == "online"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_the_session_expires_on_the_clock_and_ends_at_log_out(server):
    log_in(server)
    server.clock.advance(timedelta(days=30).total_seconds() - 1)
    assert server.http.get("/day").status_code == 200
    server.clock.advance(1)
    assert server.http.get("/day", follow_redirects=False).headers["location"] == "/login"

    log_in(server)
    session = server.http.cookies["B24LOCAL_SESSION"]
    token = token_in(server.http.get("/day").text)
    out = server.http.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert "B24LOCAL_SESSION" not in server.http.cookies
    # The old cookie, kept by someone, logs no one in any more.
    server.http.cookies.set("B24LOCAL_SESSION", session)
    assert server.http.get("/day", follow_redirects=False).status_code == 303


@sqlite_only
def test_each_user_acts_on_their_own_day_only(server):
    """No field of the page names a user: one posted anyway changes nothing of theirs."""
    olga = server.add_user("Olga", "Berg")
    server.run(admin.set_password, server.store, olga, "olga's pw")
    assert log_in(server, str(olga), "olga's pw").status_code == 303
    assert act(server, "start", user_id=str(server.admin_id), USER_ID="1").status_code == 303
    assert day_status(server)["STATUS"] == "CLOSED"  # the admin's (the webhook's) day
    assert day_status(server, USER_ID=olga)["STATUS"] == "OPENED"
    assert "Olga Berg" in server.http.get("/day").text


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_button_from_an_out_of_date_page_is_refused(server):
    log_in(server)
    stale = token_in(server.http.get("/day").text)
    act(server, "start")
    again = server.http.post("/day/start", data={"csrf_token": stale})
    assert again.status_code == 409 and "out of date" in again.text
    assert act(server, "resume").status_code == 409
    assert day_status(server)["STATUS"] == "OPENED"
    assert server.http.post("/day/explode", data={"csrf_token": stale}).status_code == 404


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_an_earlier_finish_needs_a_reason_and_waits_for_approval(server):
    log_in(server)
    act(server, "start")
    server.clock.advance(4 * 3600)
    opened = day_status(server)
    started = datetime.fromisoformat(opened["TIME_START"])
    earlier = (started + timedelta(minutes=30)).strftime("%H:%M")
    refused = act(server, "close", time=earlier)
    assert refused.status_code == 409 and "Give a reason" in refused.text
    # The form comes back open, with the time that was sent.
    assert '<details class="earlier" open>' in refused.text
    assert f'value="{earlier}"' in refused.text
    assert day_status(server)["STATUS"] == "OPENED"
    assert act(server, "close", time="25:99", report="x").status_code == 400
    assert act(server, "close", time=earlier, report="Left for the dentist").status_code == 303
    closed = day_status(server)
    assert closed["STATUS"] == "CLOSED" and closed["ACTIVE"] is False
    assert closed["DURATION"] == "00:30:00"
    assert "waits for your supervisor" in server.http.get("/day").text


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_my_status_is_set_as_im_user_status_set_sets_it(server):
    log_in(server)
    token = token_in(server.http.get("/day").text)
    answer = server.http.post("/status", data={"csrf_token": token, "status": "dnd"})
    assert answer.status_code == 200  # the redirect followed to the page
    assert server.call("im.user.status.get").json()["result"] == "dnd"
    assert 'value="dnd" class="status dnd" aria-pressed="true"' in answer.text
    for wrong in ("DND", "offline", ""):
        refused = server.http.post("/status", data={"csrf_token": token, "status": wrong})
        assert refused.status_code == 400 and "not one you can choose" in refused.text
    assert server.call("im.user.status.get").json()["result"] == "dnd"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_hostile_forms_get_clear_refusals(server):
    log_in(server)
    token = token_in(server.http.get("/day").text)
    for data in (
        {"csrf_token": token, "report": "x" * 5000},
        {"csrf_token": token, "report": "a\x00b"},
        {"csrf_token": token, **{f"f{i}": "1" for i in range(50)}},
    ):
        answer = server.http.post("/day/start", data=data)
        assert answer.status_code == 400 and "could not be read" in answer.text
    junk = server.http.post(
        "/day/start", content=b"\xff" * 100, headers={"content-type": "multipart/form-data"}
    )
    assert junk.status_code == 400
    assert server.http.get("/login", headers={"host": "unknown.example"}).status_code == 200
    assert day_status(server)["STATUS"] == "CLOSED"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_the_session_cookie_is_secure_under_tls(server):
    page = server.http.get("https://127.0.0.1:8024/login")
    answer = server.http.post(
        "https://127.0.0.1:8024/login",
        data={"login": "1", "password": PASSWORD, "csrf_token": token_in(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


@sqlite_only
def test_the_rest_and_oauth_addresses_keep_their_answers(server):
    assert "error" in server.http.get("/rest/").json()
    assert server.call("timeman.status").status_code == 200
    assert server.http.get("/oauth/authorize/").status_code == 400
    assert server.http.get("/static/app.css").headers["content-type"].startswith("text/css")
    assert server.http.get("/nothing-here").status_code == 404


def test_every_refusal_and_language_has_its_text():
    english = Catalogue("en")
    for reason in Reason:
        assert english.has(f"refusal.{reason.value}"), reason
    assert "en" in languages()
    assert choose("de-AT,de;q=0.9,en;q=0.5") == "en"
    assert choose("") == "en" and choose("xx;q=bad, en-GB") == "en"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_day_left_open_overnight_is_finished_with_a_time_and_reason(server):
    log_in(server)
    act(server, "start")
    server.clock.advance(24 * 3600)
    page = server.http.get("/day").text
    assert badge(page) == "EXPIRED" and "was not finished" in page
    # The form is open, with the finish the service suggests for the day filled in.
    suggested = day_status(server)["TIME_FINISH_DEFAULT"][11:16]
    assert '<details class="earlier" open>' in page
    assert re.search(rf'name="time" type="time" required\s+value="{suggested}"', page)
    assert act(server, "close").status_code == 409  # not without a time
    assert act(server, "close", time=suggested).status_code == 409  # nor without a reason
    assert act(server, "close", time=suggested, report="Forgot").status_code == 303
    closed = day_status(server)
    assert closed["STATUS"] == "CLOSED" and closed["TIME_FINISH"][11:16] == suggested
    # Yesterday's finished day is history: today is a new one.
    assert badge(server.http.get("/day").text) == "NONE"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_expected_hours_come_from_the_settings_and_the_schedule(server):
    log_in(server)
    server.run(_put_settings, server, min_duration=6 * 3600)
    act(server, "start")
    page = server.http.get("/day").text
    assert re.search(r'id="expected">6:00<', page) and "6:00 a day" in page
    definition = {
        "NAME": "Office hours",
        "SHIFTS": [{"WORK_TIME_START": 28800, "WORK_TIME_END": 61200, "WORK_DAYS": "12345"}],
    }
    schedule = server.run(schedule_admin.add_schedule, server.store, definition, server.clock.now())
    server.run(schedule_admin.assign_schedule, server.store, schedule.id, {}, for_all=True)
    page = server.http.get("/day").text
    assert "Schedule: Office hours" in page and "Expected to finish at 17:00" in page


async def _put_settings(server, **changes):
    async with server.store.transaction(write=True) as conn:
        await workdays.put_settings(conn, 1, server.admin_id, **changes)


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_deactivated_user_is_logged_out(server):
    log_in(server)
    assert server.http.get("/day").status_code == 200
    server.run(admin.update_user, server.store, server.clock.now(), server.admin_id, active=False)
    assert server.http.get("/day", follow_redirects=False).headers["location"] == "/login"
    assert log_in(server).status_code == 401


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_one_log_in_serves_the_pages_and_the_oauth_page(server):
    installed, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Time Sync",
        scopes=["timeman"], redirect_uri="https://app.example/back",
    )  # fmt: skip
    log_in(server)
    answer = server.http.get(
        "/oauth/authorize/", params={"client_id": installed.client_id}, follow_redirects=False
    )
    assert answer.status_code == 302 and "code=" in answer.headers["location"]


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_blocked_portal_shows_why_and_acts_on_nothing(server):
    log_in(server)
    token = token_in(server.http.get("/day").text)
    server.run(admin.update_portal, server.store, None, status="blocked")
    for answer in (
        server.http.get("/day"),
        server.http.post("/day/start", data={"csrf_token": token}),
        server.http.get("/login"),
    ):
        assert answer.status_code == 403 and "is not available" in answer.text
    server.run(admin.update_portal, server.store, None, status="active")
    assert day_status(server)["STATUS"] == "CLOSED"


# --- found in review: bounded work before anyone is known ------------------------------


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_body_larger_than_any_form_is_refused_before_it_is_parsed(server):
    token = token_in(server.http.get("/login").text)
    fields = {"csrf_token": token, "login": "1", "password": PASSWORD}
    padded = {**fields, "x": "y" * MAX_BODY}
    answer = server.http.post("/login", data=padded, follow_redirects=False)
    assert answer.status_code == 413 and "too large" in answer.text
    assert "B24LOCAL_SESSION" not in answer.headers.get("set-cookie", "")
    # Sent in chunks, with no Content-Length to refuse it by.
    body = urlencode(padded).encode()
    chunked = server.http.post(
        "/logout",
        content=iter([body[:1000], body[1000:]]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413
    # The longest form a page sends fits: a 2000-character reason, all of it escaped.
    assert log_in(server).status_code == 303
    assert act(server, "start", report="€" * 2000).status_code == 303
    assert day_status(server)["STATUS"] == "OPENED"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_locked_log_in_costs_no_password_hashing_and_is_told_from_the_catalogue(
    server, monkeypatch
):
    """Once guessing is locked, a guess is answered without scrypt's tens of
    milliseconds (nothing to hide: the answer is 429 whoever the login is)."""
    hashed = []
    check = credentials.check_password
    monkeypatch.setattr(
        credentials, "check_password", lambda *args: hashed.append(1) or check(*args)
    )
    assert [log_in(server, "1", "wrong").status_code for _ in range(10)] == [401] * 10
    assert len(hashed) == 10
    locked = [log_in(server, login, "guess").status_code for login in ("1", "1", "1")]
    assert locked == [429] * 3 and len(hashed) == 10
    # Told in the catalogue's words (translated with the page), in whole minutes.
    server.clock.advance(14 * 60 + 30)
    told = log_in(server, "1", PASSWORD)
    assert told.status_code == 429 and int(told.headers["retry-after"]) <= 30
    assert Catalogue("en")("login.locked", minutes=1) in told.text


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_time_is_what_a_time_input_sends_and_nothing_looser(server):
    """An offset would be dropped without a word (the time read as the home zone's),
    and ``0900`` or ``9`` are no one's way of writing a time: all are refused."""
    log_in(server)
    act(server, "start")
    server.clock.advance(4 * 3600)
    for sent in ("09:00+05:00", "09:00Z", "0900", "09", "9:00", "T09:00", "09:00:60", "٠٩:٠٠"):
        answer = act(server, "close", time=sent, report="Left early")
        assert answer.status_code == 400 and "not a time of day" in answer.text, sent
    assert day_status(server)["STATUS"] == "OPENED"
    assert act(server, "close", time="09:00:30", report="Left early").status_code == 303
    assert day_status(server)["TIME_FINISH"].startswith("2026-03-02T09:00:00")


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_head_of_the_log_in_page_is_its_get(server):
    """HEAD is GET without the body: it was taken for a posted form and refused."""
    head = server.http.head("/login")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in head.headers["content-security-policy"]


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_an_unreadable_referer_is_another_sites(server):
    """``Referer: http://[::1`` made urlsplit raise: a 500 on every form."""
    token = token_in(server.http.get("/login").text)
    fields = {"csrf_token": token, "login": "1", "password": PASSWORD}
    answer = server.http.post("/login", data=fields, headers={"referer": "http://[::1"})
    assert answer.status_code == 403 and "another site" in answer.text
    assert log_in(server).status_code == 303
    token = token_in(server.http.get("/day").text)
    refused = server.http.post(
        "/day/start", data={"csrf_token": token}, headers={"referer": "https://[bad/day"}
    )
    assert refused.status_code == 403 and day_status(server)["STATUS"] == "CLOSED"


@sqlite_only
@pytest.mark.usefixtures("admin_password")
def test_a_closed_portal_is_explained_in_the_catalogues_words(server):
    """The page said REST's English "REST API is blocked due to overload" to a
    person whose Bitrix24 an administrator blocked."""
    english = Catalogue("en")
    log_in(server)
    for change, key in (
        ({"status": "blocked"}, "error.portal_blocked"),
        ({"status": "deleted"}, "error.portal_deleted"),
        ({"status": "active", "plan": plans.FREE}, "error.portal_plan"),
    ):
        server.run(admin.update_portal, server.store, None, **change)
        answer = server.http.get("/day")
        assert answer.status_code == 403 and english(key) in answer.text, change
        assert "REST" not in answer.text
