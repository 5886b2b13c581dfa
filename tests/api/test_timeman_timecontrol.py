"""timeman.timecontrol.* through HTTP: absences found from presence during an open
workday, the monthly report, explanations, rights, and where days were opened from.

The clock starts frozen at 2026-03-02T08:30:00Z (a Monday), the portal's zone is
UTC; user 1 is the administrator and head of the root department; the test
client's peer is "testclient" unless a test picks another address.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from b24local import admin
from peers import client_from
from restcalls import call, error_of

MINUTE = 60
HOUR = 3600
SCOPES = ["timeman", "im"]
ACTIVE = {"ACTIVE": 1, "REGISTER_IDLE": "Y"}
DEFAULTS = {
    "active": False,
    "minimum_idle_for_report": 15,
    "register_offline": True,
    "register_idle": True,
    "register_desktop": True,
    "report_request_type": "none",
    "report_request_users": [],
    "report_simple_type": "none",
    "report_simple_users": [],
    "report_full_type": "none",
    "report_full_users": [],
}
ACCESS_ERROR = {
    "error": "ACCESS_ERROR",
    "error_description": "You don't have access to use this method",
}


def report(server, hook: str | None = None, **params):
    params = {"USER_ID": 1, "MONTH": 3, "YEAR": 2026, **params}
    return call(server, "timeman.timecontrol.reports.get", hook, **params)


def one_day(server, hook: str | None = None, **params) -> dict:
    (day,) = report(server, hook, **params)["report"]["days"]
    return day


def absences(day: dict) -> list[dict]:
    return [r for r in day["reports"] if r["type"] == "IDLE"]


def member(server, name: str = "Emily") -> tuple[int, str]:
    user_id = server.add_user(name)
    return user_id, server.add_webhook(user_id, SCOPES)


@pytest.fixture
def active(server):
    assert call(server, "timeman.timecontrol.settings.set", **ACTIVE) is True
    return server


# --- settings ----------------------------------------------------------------------------------


def test_settings_start_off_and_change_as_set(server):
    assert call(server, "timeman.timecontrol.settings.get") == DEFAULTS
    changes = {
        "ACTIVE": True,
        "MINIMUM_IDLE_FOR_REPORT": "20",
        "REGISTER_OFFLINE": 0,
        "REPORT_SIMPLE_TYPE": "user",
        "REPORT_SIMPLE_USERS": [3, "2", 3],
    }
    assert call(server, "timeman.timecontrol.settings.set", **changes) is True
    assert call(server, "timeman.timecontrol.settings.get") == {
        **DEFAULTS,
        "active": True,
        "minimum_idle_for_report": 20,
        "register_offline": False,
        "report_simple_type": "user",
        "report_simple_users": [3, 2],
    }


def test_active_false_leaves_the_module_on_but_zero_turns_it_off(active):
    call(active, "timeman.timecontrol.settings.set", ACTIVE=False)
    assert call(active, "timeman.timecontrol.settings.get")["active"] is True
    call(active, "timeman.timecontrol.settings.set", ACTIVE=0)
    assert call(active, "timeman.timecontrol.settings.get")["active"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"ACTIVE": "maybe"},
        {"REGISTER_IDLE": [1]},
        {"MINIMUM_IDLE_FOR_REPORT": "ten"},
        {"MINIMUM_IDLE_FOR_REPORT": -1},
        {"REPORT_FULL_TYPE": "some"},
        {"REPORT_FULL_USERS": "3"},
        {"REPORT_FULL_USERS": [{"id": 3}]},
    ],
)
def test_settings_of_the_wrong_type_are_refused_and_change_nothing(server, params):
    status, body = error_of(server.call("timeman.timecontrol.settings.set", params))
    assert (status, body["error"]) == (400, "INVALID_VALUE")
    assert call(server, "timeman.timecontrol.settings.get") == DEFAULTS


def test_only_administrators_read_or_change_settings(server):
    _, hook = member(server)
    for method in ("timeman.timecontrol.settings.get", "timeman.timecontrol.settings.set"):
        assert error_of(server.call(method, ACTIVE, hook=hook)) == (400, ACCESS_ERROR)
    assert call(server, "timeman.timecontrol.settings.get") == DEFAULTS


# --- absences ---------------------------------------------------------------------------------


def test_an_idle_stretch_in_an_open_day_is_an_absence_as_the_page_shows(active):
    call(active, "timeman.open")
    active.clock.advance(HOUR)
    call(active, "im.user.status.idle.start", AGO=5)  # idle since 09:25
    active.clock.advance(30 * MINUTE)
    call(active, "im.user.status.idle.end")  # back at 10:00
    active.clock.advance(HOUR)
    call(active, "timeman.close")  # 11:00
    got = report(active)
    assert got["report"]["month_title"] == "March"
    assert got["report"]["date_start"] == "2026-03-01T00:00:00+00:00"
    assert got["report"]["date_finish"] == "2026-03-31T23:59:59+00:00"
    assert got["user"] == {
        "id": 1,
        "active": True,
        "name": "Admin",
        "first_name": "Admin",
        "last_name": "",
        "work_position": "",
        "avatar": "",
        "personal_gender": "F",  # the real module's answer for anything but "M"
        "last_activity_date": "2026-03-02T10:00:00+00:00",
    }
    (day,) = got["report"]["days"]
    reports = day.pop("reports")
    assert day == {
        "index": "20260302",
        "day_title": "03/02/2026",
        "workday_date_start": "2026-03-02T08:30:00+00:00",
        "workday_date_finish": "2026-03-02T11:00:00+00:00",
        "workday_complete": True,
        "workday_time_leaks_user": 0,
        "workday_time_leaks_final": 8 * 3600 - (9000 - 2100),
        "workday_duration": 9000,
        "workday_duration_final": 9000 - 2100,
        "workday_duration_config": 28800,
        "workday_time_leaks_real": 2100,
    }
    assert [r["type"] for r in reports] == ["TM_START", "IDLE", "TM_END"]
    start, idle, end = reports
    assert idle == {
        "id": idle["id"],
        "user_id": "1",
        "type": "IDLE",
        "date_start": "2026-03-02T09:25:00+00:00",
        "date_finish": "2026-03-02T10:00:00+00:00",
        "duration": 2100,
        "active": False,
        "entry_id": start["entry_id"],
        "report_type": "NONE",
        "report_text": None,
        "system_text": None,
        "source_start": "IDLE_EVENT",
        "source_finish": "IDLE_EVENT",
        "ip_start": "testclient",
        "ip_finish": "testclient",
        # No office ranges set: every address counts as the office (networkrange.check).
        "ip_start_network": {"ip": "testclient", "range": "testclient", "name": "testclient"},
        "ip_finish_network": {"ip": "testclient", "range": "testclient", "name": "testclient"},
    }
    assert isinstance(idle["id"], str) and isinstance(start["entry_id"], str)
    assert (start["date_start"], start["duration"]) == ("2026-03-02T08:30:00+00:00", 0)
    assert (end["date_finish"], end["source_start"]) == ("2026-03-02T11:00:00+00:00", "TM_EVENT")


def test_nothing_is_recorded_while_time_control_is_off(server):
    call(server, "timeman.open")
    call(server, "im.user.status.idle.start", AGO=30)
    server.clock.advance(HOUR)
    call(server, "im.user.status.idle.end")
    assert report(server)["report"]["days"] == []


def test_away_before_the_day_counts_from_its_start_and_a_pause_ends_it(active):
    call(active, "im.user.status.set", STATUS="away")  # 08:30, before any day
    active.clock.advance(HOUR)
    call(active, "timeman.open")  # 09:30: absent from here
    active.clock.advance(HOUR)
    call(active, "timeman.pause")  # 10:30: the absence ends with the work
    active.clock.advance(HOUR)
    call(active, "timeman.open")  # 11:30: still away, a new absence begins
    active.clock.advance(20 * MINUTE)
    call(active, "im.user.status.set", STATUS="online")  # 11:50
    got = [(r["date_start"][11:19], r["date_finish"][11:19]) for r in absences(one_day(active))]
    assert got == [("09:30:00", "10:30:00"), ("11:30:00", "11:50:00")]
    assert [r["source_start"] for r in absences(one_day(active))] == ["TM_EVENT", "TM_EVENT"]


def test_an_absence_after_a_close_starts_at_the_resume_even_in_the_same_second(active):
    call(active, "im.user.status.idle.start", AGO=1)  # idle since 08:29
    call(active, "timeman.open")  # 08:30
    active.clock.advance(HOUR)
    call(active, "timeman.close")  # 09:30
    active.clock.advance(2 * HOUR)
    call(active, "timeman.pause")  # 11:30: the closed day goes on, paused
    call(active, "timeman.open")  # resumed within the second: the day keeps no break
    active.clock.advance(20 * MINUTE)
    call(active, "im.user.status.idle.end")  # 11:50
    got = [(r["date_start"][11:19], r["date_finish"][11:19]) for r in absences(one_day(active))]
    # Not 09:30-11:50: the user was not working while the day was closed.
    assert got == [("08:30:00", "09:30:00"), ("11:30:00", "11:50:00")]


def test_a_back_dated_idle_stops_at_a_reopening_in_the_same_second(active):
    call(active, "timeman.open")  # 08:30
    active.clock.advance(HOUR)
    call(active, "timeman.close")  # 09:30
    call(active, "timeman.open")  # reopened at once: no gap, no break
    active.clock.advance(30 * MINUTE)
    call(active, "im.user.status.idle.start", AGO=60)  # idle "since 09:00"
    active.clock.advance(20 * MINUTE)
    call(active, "im.user.status.idle.end")  # 10:20
    got = [(r["date_start"][11:19], r["date_finish"][11:19]) for r in absences(one_day(active))]
    assert got == [("09:30:00", "10:20:00")]


def test_a_running_absence_is_active_until_now(active):
    call(active, "timeman.open")
    call(active, "im.user.status.idle.start", AGO=1)
    active.clock.advance(HOUR)
    (running,) = absences(one_day(active))
    assert running["active"] is True
    assert running["date_finish"] == "2026-03-02T09:30:00+00:00"
    assert running["duration"] == 3600
    assert running["source_finish"] is None
    assert one_day(active)["workday_date_finish"] == "2026-03-02T09:30:00+00:00"
    assert one_day(active)["workday_complete"] is False


def test_switching_time_control_off_ends_the_absences_going_on(active):
    call(active, "timeman.open")
    call(active, "im.user.status.idle.start", AGO=1)
    active.clock.advance(HOUR)
    call(active, "timeman.timecontrol.settings.set", ACTIVE=0)
    active.clock.advance(HOUR)
    (ended,) = absences(one_day(active))
    assert (ended["active"], ended["date_finish"]) == (False, "2026-03-02T09:30:00+00:00")
    call(active, "im.user.status.idle.end")  # nothing is watched while off
    assert len(absences(one_day(active))) == 1


def test_an_absence_on_a_day_left_to_expire_ends_with_that_date(active):
    call(active, "timeman.open")
    call(active, "im.user.status.idle.start", AGO=1)
    active.clock.advance(24 * HOUR)  # the next morning, still idle, the day expired
    call(active, "im.user.status.idle.end")
    (ended,) = absences(one_day(active))
    assert (ended["date_finish"], ended["active"]) == ("2026-03-02T23:59:59+00:00", False)


def test_short_absences_are_left_out_unless_a_manager_lowers_the_bar(active):
    call(active, "timeman.open")
    active.clock.advance(HOUR)
    call(active, "im.user.status.idle.start", AGO=10)
    call(active, "im.user.status.idle.end")  # 10 minutes, the bar is 15
    day = one_day(active)
    assert absences(day) == [] and day["workday_time_leaks_real"] == 0
    assert len(absences(one_day(active, IDLE_MINUTES=5))) == 1
    assert one_day(active, WORKDAY_HOURS=6)["workday_duration_config"] == 6 * 3600


def test_a_day_in_another_month_is_in_that_months_report(active):
    call(active, "timeman.open")
    assert report(active, MONTH=2)["report"]["days"] == []
    assert report(active, MONTH=2)["report"]["date_finish"] == "2026-02-28T23:59:59+00:00"


def test_month_bounds_are_on_the_users_clock(active):
    user_id = active.run(
        admin.add_user, active.store, active.clock.now(), name="Kai", last_name="",
        time_zone="Asia/Tokyo",
    ).id  # fmt: skip
    got = report(active, USER_ID=user_id)["report"]
    assert (got["date_start"], got["date_finish"]) == (
        "2026-03-01T00:00:00+09:00",
        "2026-03-31T23:59:59+09:00",
    )


def test_a_day_belongs_to_the_month_of_the_users_clock(active):
    user_id = active.add_user("Kai", time_zone="Asia/Tokyo")
    hook = active.add_webhook(user_id, SCOPES)
    active.clock.set(datetime(2026, 3, 31, 16, 0, tzinfo=UTC), frozen=True)  # 1 April in Tokyo
    call(active, "timeman.open", hook)
    assert report(active, USER_ID=user_id, MONTH=3)["report"]["days"] == []
    (day,) = report(active, USER_ID=user_id, MONTH=4)["report"]["days"]
    assert (day["index"], day["workday_date_start"]) == ("20260401", "2026-04-01T01:00:00+09:00")


@pytest.mark.parametrize(
    "period", [{"MONTH": 13}, {"MONTH": 0}, {"YEAR": "x"}, {"YEAR": 1}, {"YEAR": 9999}]
)
def test_a_month_that_does_not_exist_is_refused(active, period):
    status, body = error_of(
        active.call("timeman.timecontrol.reports.get", {"USER_ID": 1, "MONTH": 3, **period})
    )
    assert (status, body["error"]) == (400, "WRONG_PERIOD")


# --- explanations ------------------------------------------------------------------------------


def _absence(server, hook: str | None = None, user_id: int = 1) -> dict:
    call(server, "timeman.open", hook)
    server.clock.advance(HOUR)
    call(server, "im.user.status.idle.start", hook, AGO=30)
    call(server, "im.user.status.idle.end", hook)
    # Read by the administrator: a plain user may have no view of the reports.
    (found,) = absences(one_day(server, USER_ID=user_id))
    return found


def test_a_work_explanation_makes_the_absence_work(active):
    found = _absence(active)
    assert one_day(active)["workday_time_leaks_real"] == 1800
    params = {"REPORT_ID": found["id"], "TEXT": "Client call", "TYPE": "WORK", "CALENDAR": "N"}
    assert call(active, "timeman.timecontrol.report.add", **params) is True
    day = one_day(active)
    (explained,) = absences(day)
    assert (explained["report_type"], explained["report_text"]) == ("WORK", "Client call")
    assert day["workday_time_leaks_real"] == 0


def test_an_explanation_is_private_by_default_and_id_may_name_it(active):
    found = _absence(active)
    assert call(active, "timeman.timecontrol.report.add", ID=found["id"], TEXT="Lunch") is True
    assert absences(one_day(active))[0]["report_type"] == "PRIVATE"


def test_an_explanation_needs_text(active):
    found = _absence(active)
    response = active.call("timeman.timecontrol.report.add", {"ID": found["id"], "TEXT": " "})
    assert error_of(response) == (
        400,
        {"error": "TEXT_EMPTY", "error_description": "Text can't be empty"},
    )


def test_only_an_administrator_explains_someone_elses_absence(active):
    user_id, hook = member(active)
    found = _absence(active, hook, user_id)
    mine = _absence(active)
    refused = {
        "error": "ACCESS_ERROR",
        "error_description": "You don't have access for this report",
    }
    for params in ({"ID": mine["id"]}, {"ID": 999}, {"ID": found["id"], "USER_ID": 1}):
        response = active.call("timeman.timecontrol.report.add", {**params, "TEXT": "x"}, hook=hook)
        assert error_of(response) == (400, refused)
    params = {"ID": found["id"], "USER_ID": user_id, "TEXT": "seen"}
    assert call(active, "timeman.timecontrol.report.add", **params) is True
    assert call(active, "timeman.timecontrol.report.add", hook, ID=found["id"], TEXT="me") is True


# --- rights and the report UI ------------------------------------------------------------------


METHOD_REFUSED = (
    400,
    {"error": "ACCESS_ERROR", "error_description": "You don't have access to this method"},
)
USER_REFUSED = (
    400,
    {
        "error": "USER_ACCESS_ERROR",
        "error_description": "You don't have access to report for this user",
    },
)


def test_what_the_settings_lists_let_a_plain_user_see(active):
    user_id, hook = member(active)
    _absence(active, hook, user_id)
    own = {"USER_ID": user_id, "MONTH": 3, "YEAR": 2026}
    others = {**own, "USER_ID": 1}
    # On neither list: no report at all, not even one's own.
    for params in (own, others):
        response = active.call("timeman.timecontrol.reports.get", params, hook=hook)
        assert error_of(response) == METHOD_REFUSED
    # The simple list: one's own days and figures, no records.
    call(active, "timeman.timecontrol.settings.set", REPORT_SIMPLE_TYPE="user",
         REPORT_SIMPLE_USERS=[user_id])  # fmt: skip
    day = one_day(active, hook, USER_ID=user_id)
    assert (day["reports"], day["workday_time_leaks_real"]) == ([], 1800)
    response = active.call("timeman.timecontrol.reports.get", others, hook=hook)
    assert error_of(response) == USER_REFUSED
    # The full list: the records, without what only managers see.
    call(active, "timeman.timecontrol.settings.set", REPORT_FULL_TYPE="all")
    day = one_day(active, hook, USER_ID=user_id)
    assert [r["type"] for r in day["reports"]] == ["TM_START", "IDLE"]
    for record in day["reports"]:
        assert not {"ip_start", "ip_finish", "ip_start_network", "ip_finish_network",
                    "system_text"} & set(record)  # fmt: skip
        assert record["source_start"] in ("TM_EVENT", "IDLE_EVENT")
    response = active.call("timeman.timecontrol.reports.get", others, hook=hook)
    assert error_of(response) == USER_REFUSED
    # The settings' IDLE_MINUTES override is for managers only.
    day = one_day(active, hook, USER_ID=user_id, IDLE_MINUTES=60)
    assert day["workday_time_leaks_real"] == 1800


def test_a_head_reads_their_own_report_as_a_manager(active):
    head_id, head_hook = member(active, "Ann")
    active.run(admin.add_department, active.store, name="Sales", head_id=head_id)
    _absence(active, head_hook, head_id)
    day = one_day(active, head_hook, USER_ID=head_id)
    idle = next(r for r in day["reports"] if r["type"] == "IDLE")
    assert idle["ip_start"] == "testclient" and idle["ip_start_network"] is not False


def test_an_absence_as_long_as_the_allowed_idle_is_not_counted(active):
    call(active, "timeman.open")
    active.clock.advance(HOUR)
    call(active, "im.user.status.idle.start", AGO=15)  # exactly the default 15 minutes
    call(active, "im.user.status.idle.end")
    day = one_day(active)
    assert (absences(day), day["workday_time_leaks_real"]) == ([], 0)
    assert absences(one_day(active, IDLE_MINUTES=14))[0]["duration"] == 15 * MINUTE


def test_a_head_sees_their_people_but_not_their_superiors(active):
    head_id, head_hook = member(active, "Ann")
    department = active.run(admin.add_department, active.store, name="Sales", head_id=head_id)
    worker = active.run(
        admin.add_user, active.store, active.clock.now(), name="Bob", last_name="",
        department_ids=[department.id],
    ).id  # fmt: skip
    assert report(active, head_hook, USER_ID=worker)["user"]["id"] == worker
    response = active.call(
        "timeman.timecontrol.reports.get", {"USER_ID": 1, "MONTH": 3, "YEAR": 2026}, hook=head_hook
    )
    assert error_of(response) == USER_REFUSED
    east = active.run(
        admin.add_department, active.store, name="Sales East", parent_id=department.id
    )
    got = call(active, "timeman.timecontrol.reports.settings.get", head_hook)
    assert got == {
        "active": True,
        "user_id": head_id,
        "user_admin": False,
        "user_head": True,
        # The departments headed and every one below them.
        "departments": [
            {"id": str(department.id), "name": "Sales"},
            {"id": str(east.id), "name": "Sales East"},
        ],
        "minimum_idle_for_report": 15,
        "report_view_type": "head",
    }
    people = call(
        active, "timeman.timecontrol.reports.users.get", head_hook, DEPARTMENT_ID=department.id
    )
    assert [p["id"] for p in people] == [worker]
    assert set(people[0]) == {
        "id", "name", "first_name", "last_name", "work_position", "avatar",
        "personal_gender", "last_activity_date",
    }  # fmt: skip
    # Somebody else's department: only oneself.
    mine = call(active, "timeman.timecontrol.reports.users.get", head_hook, DEPARTMENT_ID=1)
    assert [p["id"] for p in mine] == [head_id]


def test_report_settings_of_an_administrator_and_of_a_plain_user(active):
    got = call(active, "timeman.timecontrol.reports.settings.get")
    assert got["user_admin"] is True and got["report_view_type"] == "head"
    assert got["user_head"] is True  # an administrator counts as a head, as in the example
    assert got["departments"] == [{"id": "1", "name": "Company"}]
    _, hook = member(active)
    plain = call(active, "timeman.timecontrol.reports.settings.get", hook)
    assert (plain["user_head"], plain["departments"], plain["report_view_type"]) == (
        False,
        [],
        "none",
    )
    call(active, "timeman.timecontrol.settings.set", REPORT_SIMPLE_TYPE="all")
    assert (
        call(active, "timeman.timecontrol.reports.settings.get", hook)["report_view_type"]
        == "simple"
    )


# --- where days were opened and closed from -----------------------------------------------------


def test_open_and_close_record_the_address_checked_against_todays_office_network(active):
    office = [{"ip_range": "10.0.0.0-10.255.255.255", "name": "HQ"}]
    call(active, "timeman.networkrange.set", RANGES=office)
    for remote_ip, method in (("10.1.2.3", "timeman.open"), ("83.219.151.30", "timeman.close")):
        with client_from(active, remote_ip) as remote:
            assert remote.post(f"{active.webhook}{method}").status_code == 200
    start, end = one_day(active)["reports"]
    assert (start["ip_start"], start["ip_finish"]) == ("10.1.2.3", "10.1.2.3")
    hq = {"ip": "10.1.2.3", "range": "10.0.0.0-10.255.255.255", "name": "HQ"}
    assert start["ip_start_network"] == start["ip_finish_network"] == hq
    assert (end["type"], end["ip_start"], end["ip_start_network"]) == (
        "TM_END",
        "83.219.151.30",
        False,
    )
    # As on the real service, the check is made when the report is read.
    call(active, "timeman.networkrange.set", RANGES=[{"ip_range": "83.219.151.30", "name": "Lab"}])
    start, end = one_day(active)["reports"]
    assert start["ip_start_network"] is False
    assert end["ip_finish_network"]["name"] == "Lab"
