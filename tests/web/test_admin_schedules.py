"""The administration pages of work schedules: a schedule added, changed and deleted
on the page through ``schedule_admin`` (what ``b24local schedule`` calls), seen over
REST afterwards (``timeman.schedule.get``, and ``timeman.settings`` of a person it
applies to); the schedule rules' refusals shown on the form; only administrators
get in; CSRF and hostile forms are refused, never a 500."""

from __future__ import annotations

from html import unescape

import pytest

from adminforms import alert, log_in, post, rest
from b24local import admin, schedule_admin
from loginform import token_in

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

#: A new schedule's form as the page sends it: one shift, 08:00-17:00 on weekdays.
FORM: dict = {
    "name": "Office",
    "type": "FIXED",
    "period": "MONTH",
    "week_start": "0",
    "browser": "on",
    "shift-0-name": "Day",
    "shift-0-start": "08:00",
    "shift-0-end": "17:00",
    "shift-0-break": "01:00",
    "shift-0-days": ["1", "2", "3", "4", "5"],
    "shift-1-name": "",
    "shift-1-start": "",
    "shift-1-end": "",
    "shift-1-break": "",
    "days_off": "2026-12-24\n2026-12-25",
    "working_days": "2026-12-27",
    "rule-MAX_ALLOWED_TO_EDIT_WORK_TIME": "00:05",
    "rule-MIN_DAY_DURATION": "",
}


def schedule_of(server, schedule_id: int) -> dict:
    return rest(server, "timeman.schedule.get", {"ID": schedule_id})


def settings_of(server, user: int) -> dict:
    return rest(server, "timeman.settings", {"USER_ID": user})


def hours(found: dict) -> tuple:
    return (found["UF_TM_FREE"], found["UF_TM_MAX_START"], found["UF_TM_MIN_FINISH"],
            found["UF_TM_MIN_DURATION"], found["UF_TM_ALLOWED_DELTA"])  # fmt: skip


def test_an_administrator_adds_changes_and_deletes_a_schedule(server):
    sales = server.run(admin.add_department, server.store, name="Sales").id
    seller = server.add_user("Sam", "Seller", department_ids=[sales])
    boss = server.add_user("Bea", "Boss", department_ids=[sales])
    before = hours(settings_of(server, seller))
    log_in(server, server.admin_id)
    listed = server.http.get("/admin/schedules")
    assert listed.status_code == 200 and 'href="/admin/schedules/new"' in listed.text
    blank = server.http.get("/admin/schedules/new")
    assert blank.status_code == 200 and 'value="09:00"' in blank.text

    # Added: for Sales, its boss left out.
    form = {**FORM, "departments": str(sales), "excluded_users": str(boss)}
    answer = post(server, "/admin/schedules/new", form)
    assert answer.status_code == 303, alert(answer.text) or answer.text
    where = answer.headers["location"]
    schedule_id = int(where.split("/")[-1].split("?")[0])
    assert "The schedule was added." in server.http.get(where).text
    found = schedule_of(server, schedule_id)
    assert (found["NAME"], found["SCHEDULE_TYPE"], found["DELETED"]) == ("Office", "FIXED", "0")
    assert found["CREATED_BY"] == server.admin_id
    assert [(s["NAME"], s["WORK_TIME_START"], s["WORK_TIME_END"], s["WORK_DAYS"],
             s["BREAK_DURATION"]) for s in found["SHIFTS"]] == [
        ("Day", 8 * 3600, 17 * 3600, "12345", 3600)
    ]  # fmt: skip
    assert found["CALENDAR"]["EXCLUSIONS"] == {"2026": {"12": {"24": 0, "25": 0, "27": 1}}}
    assert found["SCHEDULE_VIOLATION_RULES"]["MAX_ALLOWED_TO_EDIT_WORK_TIME"] == 300
    assert found["SCHEDULE_VIOLATION_RULES"]["MIN_DAY_DURATION"] == -1
    # Its hours are the seller's, not the boss's.
    assert hours(settings_of(server, seller)) == (False, "08:00:00", "17:00:00", "08:00:00",
                                                  "00:05:00")  # fmt: skip
    assert hours(settings_of(server, boss)) == before

    # Changed: flexible, a night shift, a latest start, the seller named and excluded
    # as well (left out wins), the calendar emptied, a second shift added then removed.
    page = server.http.get(where).text
    assert 'value="Office"' in page and "Sam Seller" in page
    changed = {
        **form, "name": "Nights", "type": "SHIFT", "period": "WEEK", "week_start": "6",
        "shift-0-start": "22:00", "shift-0-end": "06:00", "shift-0-break": "00:30",
        "shift-0-days": ["5", "6"], "shift-1-start": "10:00", "shift-1-end": "12:00",
        "shift-1-remove": "on", "days_off": "", "working_days": "",
        "rule-MAX_EXACT_START": "22:10", "rule-MAX_WORK_TIME_LACK_FOR_PERIOD": "30:00",
        "users": str(seller), "excluded_users": [str(boss)],
    }  # fmt: skip
    del changed["browser"]
    answer = post(server, f"/admin/schedules/{schedule_id}", changed)
    assert answer.status_code == 303, alert(answer.text) or answer.text
    found = schedule_of(server, schedule_id)
    assert (found["NAME"], found["SCHEDULE_TYPE"], found["REPORT_PERIOD"]) == (
        "Nights", "SHIFT", "WEEK",
    )  # fmt: skip
    assert found["REPORT_PERIOD_OPTIONS"] == {"START_WEEK_DAY": 6}
    assert found["ALLOWED_DEVICES"] == {"browser": False}
    assert found["UPDATED_BY"] == server.admin_id
    assert [(s["WORK_TIME_START"], s["WORK_TIME_END"], s["WORK_DAYS"], s["BREAK_DURATION"])
            for s in found["SHIFTS"]] == [(22 * 3600, 6 * 3600, "56", 1800)]  # fmt: skip
    assert found["CALENDAR"]["EXCLUSIONS"] == []
    rules = found["SCHEDULE_VIOLATION_RULES"]
    assert (rules["MAX_EXACT_START"], rules["MAX_WORK_TIME_LACK_FOR_PERIOD"]) == (
        22 * 3600 + 600, 30 * 3600,
    )  # fmt: skip
    assert rules["MAX_ALLOWED_TO_EDIT_WORK_TIME"] == 300
    assert settings_of(server, seller)["UF_TM_MAX_START"] == "22:10:00"
    # Saved as shown, nothing changes (its shifts keep their IDs).
    page = server.http.get(f"/admin/schedules/{schedule_id}").text
    assert 'value="22:10"' in page and 'value="30:00"' in page
    shift_ids = [s["ID"] for s in found["SHIFTS"]]
    again = {**changed, "shift-1-start": "", "shift-1-end": "", "shift-1-remove": ""}
    assert post(server, f"/admin/schedules/{schedule_id}", again).status_code == 303
    assert [s["ID"] for s in schedule_of(server, schedule_id)["SHIFTS"]] == shift_ids

    # Left out: the seller's settings are the portal's again.
    answer = post(server, f"/admin/schedules/{schedule_id}",
                  {**changed, "excluded_users": [str(boss), str(seller)]})  # fmt: skip
    assert answer.status_code == 303
    assert hours(settings_of(server, seller)) == before

    # Deleted: still found, marked so, and applies to no one.
    answer = post(server, f"/admin/schedules/{schedule_id}/delete", {},
                  token_from=f"/admin/schedules/{schedule_id}")  # fmt: skip
    assert answer.status_code == 303
    assert "The schedule was deleted" in server.http.get(answer.headers["location"]).text
    found = schedule_of(server, schedule_id)
    assert (found["DELETED"], found["DELETED_BY"]) == ("1", server.admin_id)
    shown = server.http.get(f"/admin/schedules/{schedule_id}").text
    assert "<dd data-applies>Nobody</dd>" in shown and 'name="csrf_token"' in shown
    assert "/delete" not in shown and 'name="shift-0-start"' not in shown


@sqlite_only
def test_the_schedule_rules_refusals_are_shown_on_the_form(server):
    plain = server.add_user("Plain", "User")
    log_in(server, server.admin_id)
    for fields, words in [
        ({"name": "  "}, "NAME is required"),
        ({"shift-0-end": "08:00"}, "a shift cannot end when it starts"),
        ({"shift-0-start": "25:00"}, "WORK_TIME_START must be HH:MM[:SS]"),
        ({"shift-0-break": "01:75"}, "BREAK_DURATION must be HH:MM[:SS]"),
        ({"shift-0-start": "0800"}, "Shift 1: write its start, end and break as HH:MM"),
        ({"shift-0-days": []}, "WORK_DAYS must be digits 1-7"),
        ({"shift-0-days": ["8"]}, "WORK_DAYS must be digits 1-7"),
        ({"shift-1-start": "10:00"}, "Shift 2: write its start, end and break as HH:MM"),
        (
            {"shift-1-start": "10:00", "shift-1-end": "10:00", "shift-1-days": "7"},
            "shift 2: a shift cannot end",
        ),
        ({"type": "WEEKLY"}, "SCHEDULE_TYPE must be one of FIXED, SHIFT, FLEXTIME"),
        ({"period": "DAY"}, "REPORT_PERIOD must be one of"),
        ({"week_start": "7"}, "START_WEEK_DAY must be between 0 and 6"),
        ({"days_off": "2026-02-30"}, "calendar exclusion '2026-02-30' is not a date"),
        ({"working_days": "tomorrow"}, "calendar exclusion 'tomorrow' is not a date"),
        ({"rule-MIN_DAY_DURATION": "8"}, "MIN_DAY_DURATION: write it as HH:MM"),
        ({"rule-MAX_EXACT_START": "24:00"}, "MAX_EXACT_START must be HH:MM[:SS]"),
        ({"rule-MIN_OFFSET_END": "00:99"}, "MIN_OFFSET_END must be H:MM[:SS]"),
        ({"rule-MAX_WORK_TIME_LACK_FOR_PERIOD": "999999:00"}, "must be H:MM[:SS]"),
        ({"users": "4242"}, "no user 4242"),
        ({"excluded_departments": "4242"}, "no department 4242"),
    ]:
        answer = post(server, "/admin/schedules/new", {**FORM, **fields})
        assert answer.status_code == 400, fields
        assert words in unescape(alert(answer.text)), (fields, alert(answer.text))
        # What was sent is kept in the form.
        assert "2026-12-27</textarea>" in answer.text or "working_days" in fields
        assert 'name="shift-0-name" maxlength="255" value="Day"' in answer.text
    assert rest(server, "timeman.settings", {"USER_ID": plain})["UF_TM_MAX_START"] == "09:15:00"
    assert schedule_admin_count(server) == 0

    # A flexible schedule may have no shift at all.
    flexible = {k: v for k, v in FORM.items() if not k.startswith("shift-")}
    answer = post(server, "/admin/schedules/new", {**flexible, "type": "FLEXTIME"})
    assert answer.status_code == 303, alert(answer.text)
    schedule_id = int(answer.headers["location"].split("/")[-1].split("?")[0])
    assert rest(server, "timeman.schedule.get", {"ID": schedule_id})["SHIFTS"] == []
    # A change refused leaves it as it was, with what was sent on the form.
    answer = post(server, f"/admin/schedules/{schedule_id}",
                  {**flexible, "type": "FLEXTIME", "name": "Renamed", "users": "4242"})  # fmt: skip
    assert answer.status_code == 400 and 'value="Renamed"' in answer.text
    assert rest(server, "timeman.schedule.get", {"ID": schedule_id})["NAME"] == "Office"


def schedule_admin_count(server) -> int:
    return len(server.run(schedule_admin.list_schedules, server.store, deleted=True))


@sqlite_only
def test_schedule_pages_are_for_administrators(server):
    plain = server.add_user("Plain", "User")
    office = server.run(schedule_admin.add_schedule, server.store, {"NAME": "Office"},
                        server.clock.now())  # fmt: skip
    log_in(server, plain)
    token = token_in(server.http.get("/day").text)
    for path in ("/admin/schedules", "/admin/schedules/new", f"/admin/schedules/{office.id}"):
        answer = server.http.get(path)
        assert answer.status_code == 403, path
        assert "Only administrators" in answer.text
    for path in ("/admin/schedules/new", f"/admin/schedules/{office.id}",
                 f"/admin/schedules/{office.id}/delete"):  # fmt: skip
        answer = server.http.post(path, data={**FORM, "users": str(plain), "csrf_token": token})
        assert answer.status_code == 403, path
    assert schedule_admin_count(server) == 1
    found = rest(server, "timeman.schedule.get", {"ID": office.id})
    assert (found["NAME"], found["DELETED"]) == ("Office", "0")
    server.http.cookies.clear()
    assert server.http.get("/admin/schedules/new", follow_redirects=False).status_code == 303


@sqlite_only
def test_hostile_schedule_forms_are_refused(server):
    office = server.run(schedule_admin.add_schedule, server.store, {"NAME": "Office"},
                        server.clock.now())  # fmt: skip
    log_in(server, server.admin_id)
    new = "/admin/schedules/new"
    for fields, status in [
        ({"users": "abc"}, 400),
        ({"departments": "0"}, 400),
        ({"excluded_users": "99999999999999999999"}, 400),
        ({"browser": "Y"}, 400),
        ({"shift-0-remove": "yes"}, 400),
        ({"name": "x\x00"}, 400),
        ({"name": "x" * 5000}, 400),
        ({"days_off": "2026-01-01 " * 1000}, 400),
        ({"users": [str(i) for i in range(1, 1200)]}, 400),  # more fields than a form has
        ({"users": ["1"] * 900}, 303),  # the same person, chosen once
        ({"shift-0-name": ["y" * 1990] * 40}, 413),  # more than a form of ours sends
    ]:
        answer = post(server, new, {**FORM, **fields})
        assert answer.status_code == status, (list(fields), answer.status_code)
    # Rows past the last a schedule can hold are not read.
    answer = post(server, new, {**FORM, "shift-51-start": "x", "shift-99999-end": "y"})
    assert answer.status_code == 303, alert(answer.text)
    for path, status in [("/admin/schedules/x", 404), ("/admin/schedules/0", 404),
                         ("/admin/schedules/99999999999999999999", 404),
                         (f"/admin/schedules/{office.id + 100}", 404)]:  # fmt: skip
        assert server.http.get(path).status_code == status, path
    assert post(server, f"/admin/schedules/{office.id + 100}/delete", {},
                token_from="/admin/schedules").status_code == 404  # fmt: skip

    # CSRF: no token, or a post from another site.
    answer = server.http.post(new, data=FORM)
    assert answer.status_code == 403
    token = token_in(server.http.get(new).text)
    answer = server.http.post(f"/admin/schedules/{office.id}/delete",
                              data={"csrf_token": token},
                              headers={"Origin": "https://evil.example"})  # fmt: skip
    assert answer.status_code == 403
    assert rest(server, "timeman.schedule.get", {"ID": office.id})["DELETED"] == "0"

    # A deleted schedule is shown, not changed; deleting it again changes nothing.
    server.run(schedule_admin.remove_schedule, server.store, office.id, server.clock.now())
    answer = post(server, f"/admin/schedules/{office.id}", FORM, token_from=new)
    assert answer.status_code == 409
    assert rest(server, "timeman.schedule.get", {"ID": office.id})["NAME"] == "Office"
    answer = post(server, f"/admin/schedules/{office.id}/delete", {}, token_from=new)
    assert answer.status_code == 303


@sqlite_only
def test_schedules_are_listed_and_shown(server):
    plain = server.add_user("Plain", "Worker")
    sales = server.run(admin.add_department, server.store, name="Sales <b>").id
    definition = {
        "NAME": "Office <hours>",
        "SHIFTS": [{"WORK_TIME_START": 28800, "WORK_TIME_END": 61200, "WORK_DAYS": "12345",
                    "BREAK_DURATION": 3600, "NAME": "Day"}],
        "CALENDAR": {"EXCLUSIONS": {"2026-12-24": 0, "2026-12-27": 1}},
        "ASSIGNMENTS": {"USERS": [plain], "DEPARTMENTS": [sales]},
    }  # fmt: skip
    now = server.clock.now()
    office = server.run(schedule_admin.add_schedule, server.store, definition, now)
    gone = server.run(schedule_admin.add_schedule, server.store, {"NAME": "Old"}, now)
    server.run(schedule_admin.remove_schedule, server.store, gone.id, now)

    log_in(server, server.admin_id)
    listed = server.http.get("/admin/schedules")
    assert listed.status_code == 200
    assert "Work schedules: 1" in listed.text and "Office &lt;hours&gt;" in listed.text
    assert f'data-schedule="{gone.id}" data-deleted' in listed.text
    assert "08:00–17:00" in listed.text and "People: 1 · departments: 1" in listed.text

    shown = server.http.get(f"/admin/schedules/{office.id}").text
    assert "08:00–17:00 Mon Tue Wed Thu Fri" in shown and 'value="01:00"' in shown
    assert "Plain Worker" in shown and "Sales &lt;b&gt;" in shown
    assert 'data-exclusion="2026-12-24">2026-12-24: a day off' in shown
    assert 'data-exclusion="2026-12-27">2026-12-27: a working day' in shown

    # The work-time page says the schedule decides the person's hours.
    page = server.http.get(f"/admin/worktime?user={plain}").text
    assert "A work schedule applies to this person (Office &lt;hours&gt;)" in page

    assert "<dd data-applies>Nobody</dd>" in server.http.get(f"/admin/schedules/{gone.id}").text
    assert server.http.post("/admin/schedules").status_code == 405
