"""Work schedules as pure rules: definitions, the working-day calendar, the expected
finish of a day, whom a schedule applies to, and the settings it gives."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24local.scopes.timeman.schedule import (
    Assignments,
    Schedule,
    ScheduleError,
    Shift,
    closeness,
    effective,
    expected_finish,
    is_working_day,
    read_definition,
    shaped,
    shift_on,
)
from b24local.scopes.timeman.workday import Settings, Workday, finish_default

H = 3600
weekdays = st.sets(st.sampled_from("1234567"), min_size=1).map(lambda s: "".join(sorted(s)))
dates = st.dates(date(2020, 1, 1), date(2030, 12, 31))
seconds = st.integers(0, 86399)


def office(**changes) -> Schedule:
    base = Schedule(id=1, name="Office", shifts=(Shift(1, 9 * H, 18 * H, "12345", H),))
    return replace(base, **changes)


def marks(holidays: set[date], working: set[date]) -> dict:
    found: dict = {}
    for day, mark in [*((d, 0) for d in holidays), *((d, 1) for d in working - holidays)]:
        found.setdefault(str(day.year), {}).setdefault(str(day.month), {})[str(day.day)] = mark
    return found


# --- definitions -------------------------------------------------------------------------


def test_a_definition_with_the_pages_field_names():
    found = read_definition(
        {
            "NAME": " Office ",
            "SCHEDULE_TYPE": "shift",
            "REPORT_PERIOD": "WEEK",
            "REPORT_PERIOD_OPTIONS": {"START_WEEK_DAY": 6},
            "SHIFTS": [{"WORK_TIME_START": "08:00", "WORK_TIME_END": 61200, "WORK_DAYS": "531"}],
            "CALENDAR": {"EXCLUSIONS": {"2026-01-01": 0, "2026": {"1": {"3": 1}}}},
            "SCHEDULE_VIOLATION_RULES": {"MAX_EXACT_START": "08:00:59", "MIN_DAY_DURATION": 28800},
            "ASSIGNMENTS": {"USERS": [3, 3, "4"], "EXCLUDED_DEPARTMENTS": [2]},
        },
        schedule_id=7,
        first_shift_id=20,
    )
    assert (found.id, found.name, found.schedule_type, found.start_week_day) == (
        7,
        "Office",
        "SHIFT",
        6,
    )
    assert found.shifts == (Shift(20, 8 * H, 17 * H, "135"),)
    assert found.exclusions == {"2026": {"1": {"1": 0, "3": 1}}}
    assert found.rule("MAX_EXACT_START") == 28859 and found.rule("MIN_EXACT_END") == -1
    assert found.assignments == Assignments(users=(3, 4), excluded_departments=(2,))


@pytest.mark.parametrize(
    "definition, complaint",
    [
        ({}, "NAME is required"),
        ({"NAME": "x", "SCHEDULE_TYPE": "NIGHT"}, "SCHEDULE_TYPE must be one of"),
        ({"NAME": "x", "REPORT_PERIOD": ["MONTH"]}, "REPORT_PERIOD must be one of"),
        ({"NAME": "x", "SHIFTS": [{"WORK_DAYS": "89"}]}, "WORK_DAYS must be digits"),
        ({"NAME": "x", "SHIFTS": [{"WORK_TIME_START": "24:00"}]}, "WORK_TIME_START must be"),
        ({"NAME": "x", "SHIFTS": [{"WORK_TIME_START": 0, "WORK_TIME_END": 0}]}, "cannot end"),
        ({"NAME": "x", "SHIFTS": "09-18"}, "SHIFTS must be a list"),
        ({"NAME": "x", "CALENDAR": {"EXCLUSIONS": {"2026-02-30": 0}}}, "is not a date"),
        ({"NAME": "x", "CALENDAR": {"EXCLUSIONS": {"2026-02-03": 5}}}, "between 0 and 1"),
        ({"NAME": "x", "SCHEDULE_VIOLATION_RULES": {"LATE": 1}}, "unknown violation rule"),
        ({"NAME": "x", "ASSIGNMENTS": {"USERS": [0]}}, "ASSIGNMENTS.USERS"),
        ({"NAME": "x", "ASSIGNMENTS": {"USERS": [2**31]}}, "between 1 and 2147483647"),
        ({"NAME": "x", "COLOUR": "red"}, "unknown field"),
        ({"NAME": "x", "IS_FOR_ALL_USERS": "maybe"}, "true or false"),
        ([], "a schedule must be an object"),
        # With several shifts, the refusal names which.
        ({"NAME": "x", "SHIFTS": [{}, {"WORK_DAYS": "0"}]}, "^shift 2: WORK_DAYS must be"),
        # Lengths may be H:MM (hours past a day), never minutes past 59 or a sign.
        ({"NAME": "x", "SCHEDULE_VIOLATION_RULES": {"MIN_DAY_DURATION": "8:60"}}, "H:MM"),
        ({"NAME": "x", "SCHEDULE_VIOLATION_RULES": {"MIN_OFFSET_END": "-1:00"}}, "H:MM"),
        ({"NAME": "x", "SCHEDULE_VIOLATION_RULES": {"MISSED_SHIFT_START": "0:01"}}, "whole"),
        (
            {"NAME": "x", "SCHEDULE_VIOLATION_RULES": {"MAX_SHIFT_START_DELAY": "596524:00"}},
            "H:MM",
        ),
    ],
)
def test_a_bad_definition_says_what_to_fix(definition, complaint):
    with pytest.raises(ScheduleError, match=complaint):
        read_definition(definition, 1, 1)


def test_lengths_in_the_rules_may_be_written_as_hours_and_minutes():
    rules = {"MIN_DAY_DURATION": "7:30", "MAX_WORK_TIME_LACK_FOR_PERIOD": "40:00:30",
             "MAX_ALLOWED_TO_EDIT_WORK_TIME": 300, "MAX_EXACT_START": "09:05"}  # fmt: skip
    found = read_definition({"NAME": "x", "SCHEDULE_VIOLATION_RULES": rules}, 1, 1)
    assert found.rule("MIN_DAY_DURATION") == 7 * H + 30 * 60
    assert found.rule("MAX_WORK_TIME_LACK_FOR_PERIOD") == 40 * H + 30
    assert found.rule("MAX_ALLOWED_TO_EDIT_WORK_TIME") == 300
    assert found.rule("MAX_EXACT_START") == 9 * H + 5 * 60


def test_a_fixed_schedule_without_shifts_works_office_hours_and_flextime_need_none():
    assert read_definition({"NAME": "x"}, 1, 5).shifts == (Shift(5, 9 * H, 18 * H),)
    assert read_definition({"NAME": "x", "SCHEDULE_TYPE": "FLEXTIME"}, 1, 5).shifts == ()


def test_an_update_changes_only_the_fields_given():
    base = office(for_all_users=True)
    found = read_definition({"REPORT_PERIOD": "QUARTER"}, 1, 9, base)
    assert found == replace(base, report_period="QUARTER")


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=4,
)
keys = st.sampled_from(["NAME", "SCHEDULE_TYPE", "SHIFTS", "CALENDAR", "ASSIGNMENTS",
                        "SCHEDULE_VIOLATION_RULES", "REPORT_PERIOD_OPTIONS"])  # fmt: skip


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, anything, max_size=5))
def test_any_input_is_a_schedule_or_a_schedule_error(raw):
    with contextlib.suppress(ScheduleError):
        read_definition(raw, 1, 1)


# --- the calendar ------------------------------------------------------------------------


@given(weekdays, st.sets(dates, max_size=5), st.sets(dates, max_size=5), dates)
def test_a_working_day_is_a_shift_weekday_or_made_one_and_not_a_day_off(days, off, on, day):
    schedule = office(shifts=(Shift(1, 9 * H, 18 * H, days),), exclusions=marks(off, on))
    expected = day not in off and (day in on or str(day.isoweekday()) in days)
    assert is_working_day(schedule, day) is expected


def test_flextime_without_shifts_works_every_day_but_its_days_off():
    flex = office(schedule_type="FLEXTIME", shifts=(), exclusions=marks({date(2026, 3, 8)}, set()))
    assert is_working_day(flex, date(2026, 3, 7))
    assert not is_working_day(flex, date(2026, 3, 8))


def test_the_first_shift_that_works_that_weekday_is_the_days_shift():
    early, late = Shift(1, 6 * H, 14 * H, "135"), Shift(2, 14 * H, 22 * H, "246")
    schedule = office(shifts=(early, late))
    assert shift_on(schedule, date(2026, 3, 2)) == early  # a Monday
    assert shift_on(schedule, date(2026, 3, 3)) == late
    assert shift_on(schedule, date(2026, 3, 8)) is None  # a Sunday


# --- the expected finish -----------------------------------------------------------------


@given(dates, seconds, seconds, seconds, weekdays, st.integers(-12, 14))
def test_expected_finish(day, start_s, end_s, at_s, days, hours):
    if start_s == end_s:
        end_s = (end_s + 1) % 86400
    zone = timezone(timedelta(hours=hours))
    shift = Shift(1, start_s, end_s, days)
    start = datetime.combine(day, time(0), zone) + timedelta(seconds=at_s)
    found = expected_finish(office(shifts=(shift,)), start)
    if str(day.isoweekday()) in days:
        end = datetime.combine(day, time(0), zone) + timedelta(seconds=end_s)
        assert found == (end if end_s > start_s else end + timedelta(days=1))
    else:
        assert found - start == shift.length
    assert found.utcoffset() == start.utcoffset()


def test_with_no_shift_at_all_a_day_is_expected_to_last_nine_hours():
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert expected_finish(office(schedule_type="FLEXTIME", shifts=()), start) == start + timedelta(
        hours=9
    )


@given(st.integers(0, 86399 - 60), weekdays, st.integers(0, 3 * H))
def test_an_expired_days_suggested_finish_stays_on_its_date_and_after_its_last_moment(
    start_s, days, paused
):
    start = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(seconds=start_s)
    day = Workday(start=start, tz_offset=0)
    settings = Settings(schedule=office(shifts=(Shift(1, 9 * H, 18 * H, days),)))
    found = finish_default(day, settings)
    assert start <= found <= datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
    if "1" in days and start_s < 18 * H:
        assert found == datetime(2026, 3, 2, 18, tzinfo=UTC)


# --- whom a schedule applies to ----------------------------------------------------------

ids = st.integers(1, 6)
chains = st.lists(st.lists(ids, min_size=1, max_size=3, unique=True), max_size=3)


@given(
    ids,
    chains,
    st.builds(
        Assignments,
        st.lists(ids, max_size=3).map(tuple),
        st.lists(ids, max_size=3).map(tuple),
        st.lists(ids, max_size=2).map(tuple),
        st.lists(ids, max_size=2).map(tuple),
    ),
    st.booleans(),
)
def test_who_a_schedule_applies_to(user, department_chains, assigned, for_all):
    schedule = office(assignments=assigned, for_all_users=for_all)
    rank = closeness(schedule, user, department_chains)
    if user in assigned.excluded_users:
        assert rank == 0
    elif user in assigned.users:
        assert rank == 1000
    if rank == 0 and user not in assigned.excluded_users:
        # Not for all, not named, and no department of the user's reaches an assignment.
        assert not for_all or department_chains
    assert closeness(office(assignments=assigned, deleted=True), user, department_chains) == 0


def test_the_closest_schedule_wins_and_the_oldest_on_a_tie():
    everyone = office(id=1, for_all_users=True)
    team = office(id=2, assignments=Assignments(departments=(2,)))
    other_team = office(id=3, assignments=Assignments(departments=(3,)))
    mine = office(id=4, assignments=Assignments(users=(5,)))
    found = [everyone, team, other_team, mine]
    assert effective(found, 5, [[2, 1]]) == mine
    assert effective(found, 6, [[2, 1]]) == team
    assert effective(found, 6, [[7, 3, 1]]) == other_team
    assert effective(found, 6, [[3], [2]]) == team
    assert effective(found, 6, [[9]]) == everyone
    assert effective(found, 6, []) == everyone
    left_out = office(id=1, for_all_users=True, assignments=Assignments(excluded_departments=(2,)))
    assert effective([left_out], 6, [[2, 1]]) is None
    assert effective([left_out], 6, [[8, 1]]) == left_out


# --- the settings a schedule gives -------------------------------------------------------


def test_no_schedule_leaves_the_settings_alone():
    assert shaped(Settings(free=True), None) == Settings(free=True)


def test_a_schedule_gives_its_hours_and_its_rules_win_over_its_shift():
    found = shaped(Settings(free=True, enabled=False), office())
    assert (found.free, found.enabled) == (False, False)
    assert (found.max_start, found.min_finish) == (time(9), time(18))
    assert found.min_duration == timedelta(hours=8)
    assert found.allowed_delta == timedelta(minutes=15)
    rules = {"MAX_EXACT_START": 28859, "MIN_EXACT_END": 61200, "MIN_DAY_DURATION": 7 * H,
             "MAX_ALLOWED_TO_EDIT_WORK_TIME": 300}  # fmt: skip
    found = shaped(Settings(), office(rules=rules, schedule_type="FLEXTIME"))
    assert found.free is True
    assert (found.max_start, found.min_finish) == (time(8, 0, 59), time(17))
    assert (found.min_duration, found.allowed_delta) == (timedelta(hours=7), timedelta(minutes=5))
