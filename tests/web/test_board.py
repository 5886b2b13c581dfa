"""The team board and the approvals queue through HTTP: who sees whom (the reach
``timeman.status`` with ``USER_ID`` has), the live rows, the department filter,
approving and rejecting edited days, and the refusals. The browser test
(test_browser.py) watches the board change live in Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import adminforms as forms
from b24local import admin
from loginform import token_in

PASSWORD = "team password"
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Team:
    """Sales (head Hanna) with North below it, and Support (head Sam)::

    Sales: Hanna (head), Olga      North (in Sales): Nils      Support: Sam (head), Pia
    """

    hanna: int
    olga: int
    nils: int
    sam: int
    pia: int
    sales: int
    north: int
    support: int


@pytest.fixture
def team(server) -> Team:
    def person(name: str, last: str, department: int) -> int:
        user = server.add_user(name, last, department_ids=[department])
        server.run(admin.set_password, server.store, user, PASSWORD)
        return user

    def department(name: str, parent: int | None = None) -> int:
        return server.run(admin.add_department, server.store, name=name, parent_id=parent).id

    sales, support = department("Sales"), department("Support")
    north = department("North", sales)
    found = Team(
        hanna=person("Hanna", "Hale", sales),
        olga=person("Olga", "Berg", sales),
        nils=person("Nils", "Nord", north),
        sam=person("Sam", "Stone", support),
        pia=person("Pia", "Park", support),
        sales=sales,
        north=north,
        support=support,
    )
    server.run(admin.set_department_head, server.store, sales, found.hanna)
    server.run(admin.set_department_head, server.store, support, found.sam)
    server.run(admin.set_password, server.store, server.admin_id, PASSWORD)
    return found


def log_in(server, user: int) -> None:
    forms.log_in(server, user, PASSWORD, set_first=False)


def rows(html: str) -> dict[int, str]:
    """The board's rows: user ID → workday state."""
    found = re.findall(r'<tr data-user="(\d+)">.*?data-state="(\w+)"', html, re.S)
    return {int(user): state for user, state in found}


def live(server, **params) -> dict[int, dict]:
    answer = server.http.get("/team/live", params=params)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.headers["server-timing"].startswith("board;dur=")
    return {row["id"]: row for row in answer.json()["rows"]}


def timeman(server, method: str, **params):
    """A timeman call through the administrator's webhook (who may act for anyone)."""
    answer = server.call(method, params)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def decide(server, workday: int | str, decision: str, token: str | None = None, **headers):
    if token is None:
        token = token_in(server.http.get("/day").text)
    return server.http.post(
        f"/approvals/{workday}/{decision}",
        data={"csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def edited_close(server, user: int, minutes_earlier: int, reason: str) -> int:
    """The user (by their own webhook) finishes the day earlier than now, with a
    reason: an edit that waits for approval. The day's ID."""
    hook = server.add_webhook(user, ["timeman"])
    opened = server.call("timeman.status", hook=hook).json()["result"]
    started = datetime.fromisoformat(opened["TIME_START"])
    at = started + timedelta(minutes=minutes_earlier)
    answer = server.call("timeman.close", {"TIME": at.isoformat(), "REPORT": reason}, hook=hook)
    assert answer.status_code == 200 and answer.json()["result"]["ACTIVE"] is False
    pending = server.run(admin.pending_workdays, server.store)
    return next(day.id for day in pending if day.user_id == user)


def test_a_head_watches_the_team_and_approves_an_edited_day(server, team):
    """Hanna heads Sales (and North below it): her board holds Hanna, Olga and
    Nils, each as timeman.status has them; the live rows follow REST changes;
    she approves Olga's earlier finish, which REST then sees as confirmed."""
    timeman(server, "timeman.open", USER_ID=team.olga)
    server.call("im.user.status.set", {"STATUS": "dnd"})  # the admin's own, not shown
    server.clock.advance(2 * 3600 + 15 * 60)
    log_in(server, team.hanna)

    page = server.http.get("/team")
    assert page.status_code == 200 and "server-timing" in page.headers
    assert rows(page.text) == {team.olga: "OPENED", team.hanna: "NONE", team.nils: "NONE"}
    assert "Olga Berg" in page.text and "Pia Park" not in page.text
    olga = live(server)[team.olga]
    assert olga["worked"] == "2:15" and olga["stateText"] == "Working"
    started = timeman(server, "timeman.status", USER_ID=team.olga)["TIME_START"]
    assert olga["started"] == started[11:16]  # in the day's own zone, as REST gives it

    # Presence as im.user.status.* leave it: Olga's status and idle time.
    olgas_hook = server.add_webhook(team.olga, ["im"])
    server.call("im.user.status.set", {"STATUS": "away"}, hook=olgas_hook)
    server.call("im.user.status.idle.start", {"AGO": 5}, hook=olgas_hook)
    olga = live(server)[team.olga]
    assert (olga["status"], olga["statusText"]) == ("away", "Away")
    idle_since = (server.clock.now() - timedelta(minutes=5)).strftime("%H:%M")
    assert olga["idle"] == f"idle since {idle_since}"  # the portal's zone: UTC here
    assert f"idle since {idle_since}" in server.http.get("/team").text

    # A change over REST shows in the live rows without a new page.
    timeman(server, "timeman.open", USER_ID=team.nils)
    server.clock.advance(600)
    timeman(server, "timeman.pause", USER_ID=team.nils)
    nils = live(server)[team.nils]
    assert (nils["state"], nils["worked"]) == ("PAUSED", "0:10")

    # The filter: North only, by its ID; the live rows cut the same way.
    north = server.http.get("/team", params={"department": team.north}).text
    assert rows(north) == {team.nils: "PAUSED"}
    assert f'data-live="/team/live?department={team.north}"' in north
    assert list(live(server, department=team.north)) == [team.nils]

    workday = edited_close(server, team.olga, 30, "Left for the dentist")
    assert live(server)[team.olga]["awaiting"] is True
    queue = server.http.get("/approvals")
    assert queue.status_code == 200
    assert f'data-workday="{workday}"' in queue.text
    assert "Left for the dentist" in queue.text and "Olga Berg" in queue.text

    decided = decide(server, workday, "approve", token_in(queue.text))
    assert decided.status_code == 303 and decided.headers["location"] == "/approvals?done=approve"
    status = timeman(server, "timeman.status", USER_ID=team.olga)
    assert status["ACTIVE"] is True and status["DURATION"] == "00:30:00"
    history = server.run(admin.workday_history, server.store, workday)
    assert history[-1]["action"] == "approve" and history[-1]["actor_id"] == team.hanna
    assert history[-1]["at"] == server.clock.now().replace(microsecond=0)
    after = server.http.get("/approvals?done=approve").text
    assert f'data-workday="{workday}"' not in after and "Approved" in after


@sqlite_only
def test_everyone_sees_only_the_days_they_manage(server, team):
    log_in(server, server.admin_id)
    everyone = rows(server.http.get("/team").text)
    assert {team.hanna, team.olga, team.nils, team.sam, team.pia, server.admin_id} <= set(everyone)

    log_in(server, team.sam)
    assert set(rows(server.http.get("/team").text)) == {team.sam, team.pia}
    # A department outside his reach filters nothing in: the same people, no more.
    outside = server.http.get("/team", params={"department": team.sales})
    assert set(rows(outside.text)) == {team.sam, team.pia}
    assert set(live(server, department=team.sales)) == {team.sam, team.pia}

    # A plain user: timeman.status shows them their own day only, so does the board.
    log_in(server, team.olga)
    page = server.http.get("/team").text
    assert set(rows(page)) == {team.olga} and "Hanna" not in page
    assert set(live(server)) == {team.olga}
    assert 'id="department"' not in page  # nothing to filter


@sqlite_only
def test_a_start_says_its_date_and_clock_when_they_are_not_the_viewers(server, team):
    """Olga opens her day in Tokyo: 09:00 there is not 09:00 for Hanna (UTC), so the
    offset is shown. Nils's day, left open past midnight, shows the date it began,
    and so does his idle time."""
    tokyo = timezone(timedelta(hours=9))
    at = server.clock.now().astimezone(tokyo).replace(microsecond=0)
    timeman(server, "timeman.open", USER_ID=team.olga, TIME=at.isoformat(), REPORT="Tokyo")
    timeman(server, "timeman.open", USER_ID=team.nils)
    status = timeman(server, "timeman.status", USER_ID=team.nils)
    nils_start = datetime.fromisoformat(status["TIME_START"])
    idle = server.clock.now() - timedelta(minutes=5)
    nils_im = server.add_webhook(team.nils, ["im"])
    server.call("im.user.status.idle.start", {"AGO": 5}, hook=nils_im)
    log_in(server, team.hanna)
    cells = live(server)
    assert cells[team.olga]["started"] == f"{at:%H:%M} UTC+09:00"
    assert cells[team.nils]["idle"] == f"idle since {idle:%H:%M}"
    assert cells[team.nils]["started"] == f"{nils_start:%H:%M}"  # her clock: no more said

    server.clock.advance(26 * 3600)
    cells = live(server)
    assert cells[team.nils]["state"] == "EXPIRED"
    assert cells[team.nils]["started"] == f"{nils_start:%Y-%m-%d %H:%M}"
    assert cells[team.olga]["started"] == f"{at:%Y-%m-%d %H:%M} UTC+09:00"
    assert cells[team.nils]["idle"] == f"idle since {idle:%Y-%m-%d %H:%M}"  # her clock, UTC
    assert f"{nils_start:%Y-%m-%d %H:%M}</td>" in server.http.get("/team").text


@sqlite_only
def test_approvals_are_refused_outside_ones_reach(server, team):
    timeman(server, "timeman.open", USER_ID=team.olga)
    timeman(server, "timeman.open", USER_ID=team.hanna)
    server.clock.advance(3 * 3600)
    olgas = edited_close(server, team.olga, 20, "Forgot to close")
    hannas = edited_close(server, team.hanna, 20, "My own")

    # Olga manages nobody: no queue, and her post changes nothing.
    log_in(server, team.olga)
    refused = server.http.get("/approvals")
    assert refused.status_code == 403 and "you manage nobody" in refused.text
    assert decide(server, olgas, "approve").status_code == 403

    # Sam heads Support: Olga's day is not his to see or decide.
    log_in(server, team.sam)
    queue = server.http.get("/approvals").text
    assert "No edited days are waiting for you." in queue and "Forgot to close" not in queue
    assert decide(server, olgas, "approve").status_code == 403

    # Hanna sees Olga's day but not her own, and may not approve her own.
    log_in(server, team.hanna)
    queue = server.http.get("/approvals").text
    assert f'data-workday="{olgas}"' in queue and f'data-workday="{hannas}"' not in queue
    own = decide(server, hannas, "approve")
    assert own.status_code == 403 and "not one you may decide" in own.text
    for day in (olgas, hannas):
        assert any(d.id == day for d in server.run(admin.pending_workdays, server.store))

    # The administrator's queue holds both.
    log_in(server, server.admin_id)
    queue = server.http.get("/approvals").text
    assert f'data-workday="{olgas}"' in queue and f'data-workday="{hannas}"' in queue


@sqlite_only
def test_a_day_moves_with_its_person_to_the_new_head(server, team):
    """Olga moves to Support with an edit waiting: Hanna loses her (on the board, in
    the queue, and over REST alike), Sam gains her and decides."""
    timeman(server, "timeman.open", USER_ID=team.olga)
    server.clock.advance(3 * 3600)
    workday = edited_close(server, team.olga, 20, "Moved desks")
    server.run(
        admin.update_user, server.store, server.clock.now(), team.olga,
        department_ids=[team.support],
    )  # fmt: skip
    hannas = server.add_webhook(team.hanna, ["timeman"])
    assert server.call("timeman.status", {"USER_ID": team.olga}, hook=hannas).status_code == 403

    log_in(server, team.hanna)
    assert team.olga not in rows(server.http.get("/team").text)
    assert f'data-workday="{workday}"' not in server.http.get("/approvals").text
    assert decide(server, workday, "approve").status_code == 403

    log_in(server, team.sam)
    assert f'data-workday="{workday}"' in server.http.get("/approvals").text
    assert decide(server, workday, "approve").status_code == 303
    assert timeman(server, "timeman.status", USER_ID=team.olga)["ACTIVE"] is True


@sqlite_only
def test_a_rejected_edit_puts_the_real_time_back(server, team):
    timeman(server, "timeman.open", USER_ID=team.olga)
    server.clock.advance(3 * 3600)
    workday = edited_close(server, team.olga, 60, "Went home early")
    log_in(server, team.hanna)
    answer = decide(server, workday, "reject")
    assert answer.status_code == 303 and answer.headers["location"] == "/approvals?done=reject"
    status = timeman(server, "timeman.status", USER_ID=team.olga)
    assert status["ACTIVE"] is True and status["DURATION"] == "03:00:00"
    # Decided once: a second decision finds nothing waiting.
    again = decide(server, workday, "approve")
    assert again.status_code == 409 and "no edit waiting" in again.text
    # A head of another department is told the day is not his, not whether it waits.
    log_in(server, team.sam)
    peer = decide(server, workday, "approve")
    assert peer.status_code == 403 and "not one you may decide" in peer.text


@sqlite_only
def test_approve_and_reject_need_the_pages_own_form(server, team):
    timeman(server, "timeman.open", USER_ID=team.olga)
    server.clock.advance(3 * 3600)
    workday = edited_close(server, team.olga, 30, "Dentist")
    log_in(server, team.hanna)
    token = token_in(server.http.get("/approvals").text)
    assert decide(server, workday, "approve", token="").status_code == 403
    assert decide(server, workday, "approve", token="forged" + token).status_code == 403
    cross = decide(server, workday, "reject", token, Origin="https://evil.example")
    assert cross.status_code == 403 and "another site" in cross.text
    assert timeman(server, "timeman.status", USER_ID=team.olga)["ACTIVE"] is False


@sqlite_only
def test_hostile_addresses_get_clear_answers(server, team):
    assert server.http.get("/team", follow_redirects=False).headers["location"] == "/login"
    assert server.http.get("/team/live", follow_redirects=False).status_code == 303
    assert server.http.get("/approvals", follow_redirects=False).status_code == 303
    log_in(server, team.hanna)
    for wrong in ("abc", "-1", "0", "1e9", "99999999999999999999", "1\x00"):
        answer = server.http.get("/team", params={"department": wrong})
        assert answer.status_code == 400 and "not a department" in answer.text
        assert server.http.get("/team/live", params={"department": wrong}).status_code == 400
    # Repeated, the last would win unseen: refused, whichever comes first.
    for twice in (f"abc&department={team.north}", f"{team.north}&department={team.sales}"):
        assert server.http.get(f"/team?department={twice}").status_code == 400
        assert server.http.get(f"/team/live?department={twice}").status_code == 400
    token = token_in(server.http.get("/approvals").text)
    assert decide(server, "abc", "approve", token).status_code == 404
    assert decide(server, 2**40, "approve", token).status_code == 404
    assert decide(server, 1, "explode", token).status_code == 404
    missing = decide(server, 424242, "approve", token)
    assert missing.status_code == 404 and "no such workday" in missing.text
    assert server.http.get("/approvals/1/approve").status_code == 405


@sqlite_only
def test_the_board_reads_the_same_number_of_statements_for_any_team(server, team):
    """No query per person: ten more people, with days and statuses, cost the
    board no more statements."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    log_in(server, server.admin_id)

    def statements_for_board() -> int:
        # A commit first: rows kept from before it (store/snapshot.py) are read anew.
        server.call("im.user.status.set", {"STATUS": "online"})
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            assert server.http.get("/team").status_code == 200
            live(server)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len(statements)

    before = statements_for_board()
    for n in range(10):
        user = server.add_user(f"Extra{n}", "Person", department_ids=[team.north])
        timeman(server, "timeman.open", USER_ID=user)
        server.call("im.user.status.set", {"STATUS": "dnd", "USER_ID": user})
    assert len(rows(server.http.get("/team").text)) == 16
    assert statements_for_board() == before, statements
    assert 10 <= before < 30, before  # five for each board, and the visit's own


# --- a supervisor on a report's day ------------------------------------------------------


def status_of(server, user: int) -> str:
    return timeman(server, "timeman.status", USER_ID=user)["STATUS"]


def press(server, user: int, action: str, token: str | None = None, **fields):
    """A button of ``user``'s day page, as the logged-in viewer."""
    if token is None:
        token = token_in(server.http.get("/day").text)
    return server.http.post(
        f"/team/{user}/{action}", data={"csrf_token": token, **fields}, follow_redirects=False
    )


def test_a_head_acts_on_a_reports_day_as_rest_lets_her(server, team):
    """Hanna opens Nils's day page from her board and starts, pauses, resumes and
    finishes his day: timeman.* with USER_ID in her name, seen over REST; an
    earlier finish goes to approval as over REST."""
    log_in(server, team.hanna)
    board = server.http.get("/team").text
    assert f'<a href="/team/{team.nils}">Nils Nord</a>' in board
    page = server.http.get(f"/team/{team.nils}")
    assert page.status_code == 200 and "The day of Nils Nord" in page.text
    assert f'action="/team/{team.nils}/start"' in page.text
    assert 'action="/status"' not in page.text  # his status is his own

    answer = press(server, team.nils, "start")
    assert answer.status_code == 303 and answer.headers["location"] == f"/team/{team.nils}"
    assert status_of(server, team.nils) == "OPENED"
    assert status_of(server, team.hanna) != "OPENED"  # her own day untouched
    server.clock.advance(3600)
    assert press(server, team.nils, "pause").status_code == 303
    assert status_of(server, team.nils) == "PAUSED"
    # A page out of date is refused, not taken for another button.
    assert press(server, team.nils, "pause").status_code == 409
    assert press(server, team.nils, "resume").status_code == 303
    server.clock.advance(2 * 3600)
    answer = press(server, team.nils, "close", time="", report="")
    assert answer.status_code == 303
    found = timeman(server, "timeman.status", USER_ID=team.nils)
    assert found["STATUS"] == "CLOSED" and found["ACTIVE"] is True
    # An earlier time with a reason: an edit that waits for approval, as over REST.
    assert press(server, team.nils, "start").status_code == 303
    server.clock.advance(2 * 3600)
    # An hour before now, on the day's own clock (its start's offset).
    started = datetime.fromisoformat(
        timeman(server, "timeman.status", USER_ID=team.nils)["TIME_START"]
    )
    at = server.clock.now().astimezone(started.tzinfo) - timedelta(hours=1)
    answer = press(server, team.nils, "close", time=f"{at:%H:%M}", report="left early")
    assert answer.status_code == 303, answer.text
    assert timeman(server, "timeman.status", USER_ID=team.nils)["ACTIVE"] is False
    # Her own page is her own day still; her own ID leads there.
    assert (
        server.http.get(f"/team/{team.hanna}", follow_redirects=False).headers["location"] == "/day"
    )


@sqlite_only
def test_only_those_who_manage_a_day_act_on_it(server, team):
    log_in(server, team.sam)  # heads Support, not Sales
    for user in (team.nils, team.olga, team.hanna):
        page = server.http.get(f"/team/{user}")
        assert page.status_code == 403 and "You do not manage" in page.text
        assert press(server, user, "start").status_code == 403
    assert status_of(server, team.nils) != "OPENED"
    log_in(server, team.olga)  # in Sales, heads nothing
    assert server.http.get(f"/team/{team.hanna}").status_code == 403
    assert press(server, team.hanna, "start").status_code == 403
    for path, status in [("/team/4242", 404), ("/team/x", 404), ("/team/0", 404),
                         ("/team/99999999999999999999", 404)]:  # fmt: skip
        assert server.http.get(path).status_code == status, path
    log_in(server, team.hanna)
    assert press(server, team.nils, "explode").status_code == 404
    # CSRF: no token, or a post from another site.
    answer = server.http.post(f"/team/{team.nils}/start", follow_redirects=False)
    assert answer.status_code == 403
    token = token_in(server.http.get("/day").text)
    answer = server.http.post(
        f"/team/{team.nils}/start", data={"csrf_token": token},
        headers={"Origin": "https://evil.example"}, follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 403
    assert status_of(server, team.nils) != "OPENED"
    server.http.cookies.clear()
    assert server.http.get(f"/team/{team.nils}", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_head_who_loses_a_report_while_her_button_waits_is_refused(server, team, db_url):
    """Her press waits in Nils's write queue behind a call held up on his row; he
    moves to another department meanwhile: when her turn comes she is refused."""
    import asyncio

    import httpx
    from tests.api.test_user_queues import RowLocks

    nils_hook = server.add_webhook(team.nils, ["im"])
    log_in(server, team.hanna)
    token = token_in(server.http.get("/day").text)
    cookies = dict(server.http.cookies)

    async def scenario():
        transport = httpx.ASGITransport(app=server.http.app)
        async with (
            RowLocks(db_url) as locks,
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8024") as http,
        ):
            http.cookies.update(cookies)
            await locks.lock(team.nils)
            held = asyncio.ensure_future(
                http.post(f"{nils_hook}im.user.status.set", json={"STATUS": "dnd"})
            )
            await locks.until_waiting(1)
            pressed = asyncio.ensure_future(
                http.post(
                    f"/team/{team.nils}/start",
                    data={"csrf_token": token},
                    headers={"Origin": "http://127.0.0.1:8024"},
                )
            )
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert not pressed.done()  # waiting for its turn
            await locks.conn.execute(
                sa.text("UPDATE user_departments SET department_id = :to WHERE user_id = :id"),
                {"to": team.support, "id": team.nils},
            )
            await locks.release()
            return await held, await pressed

    held, pressed = server.run(scenario)
    assert held.status_code == 200
    assert pressed.status_code == 403, pressed.text
    assert status_of(server, team.nils) != "OPENED"
