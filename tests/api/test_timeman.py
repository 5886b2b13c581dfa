"""timeman.status/open/pause/close/settings through HTTP, with the clock moved.

The clock starts frozen at 2026-03-02T08:30:00Z, the portal's zone is UTC, and
user 1 is the administrator and head of the root department.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from b24local import admin
from b24local.store.tables import portals, workdays
from peers import client_from

KEYS = [
    "STATUS", "TIME_START", "TIME_FINISH", "DURATION", "TIME_LEAKS", "ACTIVE", "IP_OPEN",
    "IP_CLOSE", "LAT_OPEN", "LON_OPEN", "LAT_CLOSE", "LON_CLOSE", "TZ_OFFSET",
]  # fmt: skip
EXPIRED_KEYS = [*KEYS, "TIME_FINISH_DEFAULT"]

# The real wrapper fills in nothing else when the user has no day at all.
NEVER_OPENED = {"STATUS": "CLOSED"}

HOUR = 3600
MINUTE = 60


# --- helpers -------------------------------------------------------------------------------


def result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    return response.status_code, body["error"], body["error_description"]


def call(server, method: str, hook: str | None = None, **params):
    return result(server.call(method, params, hook=hook))


def status(server, hook: str | None = None, **params):
    return call(server, "timeman.status", hook, **params)


def assert_close_on_another_date_refused(server, moment: str, hook: str | None = None) -> None:
    """A close at ``moment``, not on the day's start date: refused, the day unchanged."""
    before = status(server, hook)
    response = server.call("timeman.close", {"TIME": moment, "REPORT": "r"}, hook=hook)
    assert error_of(response) == (
        400,
        "WRONG_DATETIME",
        "Day close date should correspond to the day open date",
    )
    assert status(server, hook) == before


def move_to(server, moment: str) -> None:
    """Jump forward to an ATOM moment (UTC when no offset is given)."""
    target = datetime.fromisoformat(moment)
    if target.tzinfo is None:
        target = target.replace(tzinfo=UTC)
    assert target >= server.clock.now(), "tests only move the clock forward"
    server.clock.set(target, frozen=True)


def span(text: str) -> timedelta:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def assert_consistent(day: dict) -> None:
    """DURATION + TIME_LEAKS == TIME_FINISH - TIME_START for a closed day."""
    finish = datetime.fromisoformat(day["TIME_FINISH"])
    start = datetime.fromisoformat(day["TIME_START"])
    assert span(day["DURATION"]) + span(day["TIME_LEAKS"]) == finish - start


def day_ids(server, user_id: int = 1) -> list[int]:
    async def go():
        async with server.store.transaction() as conn:
            rows = await conn.execute(
                select(workdays.c.id).where(workdays.c.user_id == user_id).order_by(workdays.c.id)
            )
            return [row.id for row in rows]

    return server.run(go)


def history(server, workday_id: int) -> list[dict]:
    return server.run(admin.workday_history, server.store, workday_id)


def all_events(server, user_id: int = 1) -> list[dict]:
    return [event for day in day_ids(server, user_id) for event in history(server, day)]


def settings(server, **changes):
    return server.run(admin.timeman_settings, server.store, **changes)


def decide(server, workday_id: int, supervisor_id: int, approved: bool):
    return server.run(
        admin.decide_workday,
        server.store,
        server.clock.now(),
        workday_id=workday_id,
        supervisor_id=supervisor_id,
        approved=approved,
    )


def pending(server) -> list[int]:
    return [stored.id for stored in server.run(admin.pending_workdays, server.store)]


def user_with_hook(server, name: str = "Emily", **fields) -> tuple[int, str]:
    user_id = server.add_user(name, "Smith", **fields)
    return user_id, server.add_webhook(user_id, ["timeman"])


# --- the result object ------------------------------------------------------------------------


def test_a_user_who_never_opened_a_day(server):
    assert status(server) == {"STATUS": "CLOSED"}


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo", ""])
def test_a_user_without_days_is_only_closed(server, zone):
    user_id, hook = user_with_hook(server, time_zone=zone)
    assert status(server, hook) == NEVER_OPENED
    assert status(server, USER_ID=user_id) == NEVER_OPENED
    assert call(server, "timeman.pause", hook) == NEVER_OPENED


def test_open_returns_the_whole_day(server):
    day = call(server, "timeman.open")
    assert list(day) == KEYS
    assert day == {
        "STATUS": "OPENED",
        "TIME_START": "2026-03-02T08:30:00+00:00",
        "TIME_FINISH": None,
        "DURATION": "00:00:00",
        "TIME_LEAKS": "00:00:00",
        "ACTIVE": True,
        "IP_OPEN": "testclient",
        "IP_CLOSE": "",
        "LAT_OPEN": 0,
        "LON_OPEN": 0,
        "LAT_CLOSE": 0,
        "LON_CLOSE": 0,
        "TZ_OFFSET": 0,
    }
    assert status(server) == day


def test_types_of_the_fields(server):
    day = call(server, "timeman.open")
    # Coordinates not given read 0, as the examples show them.
    assert type(day["LAT_OPEN"]) is int and type(day["LON_CLOSE"]) is int
    assert type(day["TZ_OFFSET"]) is int
    assert day["ACTIVE"] is True
    assert day["IP_CLOSE"] == ""
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    assert list(closed) == KEYS
    assert type(closed["LAT_CLOSE"]) is int
    assert closed["IP_CLOSE"] == "testclient"


# --- open, pause, resume, close -----------------------------------------------------------------


def test_open_pause_resume_close(server):
    assert call(server, "timeman.open")["STATUS"] == "OPENED"

    server.clock.advance(HOUR)
    paused = call(server, "timeman.pause")
    assert paused["STATUS"] == "PAUSED"
    assert paused["TIME_START"] == "2026-03-02T08:30:00+00:00"
    assert paused["TIME_FINISH"] is None
    assert paused["DURATION"] == "00:00:00"
    assert paused["TIME_LEAKS"] == "00:00:00"

    server.clock.advance(30 * MINUTE)
    assert status(server)["TIME_LEAKS"] == "00:30:00"  # a pause going on counts
    resumed = call(server, "timeman.open")
    assert resumed["STATUS"] == "OPENED"
    assert resumed["TIME_LEAKS"] == "00:30:00"
    assert resumed["TIME_START"] == "2026-03-02T08:30:00+00:00"

    server.clock.advance(HOUR + 30 * MINUTE)
    closed = call(server, "timeman.close")
    assert closed == {
        "STATUS": "CLOSED",
        "TIME_START": "2026-03-02T08:30:00+00:00",
        "TIME_FINISH": "2026-03-02T11:30:00+00:00",
        "DURATION": "02:30:00",
        "TIME_LEAKS": "00:30:00",
        "ACTIVE": True,
        "IP_OPEN": "testclient",
        "IP_CLOSE": "testclient",
        "LAT_OPEN": 0,
        "LON_OPEN": 0,
        "LAT_CLOSE": 0,
        "LON_CLOSE": 0,
        "TZ_OFFSET": 0,
    }
    assert_consistent(closed)
    server.clock.advance(HOUR)
    assert status(server) == closed


def test_two_pauses_add_up(server):
    call(server, "timeman.open")
    for _ in range(2):
        server.clock.advance(HOUR)
        call(server, "timeman.pause")
        server.clock.advance(15 * MINUTE)
        call(server, "timeman.open")
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    assert closed["TIME_FINISH"] == "2026-03-02T12:00:00+00:00"
    assert closed["TIME_LEAKS"] == "00:30:00"
    assert closed["DURATION"] == "03:00:00"
    assert_consistent(closed)


def test_closing_while_paused_ends_the_pause(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    call(server, "timeman.pause")
    server.clock.advance(20 * MINUTE)
    closed = call(server, "timeman.close")
    assert closed["STATUS"] == "CLOSED"
    assert closed["TIME_FINISH"] == "2026-03-02T10:50:00+00:00"
    assert closed["DURATION"] == "02:00:00"
    assert closed["TIME_LEAKS"] == "00:20:00"
    assert_consistent(closed)


def test_open_on_a_day_closed_earlier_today_reopens_it(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    call(server, "timeman.close")  # 10:30
    server.clock.advance(HOUR)
    reopened = call(server, "timeman.open")  # 11:30
    assert reopened["STATUS"] == "OPENED"
    assert reopened["TIME_START"] == "2026-03-02T08:30:00+00:00"
    assert reopened["TIME_FINISH"] is None
    assert reopened["DURATION"] == "00:00:00"
    assert reopened["TIME_LEAKS"] == "01:00:00"
    assert reopened["IP_CLOSE"] == ""
    assert len(day_ids(server)) == 1

    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")  # 12:30
    assert closed["TIME_FINISH"] == "2026-03-02T12:30:00+00:00"
    assert closed["DURATION"] == "03:00:00"
    assert closed["TIME_LEAKS"] == "01:00:00"
    assert_consistent(closed)


def test_pause_on_a_day_closed_earlier_today_counts_the_gap_as_work(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    call(server, "timeman.close")  # 10:30
    server.clock.advance(HOUR)
    paused = call(server, "timeman.pause")  # 11:30
    assert paused["STATUS"] == "PAUSED"
    assert paused["TIME_FINISH"] is None
    assert paused["TIME_LEAKS"] == "00:00:00"
    assert paused["IP_CLOSE"] == ""
    server.clock.advance(30 * MINUTE)
    call(server, "timeman.open")  # 12:00
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")  # 13:00
    assert closed["TIME_FINISH"] == "2026-03-02T13:00:00+00:00"
    assert closed["TIME_LEAKS"] == "00:30:00"
    assert closed["DURATION"] == "04:00:00"  # 10:30-11:30 counted as worked
    assert_consistent(closed)
    assert len(day_ids(server)) == 1


def test_reopen_time_before_the_close_is_refused(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    call(server, "timeman.close")  # 10:30
    server.clock.advance(HOUR)
    before = status(server)
    response = server.call("timeman.open", {"TIME": "2026-03-02T10:00:00+00:00", "REPORT": "r"})
    assert error_of(response)[:2] == (400, "WRONG_DATETIME")
    assert status(server) == before
    reopened = call(server, "timeman.open", TIME="2026-03-02T11:20:00+00:00", REPORT="r")
    assert reopened["STATUS"] == "OPENED"
    assert reopened["TIME_LEAKS"] == "00:50:00"
    assert reopened["ACTIVE"] is True


def test_a_day_closed_yesterday_is_not_reopened(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.close")
    move_to(server, "2026-03-03T08:00:00")
    assert call(server, "timeman.pause")["TIME_FINISH"] == "2026-03-02T09:30:00+00:00"
    assert status(server)["STATUS"] == "CLOSED"
    fresh = call(server, "timeman.open")
    assert fresh["STATUS"] == "OPENED"
    assert fresh["TIME_START"] == "2026-03-03T08:00:00+00:00"
    assert fresh["TIME_LEAKS"] == "00:00:00"
    assert len(day_ids(server)) == 2


# --- calls that change nothing ---------------------------------------------------------------


def test_open_on_an_opened_day_changes_nothing(server):
    opened = call(server, "timeman.open")
    server.clock.advance(HOUR)
    assert call(server, "timeman.open") == opened
    assert status(server) == opened
    assert [e["action"] for e in all_events(server)] == ["open"]


def test_pause_on_a_paused_day_changes_nothing(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    paused = call(server, "timeman.pause")
    server.clock.advance(HOUR)
    again = call(server, "timeman.pause")
    assert again == {**paused, "TIME_LEAKS": "01:00:00"}
    server.clock.advance(HOUR)
    resumed = call(server, "timeman.open")
    assert resumed["TIME_LEAKS"] == "02:00:00"  # the pause began at the first call
    assert [e["action"] for e in all_events(server)] == ["open", "pause", "resume"]


def test_close_on_a_closed_day_is_refused(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    server.clock.advance(HOUR)
    for params in ({}, {"TIME": "2026-03-02T10:00:00+00:00", "REPORT": "r"}):
        refused = server.call("timeman.close", params)
        assert error_of(refused) == (400, "WD_NOT_OPEN", "Workday is not open")
    assert status(server) == closed
    assert [e["action"] for e in all_events(server)] == ["open", "close"]


def test_pause_with_no_day_returns_closed(server):
    assert call(server, "timeman.pause") == NEVER_OPENED
    assert status(server) == NEVER_OPENED
    assert day_ids(server) == []


def test_close_with_no_day_is_refused(server):
    assert error_of(server.call("timeman.close")) == (400, "WD_NOT_OPEN", "Workday is not open")
    assert status(server) == NEVER_OPENED
    assert day_ids(server) == []


# --- expired days ------------------------------------------------------------------------------


def test_a_day_left_open_expires_at_midnight(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-02T23:59:59")
    assert status(server)["STATUS"] == "OPENED"
    move_to(server, "2026-03-03T00:00:00")
    day = status(server)
    assert list(day) == EXPIRED_KEYS
    assert day == {
        "STATUS": "EXPIRED",
        "TIME_START": "2026-03-02T08:30:00+00:00",
        "TIME_FINISH": None,
        "DURATION": "00:00:00",
        "TIME_LEAKS": "00:00:00",
        "ACTIVE": True,
        "IP_OPEN": "testclient",
        "IP_CLOSE": "",
        "LAT_OPEN": 0,
        "LON_OPEN": 0,
        "LAT_CLOSE": 0,
        "LON_CLOSE": 0,
        "TZ_OFFSET": 0,
        # 17:45 (UF_TM_MIN_FINISH) is later than 08:30 + 8 hours
        "TIME_FINISH_DEFAULT": "2026-03-02T17:45:00+00:00",
    }


def test_a_paused_day_expires_and_its_pause_stops_at_the_suggested_finish(server):
    call(server, "timeman.open")  # 08:30
    move_to(server, "2026-03-02T12:00:00")
    call(server, "timeman.pause")
    move_to(server, "2026-03-04T09:00:00")  # two days later
    day = status(server)
    assert list(day) == EXPIRED_KEYS
    assert day["STATUS"] == "EXPIRED"
    # Counted up to the suggested 17:45, not until now: a close there loses nothing.
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-02T17:45:00+00:00"
    assert day["TIME_LEAKS"] == "05:45:00"
    assert day["DURATION"] == "00:00:00"
    closed = call(server, "timeman.close", TIME=day["TIME_FINISH_DEFAULT"], REPORT="forgot")
    assert (closed["DURATION"], closed["TIME_LEAKS"]) == ("03:30:00", "05:45:00")


def test_a_pause_left_running_today_keeps_growing(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.pause")
    move_to(server, "2026-03-02T23:59:59")
    assert status(server)["TIME_LEAKS"] == "14:29:59"


def test_finish_default_is_the_usual_finish_whatever_the_breaks(server):
    move_to(server, "2026-03-02T10:00:00")
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.pause")
    server.clock.advance(HOUR)
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    day = status(server)
    assert day["TIME_LEAKS"] == "01:00:00"
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-02T17:45:00+00:00"


def test_finish_default_keeps_work_before_a_late_pause(server):
    call(server, "timeman.open")  # 08:30
    move_to(server, "2026-03-02T19:00:00")
    call(server, "timeman.pause")
    move_to(server, "2026-03-03T08:00:00")
    day = status(server)
    # The day was worked until 19:00, later than the usual 17:45.
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-02T19:00:00+00:00"
    assert day["TIME_LEAKS"] == "00:00:00"


def test_finish_default_follows_the_users_settings(server):
    settings(server, user_id=1, min_finish=18 * HOUR + 30 * MINUTE)
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    assert status(server)["TIME_FINISH_DEFAULT"] == "2026-03-02T18:30:00+00:00"


def test_finish_default_of_a_late_start(server):
    # Started after the usual finish: start + breaks + five minutes, as the real
    # service suggests.
    move_to(server, "2026-03-02T20:00:00")
    call(server, "timeman.open")
    call(server, "timeman.pause")
    server.clock.advance(30 * MINUTE)
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    day = status(server)
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-02T20:35:00+00:00"
    assert day["TIME_LEAKS"] == "00:30:00"


def test_finish_default_stays_within_the_start_date(server):
    move_to(server, "2026-03-02T23:58:00")
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    assert status(server)["TIME_FINISH_DEFAULT"] == "2026-03-02T23:59:59+00:00"


def test_finish_default_in_the_days_offset(server):
    _user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    call(server, "timeman.open", hook)  # 09:30 in Berlin
    move_to(server, "2026-03-03T08:00:00")
    day = status(server, hook)
    assert day["STATUS"] == "EXPIRED"
    assert day["TIME_START"] == "2026-03-02T09:30:00+01:00"
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-02T17:45:00+01:00"


def test_closing_an_expired_day_without_time_is_refused(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    before = status(server)
    response = server.call("timeman.close")
    assert error_of(response) == (400, "WD_EXPIRED", "Workday is expired")
    assert status(server) == before
    assert [e["action"] for e in all_events(server)] == ["open"]


def test_closing_an_expired_day_on_its_start_date(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    closed = call(
        server, "timeman.close", TIME="2026-03-02T18:00:00+00:00", REPORT="Forgot to close"
    )
    assert list(closed) == KEYS
    assert closed["STATUS"] == "CLOSED"
    assert closed["TIME_FINISH"] == "2026-03-02T18:00:00+00:00"
    assert closed["DURATION"] == "09:30:00"
    assert closed["TIME_LEAKS"] == "00:00:00"
    assert closed["ACTIVE"] is False  # a change far from now waits for approval
    assert_consistent(closed)
    opened = call(server, "timeman.open")
    assert opened["STATUS"] == "OPENED"
    assert opened["TIME_START"] == "2026-03-03T08:00:00+00:00"
    assert opened["ACTIVE"] is True


def test_closing_an_expired_day_needs_a_report(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    before = status(server)
    response = server.call("timeman.close", {"TIME": "2026-03-02T18:00:00+00:00"})
    assert error_of(response) == (400, "REPORT_NEEDED", "Reason for change is not specified")
    assert status(server) == before


def test_open_on_an_expired_day_changes_nothing(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    before = status(server)
    assert call(server, "timeman.open") == before
    assert call(server, "timeman.pause") == before
    assert status(server) == before
    assert [e["action"] for e in all_events(server)] == ["open"]


def test_open_with_time_on_an_expired_day_is_refused(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-03T08:00:00")
    before = status(server)
    response = server.call(
        "timeman.open", {"TIME": "2026-03-03T07:50:00+00:00", "REPORT": "Came early"}
    )
    assert error_of(response)[:2] == (400, "TIME")
    assert status(server) == before


def test_expiry_uses_the_calendar_of_the_days_zone(server):
    _berlin, berlin_hook = user_with_hook(server, "Berta", time_zone="Europe/Berlin")
    _new_york, new_york_hook = user_with_hook(server, "Nora", time_zone="America/New_York")
    move_to(server, "2026-03-02T22:30:00")  # 23:30 in Berlin, 17:30 in New York
    call(server, "timeman.open", berlin_hook)
    call(server, "timeman.open", new_york_hook)
    call(server, "timeman.open")  # the admin, in UTC
    move_to(server, "2026-03-02T23:30:00")  # past midnight in Berlin only
    assert status(server, berlin_hook)["STATUS"] == "EXPIRED"
    assert status(server, new_york_hook)["STATUS"] == "OPENED"
    assert status(server)["STATUS"] == "OPENED"
    move_to(server, "2026-03-03T04:59:59")  # 23:59:59 in New York
    assert status(server, new_york_hook)["STATUS"] == "OPENED"
    assert status(server)["STATUS"] == "EXPIRED"
    move_to(server, "2026-03-03T05:00:00")
    assert status(server, new_york_hook)["STATUS"] == "EXPIRED"


def test_an_expired_day_closes_on_its_start_date_in_its_zone(server):
    _user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    move_to(server, "2026-03-02T22:30:00")  # 23:30 on March 2 in Berlin
    call(server, "timeman.open", hook)
    move_to(server, "2026-03-03T08:00:00")
    assert status(server, hook)["STATUS"] == "EXPIRED"
    # Written on March 2, but 00:10 on March 3 in Berlin.
    assert_close_on_another_date_refused(server, "2026-03-02T23:10:00+00:00", hook)
    closed = call(server, "timeman.close", hook, TIME="2026-03-02T22:50:00+00:00", REPORT="r")
    assert closed["TIME_FINISH"] == "2026-03-02T23:50:00+01:00"
    assert closed["DURATION"] == "00:20:00"


def test_expiry_uses_the_offset_of_time(server):
    # Opened with TIME in +03:00: the day's calendar is that offset's.
    call(server, "timeman.open", TIME="2026-03-02T11:30:00+03:00", REPORT="r")
    move_to(server, "2026-03-02T20:59:59")
    assert status(server)["STATUS"] == "OPENED"
    move_to(server, "2026-03-02T21:00:00")  # midnight in +03:00
    assert status(server)["STATUS"] == "EXPIRED"


# --- TIME -----------------------------------------------------------------------------------


def test_open_with_time(server):
    day = call(server, "timeman.open", TIME="2026-03-02T08:20:00+00:00", REPORT="Late entry")
    assert day["STATUS"] == "OPENED"
    assert day["TIME_START"] == "2026-03-02T08:20:00+00:00"
    assert day["ACTIVE"] is True  # within UF_TM_ALLOWED_DELTA


def test_open_with_time_in_z(server):
    day = call(server, "timeman.open", TIME="2026-03-02T08:20:00Z", REPORT="r")
    assert day["TIME_START"] == "2026-03-02T08:20:00+00:00"
    assert day["TZ_OFFSET"] == 0


def test_open_with_time_on_a_paused_day(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    before = call(server, "timeman.pause")
    response = server.call("timeman.open", {"TIME": "2026-03-02T09:25:00+00:00", "REPORT": "back"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "TIME",
        "error_description": "Unable to set time, work day is paused",
    }
    assert status(server) == before


def test_open_with_time_on_an_opened_day(server):
    before = call(server, "timeman.open")
    server.clock.advance(HOUR)
    response = server.call("timeman.open", {"TIME": "2026-03-02T09:25:00+00:00", "REPORT": "again"})
    assert error_of(response)[:2] == (400, "TIME")
    assert status(server) == before


@pytest.mark.parametrize(
    "moment",
    ["2026-03-01T08:30:00+00:00", "2026-03-01T23:59:59+00:00", "2026-02-02T08:30:00+00:00"],
)
def test_open_time_must_be_today(server, moment):
    response = server.call("timeman.open", {"TIME": moment, "REPORT": "r"})
    assert error_of(response) == (
        400,
        "WRONG_DATETIME",
        "Day open date should correspond to the current date",
    )
    assert status(server) == NEVER_OPENED
    assert day_ids(server) == []


def test_open_time_is_today_in_its_own_offset(server):
    move_to(server, "2026-03-03T00:30:00")  # 01:30 on March 3 in +01:00
    refused = server.call("timeman.open", {"TIME": "2026-03-02T23:50:00+00:00", "REPORT": "r"})
    assert error_of(refused)[:2] == (400, "WRONG_DATETIME")
    # The same moment written in +01:00 is on March 3 there: accepted.
    day = call(server, "timeman.open", TIME="2026-03-03T00:50:00+01:00", REPORT="r")
    assert day["TIME_START"] == "2026-03-03T00:50:00+01:00"
    assert day["TZ_OFFSET"] == 3600


def test_open_time_written_in_a_zone_still_on_yesterday(server):
    # 08:00Z is 22:00 on March 1 in -10:00, where "now" is 22:30 on March 1.
    day = call(server, "timeman.open", TIME="2026-03-01T22:00:00-10:00", REPORT="r")
    assert day["TIME_START"] == "2026-03-01T22:00:00-10:00"
    assert day["TZ_OFFSET"] == -36000


@pytest.mark.parametrize("moment", ["2026-03-02T08:31:00+00:00", "2026-03-02T12:00:00+03:00"])
def test_open_time_in_the_future(server, moment):
    response = server.call("timeman.open", {"TIME": moment, "REPORT": "r"})
    assert error_of(response)[:2] == (400, "WRONG_DATETIME")
    assert status(server) == NEVER_OPENED


def test_close_with_time(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    closed = call(server, "timeman.close", TIME="2026-03-02T10:20:00+00:00", REPORT="left")
    assert closed["TIME_FINISH"] == "2026-03-02T10:20:00+00:00"
    assert closed["DURATION"] == "01:50:00"
    assert closed["ACTIVE"] is True


def test_close_time_before_a_pause_drops_the_pause(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.pause")  # 09:30
    server.clock.advance(15 * MINUTE)
    call(server, "timeman.open")  # 09:45
    server.clock.advance(45 * MINUTE)
    call(server, "timeman.pause")  # 10:30
    server.clock.advance(30 * MINUTE)
    closed = call(server, "timeman.close", TIME="2026-03-02T09:40:00+00:00", REPORT="r")
    assert closed["TIME_FINISH"] == "2026-03-02T09:40:00+00:00"
    assert closed["TIME_LEAKS"] == "00:10:00"  # 09:30-09:40; the 10:30 pause is gone
    assert closed["DURATION"] == "01:00:00"
    assert_consistent(closed)


def test_close_time_before_the_start(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    before = status(server)
    response = server.call("timeman.close", {"TIME": "2026-03-02T08:00:00+00:00", "REPORT": "r"})
    assert error_of(response)[:2] == (400, "WRONG_DATETIME")
    assert status(server) == before


@pytest.mark.parametrize(
    "moment",
    [
        "2026-03-01T10:00:00+00:00",
        "2026-03-03T10:00:00+00:00",
        # Written on March 2, but 01:30 on March 3 in the day's offset (UTC).
        "2026-03-02T23:30:00-02:00",
    ],
)
def test_close_time_on_another_date(server, moment):
    call(server, "timeman.open")
    move_to(server, "2026-03-02T23:00:00")
    assert_close_on_another_date_refused(server, moment)


def test_close_time_is_judged_in_the_days_offset(server):
    call(server, "timeman.open")
    move_to(server, "2026-03-02T23:00:00")
    # Written on March 3, but 22:00 on March 2 in the day's offset (UTC).
    closed = call(server, "timeman.close", TIME="2026-03-03T01:00:00+03:00", REPORT="r")
    assert closed["TIME_FINISH"] == "2026-03-02T22:00:00+00:00"
    assert closed["DURATION"] == "13:30:00"


def test_close_time_in_the_future(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    before = status(server)
    response = server.call("timeman.close", {"TIME": "2026-03-02T12:00:00+00:00", "REPORT": "r"})
    assert error_of(response)[:2] == (400, "WRONG_DATETIME")
    assert status(server) == before


def test_null_time_means_now(server):
    day = call(server, "timeman.open", TIME=None)
    assert day["TIME_START"] == "2026-03-02T08:30:00+00:00"
    assert day["ACTIVE"] is True


# --- REPORT ----------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"REPORT": ""}, {"REPORT": "  "}])
def test_open_with_time_needs_a_report(server, params):
    response = server.call("timeman.open", {"TIME": "2026-03-02T08:00:00+00:00", **params})
    assert error_of(response) == (400, "REPORT_NEEDED", "Reason for change is not specified")
    assert status(server) == NEVER_OPENED
    assert day_ids(server) == []


def test_close_with_time_needs_a_report(server):
    call(server, "timeman.open")
    server.clock.advance(2 * HOUR)
    before = status(server)
    response = server.call("timeman.close", {"TIME": "2026-03-02T10:00:00+00:00"})
    assert error_of(response)[:2] == (400, "REPORT_NEEDED")
    assert status(server) == before


def test_a_free_schedule_needs_no_report(server):
    settings(server, user_id=1, free=True)
    opened = call(server, "timeman.open", TIME="2026-03-02T07:00:00+00:00")
    assert opened["TIME_START"] == "2026-03-02T07:00:00+00:00"
    server.clock.advance(8 * HOUR)
    closed = call(server, "timeman.close", TIME="2026-03-02T15:00:00+00:00")
    assert closed["DURATION"] == "08:00:00"
    assert closed["ACTIVE"] is True


def test_without_time_no_report_is_needed(server):
    assert call(server, "timeman.open")["STATUS"] == "OPENED"
    server.clock.advance(HOUR)
    assert call(server, "timeman.close")["STATUS"] == "CLOSED"


# --- ACTIVE and approvals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        ("2026-03-02T08:30:00+00:00", True),
        ("2026-03-02T08:20:00+00:00", True),
        ("2026-03-02T08:15:00+00:00", True),
        ("2026-03-02T08:14:00+00:00", False),
        ("2026-03-02T06:00:00+00:00", False),
    ],
)
def test_an_edit_beyond_the_allowed_delta_awaits_approval(server, moment, active):
    day = call(server, "timeman.open", TIME=moment, REPORT="r")
    assert day["ACTIVE"] is active
    assert status(server)["ACTIVE"] is active
    assert pending(server) == ([] if active else day_ids(server))


def test_the_allowed_delta_is_a_setting(server):
    settings(server, user_id=1, allowed_delta=HOUR)
    assert call(server, "timeman.open", TIME="2026-03-02T07:40:00+00:00", REPORT="r")["ACTIVE"]


def test_a_close_edit_leaves_the_day_inactive(server):
    call(server, "timeman.open")
    server.clock.advance(4 * HOUR)
    closed = call(server, "timeman.close", TIME="2026-03-02T11:00:00+00:00", REPORT="r")
    assert closed["ACTIVE"] is False


def test_a_free_user_never_goes_inactive(server):
    user_id, hook = user_with_hook(server)
    settings(server, user_id=user_id, free=True)
    assert call(server, "timeman.open", hook, TIME="2026-03-02T01:00:00+00:00")["ACTIVE"]
    server.clock.advance(HOUR)
    assert call(server, "timeman.close", hook, TIME="2026-03-02T08:45:00+00:00")["ACTIVE"]
    assert pending(server) == []


def test_approving_an_edit(server):
    user_id, hook = user_with_hook(server)
    move_to(server, "2026-03-02T10:00:00")
    day = call(server, "timeman.open", hook, TIME="2026-03-02T08:00:00+00:00", REPORT="r")
    assert day["ACTIVE"] is False
    [workday_id] = day_ids(server, user_id)
    assert pending(server) == [workday_id]
    decided = decide(server, workday_id, 1, approved=True)
    assert decided.day.active is True
    after = status(server, hook)
    assert after == {**day, "ACTIVE": True}
    assert pending(server) == []
    assert history(server, workday_id)[-1]["action"] == "approve"
    assert history(server, workday_id)[-1]["actor_id"] == 1


def opened_with_an_edit(server) -> tuple[int, str]:
    """A user who, at 10:00, opened the day at 08:00 (with a report): an edit that
    waits for approval. Their ID and webhook."""
    user_id, hook = user_with_hook(server)
    move_to(server, "2026-03-02T10:00:00")
    call(server, "timeman.open", hook, TIME="2026-03-02T08:00:00+00:00", REPORT="r")
    return user_id, hook


def test_rejecting_an_open_edit_moves_the_start_to_when_it_was_made(server):
    user_id, hook = opened_with_an_edit(server)
    [workday_id] = day_ids(server, user_id)
    server.clock.advance(HOUR)
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    assert day["STATUS"] == "OPENED"
    assert day["TIME_START"] == "2026-03-02T10:00:00+00:00"
    assert day["ACTIVE"] is True
    assert pending(server) == []
    assert history(server, workday_id)[-1]["action"] == "reject"


@pytest.mark.parametrize(
    ("really_closed", "claimed", "finish", "duration"),
    [
        (
            "2026-03-02T18:00:00",
            "2026-03-02T17:00:00+00:00",
            "2026-03-02T18:00:00+00:00",
            "09:30:00",
        ),
        # Really closed the next morning: as late as the start date allows.
        (
            "2026-03-03T08:00:00",
            "2026-03-02T18:00:00+00:00",
            "2026-03-02T23:59:59+00:00",
            "15:29:59",
        ),
    ],
    ids=["same-day", "next-morning"],
)
def test_rejecting_a_close_edit(server, really_closed, claimed, finish, duration):
    user_id, hook = user_with_hook(server)
    call(server, "timeman.open", hook)  # 08:30
    move_to(server, really_closed)
    closed = call(server, "timeman.close", hook, TIME=claimed, REPORT="r")
    assert closed["ACTIVE"] is False
    [workday_id] = day_ids(server, user_id)
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    assert day["TIME_FINISH"] == finish
    assert day["DURATION"] == duration
    assert day["ACTIVE"] is True


def test_rejecting_a_reopen_edit(server):
    user_id, hook = user_with_hook(server)
    call(server, "timeman.open", hook)
    server.clock.advance(HOUR)
    call(server, "timeman.close", hook)  # 09:30
    move_to(server, "2026-03-02T12:00:00")
    reopened = call(server, "timeman.open", hook, TIME="2026-03-02T10:00:00+00:00", REPORT="r")
    assert reopened["TIME_LEAKS"] == "00:30:00"
    assert reopened["ACTIVE"] is False
    [workday_id] = day_ids(server, user_id)
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    assert day["STATUS"] == "OPENED"
    assert day["TIME_LEAKS"] == "02:30:00"  # the break lasted until the real reopening
    assert day["ACTIVE"] is True


def test_rejecting_reverts_every_pending_edit(server):
    user_id, hook = opened_with_an_edit(server)
    move_to(server, "2026-03-02T18:00:00")
    call(server, "timeman.close", hook, TIME="2026-03-02T17:00:00+00:00", REPORT="r")
    [workday_id] = day_ids(server, user_id)
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    assert day["TIME_START"] == "2026-03-02T10:00:00+00:00"
    assert day["TIME_FINISH"] == "2026-03-02T18:00:00+00:00"
    assert day["DURATION"] == "08:00:00"
    assert day["ACTIVE"] is True


def test_rejecting_keeps_edits_approved_before(server):
    user_id, hook = opened_with_an_edit(server)
    [workday_id] = day_ids(server, user_id)
    decide(server, workday_id, 1, approved=True)
    move_to(server, "2026-03-02T18:00:00")
    closed = call(server, "timeman.close", hook, TIME="2026-03-02T17:00:00+00:00", REPORT="r")
    assert closed["ACTIVE"] is False
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    assert day["TIME_START"] == "2026-03-02T08:00:00+00:00"
    assert day["TIME_FINISH"] == "2026-03-02T18:00:00+00:00"
    assert day["DURATION"] == "10:00:00"
    assert day["ACTIVE"] is True
    actions = [e["action"] for e in history(server, workday_id)]
    assert actions == ["open", "approve", "close", "reject"]


def _close_edit_then_more_work(server) -> tuple[str, int]:
    """08:30 open; 12:00 close claiming 10:00 (awaits approval); 13:00 reopen; 17:00 close."""
    user_id, hook = user_with_hook(server)
    call(server, "timeman.open", hook)
    move_to(server, "2026-03-02T12:00:00")
    edited = call(server, "timeman.close", hook, TIME="2026-03-02T10:00:00+00:00", REPORT="r")
    assert edited["ACTIVE"] is False
    move_to(server, "2026-03-02T13:00:00")
    reopened = call(server, "timeman.open", hook)
    assert reopened["TIME_LEAKS"] == "03:00:00"  # from the claimed 10:00
    move_to(server, "2026-03-02T17:00:00")
    closed = call(server, "timeman.close", hook)
    assert (closed["DURATION"], closed["TIME_LEAKS"], closed["ACTIVE"]) == (
        "05:30:00",
        "03:00:00",
        False,
    )
    [workday_id] = day_ids(server, user_id)
    return hook, workday_id


def test_rejecting_a_close_edit_keeps_the_work_done_after_it(server):
    hook, workday_id = _close_edit_then_more_work(server)
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    # The close counts when it was really made, 12:00; 13:00-17:00 stays worked.
    assert day["STATUS"] == "CLOSED"
    assert day["TIME_START"] == "2026-03-02T08:30:00+00:00"
    assert day["TIME_FINISH"] == "2026-03-02T17:00:00+00:00"
    assert day["DURATION"] == "07:30:00"
    assert day["TIME_LEAKS"] == "01:00:00"
    assert day["ACTIVE"] is True
    assert_consistent(day)
    assert [e["action"] for e in history(server, workday_id)][-1] == "reject"


def test_approving_a_close_edit_keeps_the_claim(server):
    hook, workday_id = _close_edit_then_more_work(server)
    decide(server, workday_id, 1, approved=True)
    day = status(server, hook)
    assert day["TIME_FINISH"] == "2026-03-02T17:00:00+00:00"
    assert (day["DURATION"], day["TIME_LEAKS"], day["ACTIVE"]) == ("05:30:00", "03:00:00", True)


@pytest.mark.parametrize(
    "later",
    [
        [("timeman.close", {})],
        [("timeman.pause", {})],
        [("timeman.pause", {}), ("timeman.open", {})],
        [("timeman.close", {}), ("timeman.open", {})],
        [("timeman.close", {}), ("timeman.pause", {})],
    ],
    ids=["close", "pause", "resume", "reopen", "pause-closed"],
)
def test_a_pending_edit_stays_pending_through_later_changes(server, later):
    user_id, hook = opened_with_an_edit(server)
    for method, params in later:
        server.clock.advance(HOUR)
        assert call(server, method, hook, **params)["ACTIVE"] is False
    assert status(server, hook)["ACTIVE"] is False
    assert pending(server) == day_ids(server, user_id)


def test_a_second_rejection_keeps_the_first(server):
    user_id, hook = opened_with_an_edit(server)
    [workday_id] = day_ids(server, user_id)
    decide(server, workday_id, 1, approved=False)
    move_to(server, "2026-03-02T18:00:00")
    call(server, "timeman.close", hook, TIME="2026-03-02T17:00:00+00:00", REPORT="r")
    decide(server, workday_id, 1, approved=False)
    day = status(server, hook)
    assert day["TIME_START"] == "2026-03-02T10:00:00+00:00"
    assert day["TIME_FINISH"] == "2026-03-02T18:00:00+00:00"
    assert day["DURATION"] == "08:00:00"
    actions = [e["action"] for e in history(server, workday_id)]
    assert actions == ["open", "reject", "close", "reject"]


def test_a_user_cannot_approve_their_own_edit(server):
    user_id, hook = user_with_hook(server)
    call(server, "timeman.open", hook, TIME="2026-03-02T07:00:00+00:00", REPORT="r")
    [workday_id] = day_ids(server, user_id)
    with pytest.raises(admin.AdminError):
        decide(server, workday_id, user_id, approved=True)
    assert status(server, hook)["ACTIVE"] is False
    assert pending(server) == [workday_id]


def test_a_department_head_cannot_approve_their_own_edit(server):
    head, hook = user_with_hook(server, "Ann")
    sales = server.run(admin.add_department, server.store, name="Sales", parent_id=1, head_id=head)
    server.run(admin.update_user, server.store, server.clock.now(), head, department_ids=[sales.id])
    call(server, "timeman.open", hook, TIME="2026-03-02T07:00:00+00:00", REPORT="r")
    [workday_id] = day_ids(server, head)
    with pytest.raises(admin.AdminError):
        decide(server, workday_id, head, approved=True)
    assert status(server, hook)["ACTIVE"] is False
    decide(server, workday_id, 1, approved=True)
    assert status(server, hook)["ACTIVE"] is True


def test_an_admin_may_approve_their_own_edit(server):
    call(server, "timeman.open", TIME="2026-03-02T07:00:00+00:00", REPORT="r")
    [workday_id] = day_ids(server)
    decide(server, workday_id, 1, approved=True)
    assert status(server)["ACTIVE"] is True


def test_a_non_supervisor_cannot_decide(server):
    user_id, hook = user_with_hook(server)
    peer = server.add_user("Peter", "Peer")
    call(server, "timeman.open", hook, TIME="2026-03-02T07:00:00+00:00", REPORT="r")
    [workday_id] = day_ids(server, user_id)
    for approved in (True, False):
        with pytest.raises(admin.AdminError):
            decide(server, workday_id, peer, approved=approved)
    day = status(server, hook)
    assert day["ACTIVE"] is False
    assert day["TIME_START"] == "2026-03-02T07:00:00+00:00"
    assert [e["action"] for e in history(server, workday_id)] == ["open"]


def test_a_department_head_may_approve(server):
    head = server.add_user("Ann", "Head")
    sales = server.run(admin.add_department, server.store, name="Sales", parent_id=1, head_id=head)
    user_id, hook = user_with_hook(server, department_ids=[sales.id])
    call(server, "timeman.open", hook, TIME="2026-03-02T07:00:00+00:00", REPORT="r")
    [workday_id] = day_ids(server, user_id)
    decide(server, workday_id, head, approved=True)
    assert status(server, hook)["ACTIVE"] is True


def test_nothing_to_decide_on_an_active_day(server):
    call(server, "timeman.open")
    [workday_id] = day_ids(server)
    with pytest.raises(admin.AdminError):
        decide(server, workday_id, 1, approved=True)


# --- time zones --------------------------------------------------------------------------------


def test_without_time_the_day_is_in_the_profile_zone(server):
    user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    opened = call(server, "timeman.open", hook)
    assert opened["TIME_START"] == "2026-03-02T09:30:00+01:00"
    assert opened["TZ_OFFSET"] == 3600
    server.clock.advance(8 * HOUR)
    closed = call(server, "timeman.close", hook)
    assert closed["TIME_FINISH"] == "2026-03-02T17:30:00+01:00"
    assert closed["TZ_OFFSET"] == 3600
    assert closed["DURATION"] == "08:00:00"
    # Someone else reading the day sees it in the day's offset too.
    assert status(server, USER_ID=user_id) == closed


def test_without_time_or_profile_zone_the_day_is_in_the_portal_zone(server):
    async def go():
        async with server.store.transaction(write=True) as conn:
            await conn.execute(update(portals).values(time_zone="Asia/Tokyo"))

    server.run(go)
    opened = call(server, "timeman.open")
    assert opened["TIME_START"] == "2026-03-02T17:30:00+09:00"
    assert opened["TZ_OFFSET"] == 32400


def test_a_day_in_the_portal_zone_expires_at_its_midnight(server):
    async def go():
        async with server.store.transaction(write=True) as conn:
            await conn.execute(update(portals).values(time_zone="Asia/Tokyo"))

    server.run(go)
    call(server, "timeman.open")  # 17:30 in Tokyo
    move_to(server, "2026-03-02T14:59:59")
    assert status(server)["STATUS"] == "OPENED"
    move_to(server, "2026-03-02T15:00:00")  # midnight in Tokyo
    day = status(server)
    assert day["STATUS"] == "EXPIRED"
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-02T17:45:00+09:00"


def test_with_time_the_day_is_in_its_offset(server):
    opened = call(server, "timeman.open", TIME="2026-03-02T08:00:00+03:00", REPORT="r")
    assert opened["TIME_START"] == "2026-03-02T08:00:00+03:00"
    assert opened["TZ_OFFSET"] == 10800
    move_to(server, "2026-03-02T15:00:00")
    closed = call(server, "timeman.close", TIME="2026-03-02T15:00:00+00:00", REPORT="r")
    assert closed["TIME_START"] == "2026-03-02T08:00:00+03:00"
    assert closed["TIME_FINISH"] == "2026-03-02T18:00:00+03:00"
    assert closed["DURATION"] == "10:00:00"
    assert closed["TZ_OFFSET"] == 10800


def test_time_offset_overrides_the_profile_zone(server):
    _user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    opened = call(server, "timeman.open", hook, TIME="2026-03-02T03:25:00-05:00", REPORT="r")
    assert opened["TIME_START"] == "2026-03-02T03:25:00-05:00"
    assert opened["TZ_OFFSET"] == -18000
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close", hook)
    assert closed["TIME_FINISH"] == "2026-03-02T04:30:00-05:00"


def test_a_close_without_time_is_shown_in_the_start_offset(server):
    call(server, "timeman.open", TIME="2026-03-02T10:30:00+02:00", REPORT="r")
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    assert closed["TIME_FINISH"] == "2026-03-02T11:30:00+02:00"
    assert closed["TZ_OFFSET"] == 7200


@pytest.mark.parametrize(
    "close", [{}, {"TIME": "2026-03-29T05:00:00+02:00", "REPORT": "r"}], ids=["now", "time"]
)
def test_a_day_across_the_dst_change(server, close):
    _user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    move_to(server, "2026-03-28T23:30:00")  # 00:30 on March 29 in Berlin, +01:00
    opened = call(server, "timeman.open", hook)
    assert opened["TIME_START"] == "2026-03-29T00:30:00+01:00"
    assert opened["TZ_OFFSET"] == 3600
    move_to(server, "2026-03-29T03:00:00")  # 05:00 in Berlin, +02:00 since 02:00
    assert status(server, hook)["STATUS"] == "OPENED"
    closed = call(server, "timeman.close", hook, **close)
    assert closed["STATUS"] == "CLOSED"
    assert closed["DURATION"] == "03:30:00"
    assert closed["TIME_FINISH"] == "2026-03-29T04:00:00+01:00"
    assert closed["TZ_OFFSET"] == 3600
    assert closed["ACTIVE"] is True
    assert_consistent(closed)


def test_a_day_opened_before_the_dst_change_expires_at_local_midnight(server):
    _user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    move_to(server, "2026-03-29T08:00:00")  # 10:00 in Berlin, +02:00
    call(server, "timeman.open", hook)
    move_to(server, "2026-03-29T21:59:59")
    assert status(server, hook)["STATUS"] == "OPENED"
    move_to(server, "2026-03-29T22:00:00")  # midnight in Berlin
    day = status(server, hook)
    assert day["STATUS"] == "EXPIRED"
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-29T17:45:00+02:00"


def open_across_the_spring_change(server) -> str:
    """A Berlin user's day opened at 00:30 on March 29 (+01:00), the night the clocks
    go forward, and left open until March 30: its webhook."""
    _user_id, hook = user_with_hook(server, time_zone="Europe/Berlin")
    move_to(server, "2026-03-28T23:30:00")
    call(server, "timeman.open", hook)
    move_to(server, "2026-03-30T08:00:00")
    return hook


def test_finish_default_on_the_night_the_clocks_go_forward(server):
    hook = open_across_the_spring_change(server)
    day = status(server, hook)
    assert day["STATUS"] == "EXPIRED"
    assert day["TZ_OFFSET"] == 3600
    # UF_TM_MIN_FINISH on the day's own clock, as the real service glues it to the
    # start offset; not 16:45 (17:45 summer time read back in winter time).
    assert day["TIME_FINISH_DEFAULT"] == "2026-03-29T17:45:00+01:00"


def test_a_close_time_written_in_the_days_offset_is_on_its_date(server):
    hook = open_across_the_spring_change(server)
    # 00:15 on March 30 by Berlin's summer clock, but March 29 in the day's +01:00,
    # where the real service reads it.
    closed = call(server, "timeman.close", hook, TIME="2026-03-29T23:15:00+01:00", REPORT="r")
    assert closed["STATUS"] == "CLOSED"
    assert closed["TIME_FINISH"] == "2026-03-29T23:15:00+01:00"
    assert closed["DURATION"] == "22:45:00"
    assert_consistent(closed)


def test_a_close_time_converted_past_the_start_date_is_refused(server):
    hook = open_across_the_spring_change(server)
    # Written on March 29 in +02:00, but 00:15 on March 30 in the day's +01:00.
    assert_close_on_another_date_refused(server, "2026-03-29T23:15:00-01:00", hook)


# --- whole seconds --------------------------------------------------------------------------


def test_a_clock_between_seconds_keeps_the_day_whole(server):
    server.clock.set(datetime(2026, 3, 2, 8, 0, 0, 999_999, tzinfo=UTC), frozen=True)
    opened = call(server, "timeman.open")
    assert opened["TIME_START"] == "2026-03-02T08:00:00+00:00"
    server.clock.set(datetime(2026, 3, 2, 9, 0, 0, 400_000, tzinfo=UTC), frozen=True)
    call(server, "timeman.pause")
    server.clock.set(datetime(2026, 3, 2, 9, 30, 0, 900_000, tzinfo=UTC), frozen=True)
    call(server, "timeman.open")
    server.clock.set(datetime(2026, 3, 2, 12, 0, 0, 300_000, tzinfo=UTC), frozen=True)
    closed = call(server, "timeman.close")
    assert closed["TIME_FINISH"] == "2026-03-02T12:00:00+00:00"
    assert (closed["DURATION"], closed["TIME_LEAKS"]) == ("03:30:00", "00:30:00")
    assert_consistent(closed)
    [workday_id] = day_ids(server)
    assert all(e["at"].microsecond == 0 for e in history(server, workday_id))


# --- a new day after an older one -----------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "2026-03-31T18:00:00-05:00",  # 23:00 UTC: before the last day even began
        "2026-03-31T18:47:00-05:00",  # 23:47 UTC: inside it
    ],
)
def test_a_back_dated_open_may_not_reach_into_the_previous_day(server, moment):
    move_to(server, "2026-03-31T23:45:00")
    call(server, "timeman.open")
    move_to(server, "2026-03-31T23:50:00")
    closed = call(server, "timeman.close")
    move_to(server, "2026-04-01T00:30:00")
    # Still March 31 in -05:00, so "today" there, but before the last close.
    refused = server.call("timeman.open", {"TIME": moment, "REPORT": "r"})
    assert error_of(refused) == (
        400,
        "WRONG_DATETIME",
        "Day open time cannot be earlier than the previous day close time",
    )
    assert status(server) == closed
    assert len(day_ids(server)) == 1


def test_a_back_dated_open_after_the_previous_close_is_the_current_day(server):
    move_to(server, "2026-03-31T23:45:00")
    call(server, "timeman.open")
    move_to(server, "2026-03-31T23:50:00")
    call(server, "timeman.close")
    move_to(server, "2026-04-01T00:30:00")
    # 23:55 UTC on March 31: after the last close, and "today" in -05:00.
    opened = call(server, "timeman.open", TIME="2026-03-31T18:55:00-05:00", REPORT="r")
    assert opened["STATUS"] == "OPENED"
    assert status(server) == opened
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    assert closed["TIME_START"] == "2026-03-31T18:55:00-05:00"
    assert closed["TIME_FINISH"] == "2026-03-31T20:30:00-05:00"
    assert status(server) == closed
    assert len(day_ids(server)) == 2


def test_the_day_opened_last_is_current_whatever_the_starts(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.close")
    move_to(server, "2026-03-03T08:00:00")
    opened = call(server, "timeman.open")
    first, second = day_ids(server)

    async def start_first_later():
        # Days kept from before overlapping opens were refused.
        async with server.store.transaction(write=True) as conn:
            await conn.execute(
                update(workdays)
                .where(workdays.c.id == first)
                .values(started_at=datetime(2026, 3, 3, 9, tzinfo=UTC))
            )

    server.run(start_first_later)
    assert status(server) == opened
    server.clock.advance(HOUR)
    assert call(server, "timeman.close")["TIME_START"] == opened["TIME_START"]
    assert [e["action"] for e in history(server, second)] == ["open", "close"]


# --- where a change was made from -------------------------------------------------------------


def test_ip_of_the_caller(server):
    with client_from(server, "203.0.113.7") as remote:
        opened = result(remote.post(f"{server.webhook}timeman.open", json={}))
    assert opened["IP_OPEN"] == "203.0.113.7"
    assert opened["IP_CLOSE"] == ""
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    assert closed["IP_OPEN"] == "203.0.113.7"
    assert closed["IP_CLOSE"] == "testclient"


def test_forwarded_address_from_a_trusted_proxy(server_with):
    forwarded = {"X-Forwarded-For": "198.51.100.9"}
    with server_with(trusted_proxies=("203.0.113.7",)) as srv:
        with client_from(srv, "203.0.113.7") as proxy:
            opened = result(proxy.post(f"{srv.webhook}timeman.open", json={}, headers=forwarded))
        assert opened["IP_OPEN"] == "198.51.100.9"
        srv.clock.advance(HOUR)
        # From an untrusted peer the header is ignored.
        closed = result(srv.http.post(f"{srv.webhook}timeman.close", json={}, headers=forwarded))
        assert closed["IP_OPEN"] == "198.51.100.9"
        assert closed["IP_CLOSE"] == "testclient"
        [workday_id] = day_ids(srv)
        assert [e["ip"] for e in history(srv, workday_id)] == ["198.51.100.9", "testclient"]


def test_forwarded_address_is_ignored_without_trusted_proxies(server):
    response = server.http.post(
        f"{server.webhook}timeman.open", json={}, headers={"X-Forwarded-For": "198.51.100.9"}
    )
    assert result(response)["IP_OPEN"] == "testclient"


def test_coordinates_are_stored(server):
    opened = call(server, "timeman.open", LAT=53.548841, LON=9.987274)
    assert opened["LAT_OPEN"] == 53.548841
    assert opened["LON_OPEN"] == 9.987274
    assert opened["LAT_CLOSE"] == 0
    assert opened["LON_CLOSE"] == 0
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close", LAT="-33.8688", LON="151.2093")
    assert closed["LAT_OPEN"] == 53.548841
    assert closed["LON_OPEN"] == 9.987274
    assert closed["LAT_CLOSE"] == -33.8688
    assert closed["LON_CLOSE"] == 151.2093
    assert status(server) == closed


def test_reopening_clears_the_close_place(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.close", LAT=10, LON=20)
    server.clock.advance(HOUR)
    reopened = call(server, "timeman.open", LAT=30, LON=40)
    assert reopened["LAT_CLOSE"] == 0
    assert reopened["LON_CLOSE"] == 0
    assert reopened["IP_CLOSE"] == ""


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0)])
def test_coordinates_at_the_limits(server, lat, lon):
    opened = call(server, "timeman.open", LAT=lat, LON=lon)
    assert opened["LAT_OPEN"] == lat
    assert opened["LON_OPEN"] == lon


@pytest.mark.parametrize(
    ("given", "shown"),
    [("0", 0), (0.0, 0), ("10", 10), (10.0, 10), ("-33.8688", -33.8688), (1.5, 1.5)],
)
def test_coordinates_print_as_php_prints_doubles(server, given, shown):
    # doubleval() through json_encode: whole numbers without a fraction, like the
    # examples' 0; a missing coordinate and a given "0" read alike.
    opened = call(server, "timeman.open", LAT=given, LON=given)
    assert (opened["LAT_OPEN"], opened["LON_OPEN"]) == (shown, shown)
    assert type(opened["LAT_OPEN"]) is type(shown)
    assert type(opened["LAT_CLOSE"]) is int


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"LAT": 200}, "LAT"),
        ({"LAT": -90.5}, "LAT"),
        ({"LAT": "abc"}, "LAT"),
        ({"LAT": "nan"}, "LAT"),
        ({"LON": -181}, "LON"),
        ({"LON": "east"}, "LON"),
        ({"LAT": 10, "LON": 181}, "LON"),
    ],
)
@pytest.mark.parametrize("method", ["timeman.open", "timeman.close"])
def test_bad_coordinates_are_refused(server, params, code, method):
    if method == "timeman.close":
        call(server, "timeman.open")
        server.clock.advance(HOUR)
    before = status(server)
    events = all_events(server)
    response = server.call(method, params)
    assert error_of(response)[:2] == (400, code)
    assert status(server) == before
    assert all_events(server) == events


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "yesterday",
        "",
        "2026-02-30T08:00:00+00:00",
        "2026-03-02 08:00:00",
        "2026-03-02T08:00:00",
        "2026-03-02",
        "2026-03-02T25:00:00+00:00",
        # ATOM has whole seconds only, as PHP's createFromFormat reads it.
        "2026-03-02T08:00:00.5+00:00",
        "2026-03-02T08:00:00.000+00:00",
    ],
)
@pytest.mark.parametrize("method", ["timeman.open", "timeman.close"])
def test_time_that_is_no_atom_date_time(server, moment, method):
    if method == "timeman.close":
        call(server, "timeman.open")
        server.clock.advance(HOUR)
    before = status(server)
    events = all_events(server)
    response = server.call(method, {"TIME": moment, "REPORT": "r"})
    assert error_of(response) == (400, "WRONG_DATETIME_FORMAT", "Wrong datetime format")
    assert status(server) == before
    assert all_events(server) == events


@pytest.mark.parametrize("user_id", ["abc", 999, -1, 0])
@pytest.mark.parametrize(
    "method", ["timeman.status", "timeman.open", "timeman.pause", "timeman.close"]
)
def test_an_unknown_user(server, user_id, method):
    call(server, "timeman.open")
    before = status(server)
    response = server.call(method, {"USER_ID": user_id})
    assert response.status_code == 400
    assert response.json() == {"error": "", "error_description": "User not found"}
    assert status(server) == before
    assert [e["action"] for e in all_events(server)] == ["open"]


def test_settings_of_an_unknown_user(server):
    response = server.call("timeman.settings", {"USER_ID": 999})
    assert error_of(response) == (400, "", "User not found")


@pytest.mark.parametrize("method", ["timeman.open", "timeman.close"])
def test_a_report_too_long(server, method):
    if method == "timeman.close":
        call(server, "timeman.open")
        server.clock.advance(HOUR)
    before = status(server)
    events = all_events(server)
    response = server.call(method, {"TIME": "2026-03-02T09:00:00+00:00", "REPORT": "x" * 1_000_000})
    assert error_of(response)[:2] == (400, "REPORT")
    assert status(server) == before
    assert all_events(server) == events


def test_parameter_names_are_case_blind(server):
    day = call(server, "timeman.open", time="2026-03-02T08:25:00+00:00", report="r", lat=1.5)
    assert day["TIME_START"] == "2026-03-02T08:25:00+00:00"
    assert day["LAT_OPEN"] == 1.5


# --- history ---------------------------------------------------------------------------------


def test_every_transition_is_recorded(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.pause")
    server.clock.advance(HOUR)
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.close")
    server.clock.advance(HOUR)
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.pause")
    server.clock.advance(HOUR)
    call(server, "timeman.close", TIME="2026-03-02T14:25:00+00:00", REPORT="done")
    [workday_id] = day_ids(server)
    events = history(server, workday_id)
    assert [e["action"] for e in events] == [
        "open",
        "pause",
        "resume",
        "close",
        "reopen",
        "pause",
        "close",
    ]
    assert [e["at"] for e in events] == [
        datetime(2026, 3, 2, hour, 30, tzinfo=UTC) for hour in range(8, 15)
    ]
    assert all(e["actor_id"] == 1 and e["user_id"] == 1 for e in events)
    assert [e["claimed_at"] for e in events[:-1]] == [None] * 6
    assert events[-1]["claimed_at"] == datetime(2026, 3, 2, 14, 25, tzinfo=UTC)
    assert events[-1]["report"] == "done"
    assert events[-1]["needs_approval"] is False

    first = events[0]
    assert first["before"] is None
    assert first["after"]["started_at"] == "2026-03-02T08:30:00+00:00"
    assert first["after"]["finished_at"] is None
    assert first["after"]["breaks"] == []
    assert first["after"]["ip_open"] == "testclient"
    assert first["after"]["active"] is True
    assert events[1]["before"] == first["after"]
    assert events[1]["after"]["breaks"] == [["2026-03-02T09:30:00+00:00", None]]
    assert events[3]["after"]["finished_at"] == "2026-03-02T11:30:00+00:00"
    for earlier, later in itertools.pairwise(events):
        assert later["before"] == earlier["after"]


def test_history_names_the_actor(server):
    user_id, hook = user_with_hook(server)
    call(server, "timeman.open", USER_ID=user_id)
    server.clock.advance(HOUR)
    call(server, "timeman.close", hook)
    [workday_id] = day_ids(server, user_id)
    events = history(server, workday_id)
    assert [(e["action"], e["actor_id"], e["user_id"]) for e in events] == [
        ("open", 1, user_id),
        ("close", user_id, user_id),
    ]
    assert day_ids(server) == []  # nothing was recorded on the admin's own days


def test_history_of_an_edit(server):
    user_id, hook = user_with_hook(server)
    move_to(server, "2026-03-02T10:00:00")
    call(server, "timeman.open", hook, TIME="2026-03-02T08:00:00+00:00", REPORT="why")
    [workday_id] = day_ids(server, user_id)
    [event] = history(server, workday_id)
    assert event["action"] == "open"
    assert event["actor_id"] == user_id
    assert event["at"] == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert event["claimed_at"] == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert event["report"] == "why"
    assert event["needs_approval"] is True
    assert event["before"] is None
    assert event["after"]["started_at"] == "2026-03-02T08:00:00+00:00"
    assert event["after"]["active"] is False


def test_refused_calls_record_nothing(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    call(server, "timeman.pause")
    events = all_events(server)
    refused = [
        ("timeman.open", {"TIME": "2026-03-02T09:00:00+00:00", "REPORT": "r"}),
        ("timeman.open", {"LAT": 500}),
        ("timeman.close", {"TIME": "2026-03-02T08:00:00+00:00", "REPORT": "r"}),
        ("timeman.close", {"TIME": "2026-03-02T09:00:00+00:00"}),
        ("timeman.close", {"TIME": "garbage"}),
        ("timeman.pause", {"USER_ID": 999}),
    ]
    for method, params in refused:
        assert server.call(method, params).status_code == 400, (method, params)
    assert all_events(server) == events
    # No-op calls record nothing either.
    call(server, "timeman.pause")
    assert all_events(server) == events


# --- timeman.settings ---------------------------------------------------------------------------


DEFAULT_SETTINGS = {
    "UF_TIMEMAN": True,
    "UF_TM_FREE": False,
    "UF_TM_MAX_START": "09:15:00",
    "UF_TM_MIN_FINISH": "17:45:00",
    "UF_TM_MIN_DURATION": "08:00:00",
    "UF_TM_ALLOWED_DELTA": "00:15:00",
}


def test_default_settings(server):
    answer = call(server, "timeman.settings")
    assert list(answer) == [*DEFAULT_SETTINGS, "ADMIN"]
    assert answer == {**DEFAULT_SETTINGS, "ADMIN": True}


def test_settings_of_the_caller_given_as_user_id(server):
    assert call(server, "timeman.settings", USER_ID=1) == {**DEFAULT_SETTINGS, "ADMIN": True}


def test_settings_about_someone_else_have_no_admin(server):
    user_id = server.add_user()
    assert call(server, "timeman.settings", USER_ID=user_id) == DEFAULT_SETTINGS


def test_a_plain_user_is_no_admin(server):
    _user_id, hook = user_with_hook(server)
    assert call(server, "timeman.settings", hook) == {**DEFAULT_SETTINGS, "ADMIN": False}


def test_a_department_head_is_admin(server):
    head, hook = user_with_hook(server, "Ann")
    server.run(admin.add_department, server.store, name="Sales", parent_id=1, head_id=head)
    assert call(server, "timeman.settings", hook)["ADMIN"] is True


def test_portal_defaults_then_user_overrides(server):
    user_id, hook = user_with_hook(server)
    _other, other_hook = user_with_hook(server, "Olga")
    settings(
        server,
        max_start=9 * HOUR,
        min_finish=18 * HOUR,
        min_duration=7 * HOUR,
        allowed_delta=30 * MINUTE,
    )
    settings(server, user_id=user_id, free=True, min_duration=6 * HOUR + 30 * MINUTE)
    assert call(server, "timeman.settings", hook) == {
        "UF_TIMEMAN": True,
        "UF_TM_FREE": True,
        "UF_TM_MAX_START": "09:00:00",
        "UF_TM_MIN_FINISH": "18:00:00",
        "UF_TM_MIN_DURATION": "06:30:00",
        "UF_TM_ALLOWED_DELTA": "00:30:00",
        "ADMIN": False,
    }
    assert call(server, "timeman.settings", other_hook) == {
        "UF_TIMEMAN": True,
        "UF_TM_FREE": False,
        "UF_TM_MAX_START": "09:00:00",
        "UF_TM_MIN_FINISH": "18:00:00",
        "UF_TM_MIN_DURATION": "07:00:00",
        "UF_TM_ALLOWED_DELTA": "00:30:00",
        "ADMIN": False,
    }


def test_portal_allowed_delta_applies_to_edits(server):
    settings(server, allowed_delta=HOUR)
    assert call(server, "timeman.open", TIME="2026-03-02T07:45:00+00:00", REPORT="r")["ACTIVE"]


def test_a_user_without_time_tracking_cannot_open(server):
    user_id, hook = user_with_hook(server)
    settings(server, user_id=user_id, enabled=False)
    assert call(server, "timeman.settings", hook)["UF_TIMEMAN"] is False
    response = server.call("timeman.open", hook=hook)
    assert error_of(response)[:2] == (400, "TIMEMAN_DISABLED")
    assert status(server, hook) == NEVER_OPENED
    assert day_ids(server, user_id) == []
    # Nor can a supervisor open it for them.
    response = server.call("timeman.open", {"USER_ID": user_id})
    assert error_of(response)[:2] == (400, "TIMEMAN_DISABLED")
    assert day_ids(server, user_id) == []


def test_with_tracking_off_a_pause_does_not_reopen_a_closed_day(server):
    call(server, "timeman.open")
    server.clock.advance(HOUR)
    closed = call(server, "timeman.close")
    settings(server, user_id=1, enabled=False)
    server.clock.advance(HOUR)
    assert call(server, "timeman.pause") == closed
    assert status(server) == closed
    assert [e["action"] for e in all_events(server)] == ["open", "close"]
    # A day still open pauses and closes as before.
    settings(server, user_id=1, enabled=True)
    move_to(server, "2026-03-03T08:00:00")
    call(server, "timeman.open")
    settings(server, user_id=1, enabled=False)
    server.clock.advance(HOUR)
    assert call(server, "timeman.pause")["STATUS"] == "PAUSED"
    assert call(server, "timeman.close")["STATUS"] == "CLOSED"


def test_time_tracking_off_portal_wide(server):
    settings(server, enabled=False)
    assert call(server, "timeman.settings")["UF_TIMEMAN"] is False
    assert error_of(server.call("timeman.open"))[:2] == (400, "TIMEMAN_DISABLED")
    settings(server, user_id=1, enabled=True)
    assert call(server, "timeman.open")["STATUS"] == "OPENED"
