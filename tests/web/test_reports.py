"""The reports page and its CSV and XLSX exports through HTTP: figures of days made
on the moved clock, rights (a person, a head, an administrator), the files read
back with ``csv`` and openpyxl, hostile query parameters; and one browser test
downloading the XLSX from the page."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta

import openpyxl
import pytest

from b24local import admin
from loginform import token_in

PASSWORD = "reports pw"
HOUR, MINUTE = 3600, 60
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
MARCH = {"period": "month", "date": "2026-03-01"}


def log_in(server, login: str) -> None:
    server.http.cookies.clear()
    page = server.http.get("/login")
    answer = server.http.post(
        "/login",
        data={"login": login, "password": PASSWORD, "csrf_token": token_in(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def call(server, method: str, hook: str | None = None, **params) -> object:
    answer = server.call(method, params, hook=hook)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


class Team:
    """Sales (head Hannah, member Bob), Carol in no department, and the admin."""

    def __init__(self, server) -> None:
        self.server = server
        self.sales = server.run(admin.add_department, server.store, name="Sales").id
        self.hannah = server.add_user("Hannah", "Head", department_ids=[self.sales])
        self.bob = server.add_user("Bob", "Builder", department_ids=[self.sales])
        self.carol = server.add_user("Carol", "Outside")
        server.run(admin.set_department_head, server.store, self.sales, self.hannah)
        for user_id in (server.admin_id, self.hannah, self.bob, self.carol):
            server.run(admin.set_password, server.store, user_id, PASSWORD)
        self.bob_hook = server.add_webhook(self.bob, ["timeman", "im"])


@pytest.fixture
def team(server) -> Team:
    return Team(server)


def work(server, user_id: int, start: str, finish: str, pause: tuple[str, str] | None = None):
    """A day of ``user_id`` on the moved clock (today's date, UTC, the portal's zone)."""

    def at(clock: str) -> None:
        today = server.clock.now().date()
        server.clock.set(
            datetime.combine(today, time.fromisoformat(clock), server.clock.now().tzinfo)
        )

    at(start)
    call(server, "timeman.open", USER_ID=user_id)
    if pause:
        at(pause[0])
        call(server, "timeman.pause", USER_ID=user_id)
        at(pause[1])
        call(server, "timeman.open", USER_ID=user_id)
    at(finish)
    call(server, "timeman.close", USER_ID=user_id)


def next_day(server) -> None:
    server.clock.advance(24 * HOUR)


def row(html: str, kind: str, key: int) -> list[str]:
    """The cells of a person's (``user``) or department's line of a table."""
    found = re.search(rf'<tr data-{kind}="{key}">(.*?)</tr>', html, re.S)
    assert found, f"no {kind} {key}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    ]


def figure(html: str, name: str) -> str:
    return re.search(rf'id="total-{name}"[^>]*>([^<]+)<', html).group(1).strip()


def test_a_month_of_a_team(server, team):
    """Two days of Bob and Hannah and one of Carol; Bob idles half an hour. The
    administrator's month: per person, per department and per date, late starts
    and early finishes against the default settings (latest start 09:15,
    earliest finish 17:45), and the charts' days."""
    assert call(server, "timeman.timecontrol.settings.set", ACTIVE=1, REGISTER_IDLE="Y")
    # Monday 2 March: Bob 08:30–17:00 with a break 12:00–12:30 (finished early);
    # Hannah 09:00–18:00.
    work(server, team.bob, "08:30", "17:00", ("12:00", "12:30"))
    work(server, team.hannah, "09:00", "18:00")
    next_day(server)
    # Tuesday: Bob late at 10:00, idle 14:00–14:40 (an absence), to 18:00.
    server.clock.set(server.clock.now().replace(hour=10, minute=0))
    call(server, "timeman.open", USER_ID=team.bob)
    server.clock.set(server.clock.now().replace(hour=14, minute=40))
    call(server, "im.user.status.idle.start", team.bob_hook, AGO=40)
    server.clock.set(server.clock.now().replace(hour=14, minute=41))
    call(server, "im.user.status.idle.end", team.bob_hook)
    server.clock.set(server.clock.now().replace(hour=18, minute=0))
    call(server, "timeman.close", USER_ID=team.bob)
    work(server, team.hannah, "09:10", "17:50")
    work(server, team.carol, "09:00", "13:00")

    log_in(server, "1")
    page = server.http.get("/reports", params=MARCH)
    assert page.status_code == 200, page.text
    html = page.text
    assert 'id="period">2026-03-01 – 2026-03-31<' in html
    # Bob: 8:00 + 8:00, 0:30 of breaks, one late start, one early finish, one absence.
    assert row(html, "user", team.bob) == ["2", "16:00", "0:30", "1", "1", "1 · 0:41"]
    assert row(html, "user", team.hannah) == ["2", "17:40", "0:00", "0", "0", "0 · 0:00"]
    assert row(html, "user", team.carol) == ["1", "4:00", "0:00", "0", "1", "0 · 0:00"]
    assert row(html, "user", server.admin_id) == ["0", "0:00", "0:00", "0", "0", "0 · 0:00"]
    assert (figure(html, "worked"), figure(html, "breaks"), figure(html, "days")) == (
        "37:40", "0:30", "5",
    )  # fmt: skip
    # Sales counts its own two people.
    assert row(html, "department", team.sales) == ["2", "4", "33:40", "0:30", "1", "1", "1 · 0:41"]
    # The bars: Monday 17:00 of work and 0:30 of breaks together. The heat map
    # shades the hours per person who worked: Monday 8:30 each, Tuesday 6:53.
    monday = re.search(r'<g class="day" data-date="2026-03-02">\s*<title>([^<]+)</title>', html)
    assert monday.group(1) == "2026-03-02: worked 17:00, breaks 0:30"
    assert re.search(
        r'data-date="2026-03-02" data-level="4">\s*<title>2026-03-02: 17:00 worked by 2<', html
    )
    assert re.search(r'data-date="2026-03-03" data-level="3"', html)
    assert re.search(r'data-date="2026-03-04" data-level="0"', html)
    assert html.count('<rect class="level-') == 31

    # One person, one department: the same figures, fewer rows.
    bob = server.http.get("/reports", params={**MARCH, "user": team.bob}).text
    assert figure(bob, "worked") == "16:00" and 'id="departments"' not in bob
    sales = server.http.get("/reports", params={**MARCH, "department": team.sales}).text
    assert figure(sales, "worked") == "33:40" and f'data-user="{team.carol}"' not in sales


@sqlite_only
def test_who_sees_whose_report(server, team):
    work(server, team.bob, "09:00", "17:00")
    work(server, team.carol, "09:00", "17:00")
    # A person sees themselves only.
    log_in(server, str(team.bob))
    own = server.http.get("/reports", params=MARCH)
    assert own.status_code == 200 and figure(own.text, "worked") == "8:00"
    assert f'data-user="{team.carol}"' not in own.text and 'name="user"' not in own.text
    for params in ({"user": team.carol}, {"user": team.hannah}, {"department": team.sales}):
        for path in ("/reports", "/reports.csv", "/reports.xlsx"):
            refused = server.http.get(path, params={**MARCH, **params})
            assert refused.status_code == 403, (path, params)
            assert "the people you manage" in refused.text
    # A head sees their department's people and those of departments below it,
    # not others.
    inside = server.run(admin.add_department, server.store, name="Inside", parent_id=team.sales).id
    ivy = server.add_user("Ivy", "Below", department_ids=[inside])
    work(server, ivy, "09:00", "12:00")
    log_in(server, str(team.hannah))
    head = server.http.get("/reports", params=MARCH).text
    assert f'data-user="{team.bob}"' in head and f'data-user="{team.carol}"' not in head
    assert f'data-user="{ivy}"' in head and f'data-department="{inside}"' in head
    sales = server.http.get("/reports", params={**MARCH, "department": team.sales}).text
    assert figure(sales, "worked") == "11:00"  # Bob's 8:00 and Ivy's 3:00
    assert row(sales, "department", team.sales)[:3] == ["2", "1", "8:00"]  # its own people
    inner = server.http.get("/reports", params={**MARCH, "department": inside}).text
    assert figure(inner, "worked") == "3:00"
    assert server.http.get("/reports", params={**MARCH, "user": team.bob}).status_code == 200
    assert server.http.get("/reports", params={**MARCH, "user": team.carol}).status_code == 403
    assert server.http.get("/reports.csv", params={**MARCH, "user": team.bob}).status_code == 200
    # An administrator sees everyone; nobody logged in sees nothing.
    log_in(server, "1")
    assert server.http.get("/reports", params={**MARCH, "user": team.carol}).status_code == 200
    server.http.cookies.clear()
    for path in ("/reports", "/reports.csv", "/reports.xlsx"):
        away = server.http.get(path, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == "/login"


@sqlite_only
def test_a_department_counts_the_people_it_shows(server, team):
    """Someone dismissed before the period is not listed, so their department does
    not count them either; someone dismissed after working in it is, and does."""
    gone = server.add_user("Gone", "Before", department_ids=[team.sales])
    left = server.add_user("Left", "After", department_ids=[team.sales])
    work(server, team.bob, "09:00", "17:00")
    work(server, left, "09:00", "13:00")
    for person in (gone, left):
        server.run(admin.update_user, server.store, server.clock.now(), person, active=False)
    log_in(server, str(team.hannah))
    html = server.http.get("/reports", params=MARCH).text
    assert f'data-user="{gone}"' not in html and f'data-user="{left}"' in html
    # Hannah, Bob and Left: three people, two days, 12 hours.
    assert row(html, "department", team.sales)[:4] == ["3", "2", "12:00", "0:00"]
    book = openpyxl.load_workbook(
        io.BytesIO(server.http.get("/reports.xlsx", params=MARCH).content)
    )
    units = {r[0].value: r for r in book["Departments"].iter_rows(min_row=2)}
    assert units[team.sales][2].value == 3


@sqlite_only
def test_the_csv_opens_cleanly_and_runs_no_formula(server, team):
    evil = server.add_user('=HYPERLINK("http://x")', "@SUM(1)")
    server.run(admin.set_password, server.store, evil, PASSWORD)
    work(server, team.bob, "08:30", "17:00", ("12:00", "12:30"))
    work(server, evil, "10:00", "12:00")
    log_in(server, "1")
    answer = server.http.get("/reports.csv", params={**MARCH, "department": ""})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="report-2026-03.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "ID", "Person", "Departments", "Date", "Started", "Finished", "Worked", "Breaks",
        "Late start", "Early finish", "Absences", "Absent time",
    ]  # fmt: skip
    by_person = {r[0]: r for r in rows[1:]}
    assert by_person[str(team.bob)] == [
        str(team.bob), "Bob Builder", "Sales", "2026-03-02", "08:30", "17:00",
        "08:00:00", "00:30:00", "0", "1", "0", "00:00:00",
    ]  # fmt: skip
    name = by_person[str(evil)][1]
    assert name == '\'=HYPERLINK("http://x") @SUM(1)'
    assert by_person[str(evil)][8] == "1"  # 10:00 is after 09:15
    assert b"\r\n" in answer.content


@sqlite_only
def test_the_csv_disarms_formulas_behind_blanks_and_wide_signs(server, team):
    """Spreadsheets skip leading spaces (and no-break spaces) before looking for a
    formula, and Excel reads the full-width signs as the ASCII ones."""
    names = ["  =1+1", "\u00a0@SUM(1)", "\uff1dHYPERLINK(1)", " \t-2+3", "Zoë Łukasz"]
    people = {server.add_user(first, "x"): first for first in names}
    for person in people:
        work(server, person, "10:00", "12:00")
    log_in(server, "1")
    answer = server.http.get("/reports.csv", params=MARCH)
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    shown = {int(r[0]): r[1] for r in rows[1:]}
    for person, first in people.items():
        armed = first != "Zoë Łukasz"
        assert shown[person] == ("'" if armed else "") + first + " x", first


@sqlite_only
def test_the_xlsx_has_dates_durations_and_sheets(server, team):
    work(server, team.bob, "08:30", "17:00", ("12:00", "12:30"))
    next_day(server)
    work(server, team.bob, "09:00", "18:00")
    log_in(server, "1")
    answer = server.http.get("/reports.xlsx", params={"period": "week", "date": "2026-03-04"})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="report-2026-W10.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Days", "People", "Departments"]
    days = book["Days"]
    assert [c.value for c in days[1]][:8] == [
        "ID", "Person", "Departments", "Date", "Started", "Finished", "Worked", "Breaks",
    ]  # fmt: skip
    first = days[2]
    assert first[0].value == team.bob and first[1].value == "Bob Builder"
    assert first[3].value == datetime(2026, 3, 2) and first[3].number_format == "yyyy-mm-dd"
    assert first[4].value == time(8, 30) and first[5].value == time(17, 0)
    # Durations are numbers a spreadsheet adds up (openpyxl reads them as spans).
    assert first[6].value == timedelta(hours=8) and first[6].number_format == "[h]:mm:ss"
    assert first[7].value == timedelta(minutes=30) and first[7].number_format == "[h]:mm:ss"
    assert days[3][3].value == datetime(2026, 3, 3) and days[3][9].value == 0
    assert days.column_dimensions["B"].width > 20 and days.freeze_panes == "A2"
    people = {r[0].value: r for r in book["People"].iter_rows(min_row=2)}
    assert people[team.bob][3].value == 2
    assert people[team.bob][4].value == timedelta(hours=17)
    units = {r[0].value: r for r in book["Departments"].iter_rows(min_row=2)}
    assert units[team.sales][1].value == "Sales" and units[team.sales][2].value == 2


@sqlite_only
def test_weeks_months_and_their_neighbours(server, team):
    work(server, team.bob, "09:00", "17:00")
    log_in(server, str(team.bob))
    week = server.http.get("/reports", params={"period": "week", "date": "2026-03-04"}).text
    assert 'id="period">2026-03-02 – 2026-03-08<' in week and figure(week, "worked") == "8:00"
    assert 'href="/reports?period=week&amp;date=2026-02-23" rel="prev"' in week
    assert 'href="/reports?period=week&amp;date=2026-03-09" rel="next"' in week
    # Today's month by default; the month before it has nothing.
    default = server.http.get("/reports").text
    assert 'id="period">2026-03-01 – 2026-03-31<' in default
    assert 'href="/reports?period=month&amp;date=2026-02-01" rel="prev"' in default
    february = server.http.get("/reports", params={"period": "month", "date": "2026-02-10"}).text
    assert figure(february, "days") == "0" and "No workdays in this period." in february
    span = {"period": "range", "from": "2026-03-01", "to": "2026-03-02"}
    assert figure(server.http.get("/reports", params=span).text, "worked") == "8:00"
    # A day going on counts up to now, a pause going on as a break.
    next_day(server)
    server.clock.set(server.clock.now().replace(hour=9, minute=0))
    call(server, "timeman.open", USER_ID=team.bob)
    server.clock.advance(2 * HOUR)
    call(server, "timeman.pause", USER_ID=team.bob)
    server.clock.advance(HOUR)
    week = server.http.get("/reports", params={"period": "week"}).text
    assert (figure(week, "worked"), figure(week, "breaks"), figure(week, "days")) == (
        "10:00", "1:00", "2",
    )  # fmt: skip


@sqlite_only
@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-02-30"},
        {"date": "yesterday"},
        {"date": "99999-01-01"},
        {"date": "0001-01-01"},
        {"date": "2026-W10-1"},
        {"period": "range", "from": "2026-W10-1", "to": "2026-03-09"},
        {"period": "year"},
        {"period": "range", "from": "2026-01-01", "to": "2026-12-31"},
        {"period": "range", "from": "2026-03-02", "to": "2026-03-01"},
        {"period": "range", "from": "2026-03-02"},
        {"user": "abc"},
        {"user": "-1"},
        {"user": "99999999999"},
        {"department": "1e3"},
        {"user": "1\x00"},
        {"date": "2026-03-01" * 10},
        {f"p{i}": "x" for i in range(20)},
    ],
)
def test_hostile_queries_are_refused(server, team, params):
    log_in(server, "1")
    for path in ("/reports", "/reports.csv", "/reports.xlsx"):
        answer = server.http.get(path, params=params)
        assert answer.status_code == 400, (path, answer.text)
        assert "<title>" in answer.text and "Traceback" not in answer.text


# --- in Chromium ------------------------------------------------------------------------


@pytest.mark.process
def test_the_xlsx_downloaded_from_the_page(chromium, web_server, tmp_path):
    """The administrator's month in Chromium (no console errors, no page wider than
    a phone), the XLSX link clicked, and the file's cells read back."""
    web_server.cli("user", "password", "1", "--password", PASSWORD)
    worker = int(web_server.cli("user", "add", "--name", "Wanda", "--last-name", "Worker"))
    web_server.dev("/_b24local/clock", {"now": "2026-03-02T08:00:00+00:00", "freeze": True})
    web_server.rest("timeman.open", USER_ID=worker)
    web_server.dev("/_b24local/clock/advance", {"seconds": 4 * HOUR})
    web_server.rest("timeman.pause", USER_ID=worker)
    web_server.dev("/_b24local/clock/advance", {"seconds": 45 * MINUTE})
    web_server.rest("timeman.open", USER_ID=worker)
    web_server.dev("/_b24local/clock/advance", {"seconds": 4 * HOUR})
    web_server.rest("timeman.close", USER_ID=worker)  # 08:00–16:45, 0:45 of breaks

    context = chromium.new_context(ignore_https_errors=True, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list = []
    page.on("console", lambda message: message.type == "error" and errors.append(message))
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(web_server.url + "/login")
    page.get_by_label("Login (e-mail or user ID)").fill("1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/day")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports")
    assert page.locator(f'tr[data-user="{worker}"] td').nth(1).inner_text() == "8:00"
    assert page.locator('g[data-date="2026-03-02"] rect.work').count() == 1

    with page.expect_download() as started:
        page.get_by_role("link", name="Excel (XLSX)").click()
    download = started.value
    assert download.suggested_filename == "report-2026-03.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    days = openpyxl.load_workbook(saved)["Days"]
    (cells,) = [r for r in days.iter_rows(min_row=2) if r[0].value == worker]
    assert [c.value for c in cells[1:8]] == [
        "Wanda Worker", "Company", datetime(2026, 3, 2), time(8, 0), time(16, 45),
        timedelta(hours=8), timedelta(minutes=45),
    ]  # fmt: skip
    assert (cells[8].value, cells[9].value) == (0, 1)  # on time; finished before 17:45

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert errors == []
    context.close()
