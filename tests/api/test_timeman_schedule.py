"""timeman.schedule.get through HTTP, and how a user's schedule shapes the workday
(timeman.settings, the REPORT an edit needs, TIME_FINISH_DEFAULT).

The clock starts frozen at 2026-03-02T08:30:00Z (a Monday), the portal's zone is
UTC, and user 1 is the administrator and head of the root department.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from b24local import admin, schedule_admin

#: The page's example answer (timeman/schedule/timeman-schedule-get.md).
EXAMPLE = json.loads(
    """
{
 "ID": 1,
 "NAME": "For all employees",
 "SCHEDULE_TYPE": "FIXED",
 "REPORT_PERIOD": "MONTH",
 "REPORT_PERIOD_OPTIONS": {
  "START_WEEK_DAY": 0
 },
 "CALENDAR_ID": 1,
 "ALLOWED_DEVICES": {
  "browser": true
 },
 "DELETED": "0",
 "IS_FOR_ALL_USERS": true,
 "WORKTIME_RESTRICTIONS": [
  "[]"
 ],
 "CONTROLLED_ACTIONS": 3,
 "UPDATED_BY": 503,
 "DELETED_BY": 0,
 "DELETED_AT": "",
 "CREATED_BY": 0,
 "CREATED_AT": "2019-09-19T21:22:22+02:00",
 "SHIFTS": [
  {
   "ID": 1,
   "NAME": "",
   "BREAK_DURATION": 3600,
   "WORK_TIME_START": 28800,
   "WORK_TIME_END": 61200,
   "WORK_DAYS": "12345",
   "SCHEDULE_ID": 1,
   "DELETED": false
  }
 ],
 "CALENDAR": {
  "ID": 1,
  "NAME": "",
  "PARENT_CALENDAR_ID": 0,
  "SYSTEM_CODE": "",
  "EXCLUSIONS": []
 },
 "SCHEDULE_VIOLATION_RULES": {
  "ID": 1,
  "SCHEDULE_ID": 1,
  "ENTITY_CODE": "UA",
  "MAX_EXACT_START": 28859,
  "MIN_EXACT_END": 61200,
  "MAX_OFFSET_START": -1,
  "MIN_OFFSET_END": -1,
  "RELATIVE_START_FROM": -1,
  "RELATIVE_START_TO": -1,
  "RELATIVE_END_FROM": -1,
  "RELATIVE_END_TO": -1,
  "MIN_DAY_DURATION": 28800,
  "MAX_ALLOWED_TO_EDIT_WORK_TIME": 300,
  "MAX_WORK_TIME_LACK_FOR_PERIOD": 3600,
  "PERIOD_TIME_LACK_AGENT_ID": 309429,
  "MAX_SHIFT_START_DELAY": -1,
  "MISSED_SHIFT_START": 0,
  "USERS_TO_NOTIFY": {
   "FIXED_START_END": [
    "U503"
   ],
   "FIXED_PER_RECORD": [
    "U503"
   ],
   "FIXED_EDIT_WORKTIME": [
    "U503"
   ],
   "FIXED_PERIODIC": [
    "U503"
   ],
   "SHIFT_DELAY": [],
   "SHIFT_MISSED_START": []
  }
 }
}
"""
)
OFFICE = {
    "NAME": "For all employees",
    "SHIFTS": [
        {"WORK_TIME_START": 28800, "WORK_TIME_END": 61200, "WORK_DAYS": "12345",
         "BREAK_DURATION": 3600},
    ],
    "SCHEDULE_VIOLATION_RULES": {
        "MAX_EXACT_START": 28859, "MIN_EXACT_END": 61200, "MIN_DAY_DURATION": 28800,
        "MAX_ALLOWED_TO_EDIT_WORK_TIME": 300, "MAX_WORK_TIME_LACK_FOR_PERIOD": 3600,
        "USERS_TO_NOTIFY": {k: ["U1"] for k in
                            ("FIXED_START_END", "FIXED_PER_RECORD", "FIXED_EDIT_WORKTIME",
                             "FIXED_PERIODIC")},
    },
}  # fmt: skip


def result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def call(server, method: str, hook: str | None = None, **params):
    return result(server.call(method, params, hook=hook))


def add(server, definition: dict) -> int:
    found = server.run(schedule_admin.add_schedule, server.store, definition, server.clock.now())
    return found.id


def assign(server, schedule_id: int, **changes) -> None:
    for_all = changes.pop("for_all", None)
    server.run(schedule_admin.assign_schedule, server.store, schedule_id, changes, for_all=for_all)


def move_to(server, moment: str) -> None:
    server.clock.set(datetime.fromisoformat(moment).replace(tzinfo=UTC), frozen=True)


def shape(value):
    """Keys and JSON types, all the way down (a list by its first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# --- timeman.schedule.get ------------------------------------------------------------------


def test_get_answers_field_for_field_as_the_page(server):
    schedule_id = add(server, {**OFFICE, "IS_FOR_ALL_USERS": True})
    found = call(server, "timeman.schedule.get", id=schedule_id)
    example = EXAMPLE
    assert shape(found) == shape(example)
    assert list(found) == list(example)
    # Everything but the IDs and moments that belong to the example's portal.
    same = ["NAME", "SCHEDULE_TYPE", "REPORT_PERIOD", "REPORT_PERIOD_OPTIONS",
            "ALLOWED_DEVICES", "DELETED", "IS_FOR_ALL_USERS", "WORKTIME_RESTRICTIONS",
            "CONTROLLED_ACTIONS", "DELETED_BY", "DELETED_AT", "CREATED_BY"]  # fmt: skip
    assert {k: found[k] for k in same} == {k: example[k] for k in same}
    assert found["CREATED_AT"] == "2026-03-02T08:30:00+00:00"
    shift = found["SHIFTS"][0]
    assert {**shift, "ID": 1} == {**example["SHIFTS"][0], "SCHEDULE_ID": schedule_id}
    assert found["CALENDAR"] == {**example["CALENDAR"], "ID": found["CALENDAR_ID"]}
    rules = {**found["SCHEDULE_VIOLATION_RULES"], "PERIOD_TIME_LACK_AGENT_ID": 309429}
    notify = {k: ["U503"] if v else v for k, v in rules["USERS_TO_NOTIFY"].items()}
    assert {**rules, "USERS_TO_NOTIFY": notify} == example["SCHEDULE_VIOLATION_RULES"]


@pytest.mark.parametrize("given", [{"id": 99}, {}, {"id": 0}, {"id": -1}, {"id": "abc"},
                                   {"id": []}, {"id": "1.5e400"}, {"id": 2**70}])  # fmt: skip
def test_no_such_schedule_is_an_empty_array(server, given):
    add(server, OFFICE)
    response = server.call("timeman.schedule.get", given)
    assert response.status_code == 200
    assert response.json()["result"] == []


def test_id_in_any_case_and_form_encoded(server):
    schedule_id = add(server, OFFICE)
    assert call(server, "timeman.schedule.get", ID=str(schedule_id))["ID"] == schedule_id
    response = server.http.get(f"{server.webhook}timeman.schedule.get?id={schedule_id}")
    assert result(response)["NAME"] == "For all employees"


def test_anyone_may_read_any_schedule(server):
    worker = server.add_user(name="Wendy")
    hook = server.add_webhook(worker, ["timeman"])
    schedule_id = add(server, OFFICE)
    assert call(server, "timeman.schedule.get", hook, id=schedule_id)["ID"] == schedule_id


def test_a_deleted_schedule_reads_as_deleted(server):
    schedule_id = add(server, OFFICE)
    server.clock.advance(3600)
    server.run(schedule_admin.remove_schedule, server.store, schedule_id, server.clock.now())
    found = call(server, "timeman.schedule.get", id=schedule_id)
    assert (found["DELETED"], found["DELETED_AT"]) == ("1", "2026-03-02T09:30:00+00:00")


def test_calendar_exclusions_as_the_calendar_keeps_them(server):
    schedule_id = add(
        server, {**OFFICE, "CALENDAR": {"EXCLUSIONS": {"2026-01-01": 0, "2026-01-03": 1}}}
    )
    found = call(server, "timeman.schedule.get", id=schedule_id)
    assert found["CALENDAR"]["EXCLUSIONS"] == {"2026": {"1": {"1": 0, "3": 1}}}


def test_the_method_is_in_the_timeman_scope(server):
    hook = server.add_webhook(server.admin_id, ["im"])
    response = server.call("timeman.schedule.get", {"id": 1}, hook=hook)
    assert (response.status_code, response.json()["error"]) == (403, "insufficient_scope")


# --- a schedule shapes the workday ----------------------------------------------------------

DEFAULTS = {
    "UF_TIMEMAN": True, "UF_TM_FREE": False, "UF_TM_MAX_START": "09:15:00",
    "UF_TM_MIN_FINISH": "17:45:00", "UF_TM_MIN_DURATION": "08:00:00",
    "UF_TM_ALLOWED_DELTA": "00:15:00", "ADMIN": True,
}  # fmt: skip


def test_settings_come_from_the_users_schedule(server):
    assert call(server, "timeman.settings") == DEFAULTS
    schedule_id = add(server, OFFICE)
    assert call(server, "timeman.settings") == DEFAULTS, "assigned to no one yet"
    assign(server, schedule_id, USERS=[1])
    assert call(server, "timeman.settings") == {
        **DEFAULTS,
        "UF_TM_MAX_START": "08:00:59",
        "UF_TM_MIN_FINISH": "17:00:00",
        "UF_TM_ALLOWED_DELTA": "00:05:00",
    }


def test_department_assignments_and_exclusions(server):
    sales = server.run(admin.add_department, server.store, name="Sales", parent_id=1).id
    seller = server.add_user(name="Sam", department_ids=[sales])
    other = server.add_user(name="Olga", department_ids=[1])
    flex = add(server, {"NAME": "Flexible", "SCHEDULE_TYPE": "FLEXTIME"})
    assign(server, flex, DEPARTMENTS=[1], EXCLUDED_USERS=[other])

    def free(user_id: int) -> bool:
        return call(server, "timeman.settings", USER_ID=user_id)["UF_TM_FREE"]

    assert free(seller) is True, "a department above the user's counts"
    assert free(other) is False, "excluded"
    assign(server, flex, EXCLUDED_DEPARTMENTS=[sales])
    assert free(seller) is False
    everyone = add(server, {"NAME": "Everyone", "SCHEDULE_TYPE": "FLEXTIME"})
    assign(server, everyone, for_all=True)
    assert free(seller) is True, "excluded from one, for all in the other"
    assert free(other) is True


def test_a_flexible_schedule_lifts_the_report_an_edit_needs(server):
    response = server.call("timeman.open", {"TIME": "2026-03-02T07:00:00+00:00"})
    assert response.json()["error"] == "REPORT_NEEDED"
    flex = add(server, {"NAME": "Flexible", "SCHEDULE_TYPE": "FLEXTIME", "IS_FOR_ALL_USERS": True})
    day = call(server, "timeman.open", TIME="2026-03-02T07:00:00+00:00")
    assert (day["STATUS"], day["ACTIVE"]) == ("OPENED", True), "no edit to approve either"
    server.clock.advance(3600)
    closed = call(server, "timeman.close", TIME="2026-03-02T09:00:00+00:00")
    assert closed["STATUS"] == "CLOSED"
    server.run(schedule_admin.remove_schedule, server.store, flex, server.clock.now())
    response = server.call("timeman.open", {"TIME": "2026-03-02T09:20:00+00:00"})
    assert response.json()["error"] == "REPORT_NEEDED", "a deleted schedule applies to no one"


def test_an_expired_day_is_expected_to_end_with_its_shift(server):
    add(server, {**OFFICE, "IS_FOR_ALL_USERS": True})
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    found = call(server, "timeman.status")
    assert found["STATUS"] == "EXPIRED"
    assert found["TIME_FINISH_DEFAULT"] == "2026-03-02T17:00:00+00:00"


def test_on_a_day_off_the_expected_end_is_one_shift_after_the_start(server):
    add(server, {**OFFICE, "IS_FOR_ALL_USERS": True,
                 "CALENDAR": {"EXCLUSIONS": {"2026-03-02": 0}}})  # fmt: skip
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    found = call(server, "timeman.open")
    assert found["STATUS"] == "EXPIRED"
    assert found["TIME_FINISH_DEFAULT"] == "2026-03-02T17:30:00+00:00"  # 08:30 + 9 h


def test_without_a_schedule_the_usual_finish_stays(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    assert call(server, "timeman.status")["TIME_FINISH_DEFAULT"] == "2026-03-02T17:45:00+00:00"
