"""Work schedules as pure rules: what a schedule is, whom it applies to, which days
are working days, when a day is expected to end, and how it shapes the settings.

A schedule is read from a *definition*: a mapping with the field names of
``timeman.schedule.get`` (``NAME``, ``SCHEDULE_TYPE``, ``SHIFTS``, ``CALENDAR``,
``SCHEDULE_VIOLATION_RULES``, ...) plus ``ASSIGNMENTS``. The command line, seed
files and the store all go through :func:`read_definition`, so there is one set of
checks. Nothing here reads a clock, a database or a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # workday imports this module: the type only, to avoid a cycle
    from .workday import Settings

TYPES = ("FIXED", "SHIFT", "FLEXTIME")
PERIODS = ("MONTH", "WEEK", "TWO_WEEKS", "QUARTER")
DAY = 86400
#: The real service's fallback when a schedule has no shift: start + 9 hours
#: (WorktimeRecordManager::getRecommendedStopTimestamp).
NO_SHIFT_LENGTH = timedelta(hours=9)
#: IDs (and rule values) fit a 32-bit column, as the real service's do.
MAX_ID = 2**31 - 1
#: The violation rules' "no restriction".
UNSET = -1
NOTIFY_KEYS = (
    "FIXED_START_END",
    "FIXED_PER_RECORD",
    "FIXED_EDIT_WORKTIME",
    "FIXED_PERIODIC",
    "SHIFT_DELAY",
    "SHIFT_MISSED_START",
)
_RULE_DEFAULTS: dict[str, int] = {
    "MAX_EXACT_START": UNSET,
    "MIN_EXACT_END": UNSET,
    "MAX_OFFSET_START": UNSET,
    "MIN_OFFSET_END": UNSET,
    "RELATIVE_START_FROM": UNSET,
    "RELATIVE_START_TO": UNSET,
    "RELATIVE_END_FROM": UNSET,
    "RELATIVE_END_TO": UNSET,
    "MIN_DAY_DURATION": UNSET,
    "MAX_ALLOWED_TO_EDIT_WORK_TIME": UNSET,
    "MAX_WORK_TIME_LACK_FOR_PERIOD": UNSET,
    "PERIOD_TIME_LACK_AGENT_ID": 0,
    "MAX_SHIFT_START_DELAY": UNSET,
    "MISSED_SHIFT_START": 0,
}
RULE_KEYS = tuple(_RULE_DEFAULTS)
#: Rules that are a moment of the day (seconds from midnight) and may be "HH:MM".
_CLOCK_RULES = {"MAX_EXACT_START", "MIN_EXACT_END"}
#: Rules that are not a length of time: an ID and a flag, never "HH:MM".
_PLAIN_RULES = {"PERIOD_TIME_LACK_AGENT_ID", "MISSED_SHIFT_START"}


class ScheduleError(ValueError):
    """A definition that cannot be a schedule; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    start: int  # seconds from midnight
    end: int  # seconds from midnight; not after start means the shift ends next day
    work_days: str = "12345"  # ISO weekdays, 1 = Monday
    break_duration: int = 0
    name: str = ""

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=(self.end - self.start) % DAY or DAY)

    def works_on(self, day: date) -> bool:
        return str(day.isoweekday()) in self.work_days


@dataclass(frozen=True, slots=True)
class Assignments:
    users: tuple[int, ...] = ()
    departments: tuple[int, ...] = ()
    excluded_users: tuple[int, ...] = ()
    excluded_departments: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    name: str
    schedule_type: str = "FIXED"
    report_period: str = "MONTH"
    start_week_day: int = 0
    for_all_users: bool = False
    browser: bool = True
    controlled_actions: int = 3
    shifts: tuple[Shift, ...] = ()
    #: {year: {month: {day: 0 (day off) or 1 (working day)}}}, as the calendar keeps it.
    exclusions: Mapping[str, Any] = field(default_factory=dict, hash=False)
    rules: Mapping[str, Any] = field(default_factory=dict, hash=False)
    assignments: Assignments = Assignments()
    deleted: bool = False
    created_by: int = 0
    created_at: datetime | None = None
    updated_by: int = 0
    deleted_by: int = 0
    deleted_at: datetime | None = None

    @property
    def flexible(self) -> bool:
        return self.schedule_type == "FLEXTIME"

    def rule(self, key: str) -> int:
        return int(self.rules.get(key, _RULE_DEFAULTS[key]))


# --- reading a definition ----------------------------------------------------------------


def _int(value: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ScheduleError(f"{what} must be a whole number, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ScheduleError(f"{what} must be a whole number, not {value!r}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ScheduleError(f"{what} must be between {low} and {high}, not {number}")
    return number


def clock_seconds(value: Any, what: str) -> int:
    """Seconds from midnight: a number of seconds or ``HH:MM[:SS]``."""
    if isinstance(value, str) and ":" in value:
        parts = value.strip().split(":")
        if len(parts) in (2, 3) and all(p.isascii() and p.isdigit() for p in parts):
            h, m, s = (int(p) for p in [*parts, "0"][:3])
            if h < 24 and m < 60 and s < 60:
                return h * 3600 + m * 60 + s
        raise ScheduleError(f"{what} must be HH:MM[:SS] or seconds, not {value!r}")
    return _int(value, what, 0, DAY - 1)


def span_seconds(value: Any, what: str) -> int:
    """A length in seconds: a number of seconds or ``H:MM[:SS]``, hours unbounded
    (a period's shortfall may be longer than a day) up to :data:`MAX_ID` seconds."""
    if isinstance(value, str) and ":" in value:
        parts = value.strip().split(":")
        if len(parts) in (2, 3) and all(p.isascii() and p.isdigit() and p for p in parts):
            h, m, s = (int(p) for p in [*parts, "0"][:3])
            if m < 60 and s < 60 and h * 3600 + m * 60 + s <= MAX_ID:
                return h * 3600 + m * 60 + s
        raise ScheduleError(f"{what} must be H:MM[:SS] or seconds, not {value!r}")
    return _int(value, what, 0, MAX_ID)


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("Y", "1", 1, "true"):
        return True
    if value in ("N", "0", 0, "false"):
        return False
    raise ScheduleError(f"{what} must be true or false, not {value!r}")


def _ids(value: Any, what: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ScheduleError(f"{what} must be a list of IDs")
    return tuple(dict.fromkeys(_int(v, what, 1, MAX_ID) for v in value))


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ScheduleError(f"{what} must be an object")
    return value


def _shift(raw: Any, shift_id: int) -> Shift:
    body = _mapping(raw, "a shift")
    days = str(body.get("WORK_DAYS", "12345"))
    if not days or not set(days) <= set("1234567"):
        raise ScheduleError(f"WORK_DAYS must be digits 1-7 (1 = Monday), not {days!r}")
    start = clock_seconds(body.get("WORK_TIME_START", 9 * 3600), "WORK_TIME_START")
    end = clock_seconds(body.get("WORK_TIME_END", 18 * 3600), "WORK_TIME_END")
    if start == end:
        raise ScheduleError("a shift cannot end when it starts")
    name = body.get("NAME", "")
    if not isinstance(name, str):
        raise ScheduleError("a shift's NAME must be text")
    pause = clock_seconds(body.get("BREAK_DURATION", 0), "BREAK_DURATION")
    return Shift(shift_id, start, end, "".join(sorted(set(days))), pause, name)


def _shifts(raw: list[Any], first_id: int) -> list[Shift]:
    """Each shift read, a refusal naming which (counted from 1) when there are several."""
    found = []
    for number, body in enumerate(raw, 1):
        try:
            found.append(_shift(body, first_id + number - 1))
        except ScheduleError as error:
            if len(raw) == 1:
                raise
            raise ScheduleError(f"shift {number}: {error}") from None
    return found


def _exclusions(raw: Any) -> dict[str, Any]:
    """``{year: {month: {day: 0|1}}}``; a date list ``{"2026-01-01": 0}`` is also taken."""
    body = _mapping(raw, "CALENDAR.EXCLUSIONS") if raw != [] else {}
    result: dict[str, dict[str, dict[str, int]]] = {}
    for key, value in body.items():
        if isinstance(value, Mapping):
            for month, days in value.items():
                for day, kind in _mapping(days, "CALENDAR.EXCLUSIONS").items():
                    _add_exclusion(result, f"{key}-{month}-{day}", kind)
        else:
            _add_exclusion(result, str(key), value)
    return result


def _add_exclusion(into: dict[str, Any], text: str, kind: Any) -> None:
    try:
        year, month, day = (int(p) for p in text.split("-"))
        date(year, month, day)
    except ValueError:
        raise ScheduleError(f"calendar exclusion {text!r} is not a date (YYYY-MM-DD)") from None
    mark = _int(kind, f"the kind of {text}", 0, 1)
    into.setdefault(str(year), {}).setdefault(str(month), {})[str(day)] = mark


def _rules(raw: Any) -> dict[str, Any]:
    body = _mapping(raw, "SCHEDULE_VIOLATION_RULES")
    unknown = set(body) - set(_RULE_DEFAULTS) - {"USERS_TO_NOTIFY"}
    if unknown:
        raise ScheduleError(f"unknown violation rule(s): {', '.join(sorted(unknown))}")
    rules: dict[str, Any] = {}
    for key, value in body.items():
        if key == "USERS_TO_NOTIFY":
            notify = _mapping(value, key)
            rules[key] = {k: [f"U{i}" for i in _notified(notify.get(k))] for k in NOTIFY_KEYS}
        elif key in _CLOCK_RULES and value != UNSET:
            rules[key] = clock_seconds(value, key)
        elif key not in _PLAIN_RULES and isinstance(value, str) and ":" in value:
            rules[key] = span_seconds(value, key)
        else:
            rules[key] = _int(value, key, UNSET, MAX_ID)
    return rules


def _notified(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ScheduleError("USERS_TO_NOTIFY lists must be lists of users")
    return _ids([str(v).removeprefix("U") for v in value], "USERS_TO_NOTIFY")


def read_definition(
    raw: Any, schedule_id: int, first_shift_id: int, base: Schedule | None = None
) -> Schedule:
    """A schedule from a definition; with ``base``, only the fields given change.

    Shifts get IDs from ``first_shift_id`` on, unless they are the base's unchanged.
    """
    body = _mapping(raw, "a schedule")
    known = {
        "ID", "NAME", "SCHEDULE_TYPE", "REPORT_PERIOD", "REPORT_PERIOD_OPTIONS",
        "IS_FOR_ALL_USERS", "ALLOWED_DEVICES", "CONTROLLED_ACTIONS", "SHIFTS", "CALENDAR",
        "SCHEDULE_VIOLATION_RULES", "ASSIGNMENTS",
    }  # fmt: skip
    unknown = set(body) - known
    if unknown:
        raise ScheduleError(f"unknown field(s): {', '.join(sorted(unknown))}")
    found = base or Schedule(id=schedule_id, name="")
    changes: dict[str, Any] = {}
    if "NAME" in body or base is None:
        name = body.get("NAME")
        if not isinstance(name, str) or not name.strip():
            raise ScheduleError("NAME is required and must be text")
        changes["name"] = name.strip()
    if "SCHEDULE_TYPE" in body:
        kind = str(body["SCHEDULE_TYPE"]).upper()
        if kind not in TYPES:
            raise ScheduleError(f"SCHEDULE_TYPE must be one of {', '.join(TYPES)}")
        changes["schedule_type"] = kind
    if "REPORT_PERIOD" in body:
        period = str(body["REPORT_PERIOD"]).upper()
        if period not in PERIODS:
            raise ScheduleError(f"REPORT_PERIOD must be one of {', '.join(PERIODS)}")
        changes["report_period"] = period
    if "REPORT_PERIOD_OPTIONS" in body:
        options = _mapping(body["REPORT_PERIOD_OPTIONS"], "REPORT_PERIOD_OPTIONS")
        changes["start_week_day"] = _int(options.get("START_WEEK_DAY", 0), "START_WEEK_DAY", 0, 6)
    if "IS_FOR_ALL_USERS" in body:
        changes["for_all_users"] = _bool(body["IS_FOR_ALL_USERS"], "IS_FOR_ALL_USERS")
    if "ALLOWED_DEVICES" in body:
        devices = _mapping(body["ALLOWED_DEVICES"], "ALLOWED_DEVICES")
        changes["browser"] = _bool(devices.get("browser", True), "ALLOWED_DEVICES.browser")
    if "CONTROLLED_ACTIONS" in body:
        changes["controlled_actions"] = _int(body["CONTROLLED_ACTIONS"], "CONTROLLED_ACTIONS", 0, 3)
    if "SHIFTS" in body:
        shifts = body["SHIFTS"]
        if not isinstance(shifts, list) or len(shifts) > 50:
            raise ScheduleError("SHIFTS must be a list of at most 50 shifts")
        changes["shifts"] = tuple(_shifts(shifts, first_shift_id))
    if "CALENDAR" in body:
        calendar = _mapping(body["CALENDAR"], "CALENDAR")
        changes["exclusions"] = _exclusions(calendar.get("EXCLUSIONS"))
    if "SCHEDULE_VIOLATION_RULES" in body:
        changes["rules"] = _rules(body["SCHEDULE_VIOLATION_RULES"])
    if "ASSIGNMENTS" in body:
        changes["assignments"] = read_assignments(body["ASSIGNMENTS"])
    schedule = replace(found, **changes)
    if schedule.schedule_type != "FLEXTIME" and not schedule.shifts:
        # The real form refuses a fixed or shift schedule without working hours.
        schedule = replace(schedule, shifts=(Shift(first_shift_id, 9 * 3600, 18 * 3600),))
    return schedule


def definition_of(schedule: Schedule) -> dict[str, Any]:
    """The definition :func:`read_definition` reads back into ``schedule`` (its IDs
    of shifts aside): what a state file's export writes."""
    assigned = schedule.assignments
    return {
        "ID": schedule.id,
        "NAME": schedule.name,
        "SCHEDULE_TYPE": schedule.schedule_type,
        "REPORT_PERIOD": schedule.report_period,
        "REPORT_PERIOD_OPTIONS": {"START_WEEK_DAY": schedule.start_week_day},
        "IS_FOR_ALL_USERS": schedule.for_all_users,
        "ALLOWED_DEVICES": {"browser": schedule.browser},
        "CONTROLLED_ACTIONS": schedule.controlled_actions,
        "SHIFTS": [
            {
                "NAME": shift.name,
                "WORK_TIME_START": shift.start,
                "WORK_TIME_END": shift.end,
                "WORK_DAYS": shift.work_days,
                "BREAK_DURATION": shift.break_duration,
            }
            for shift in schedule.shifts
        ],
        "CALENDAR": {"EXCLUSIONS": dict(schedule.exclusions)},
        "SCHEDULE_VIOLATION_RULES": dict(schedule.rules),
        "ASSIGNMENTS": {
            "USERS": list(assigned.users),
            "DEPARTMENTS": list(assigned.departments),
            "EXCLUDED_USERS": list(assigned.excluded_users),
            "EXCLUDED_DEPARTMENTS": list(assigned.excluded_departments),
        },
    }


def read_assignments(raw: Any) -> Assignments:
    body = _mapping(raw, "ASSIGNMENTS")
    keys = ("USERS", "DEPARTMENTS", "EXCLUDED_USERS", "EXCLUDED_DEPARTMENTS")
    unknown = set(body) - set(keys)
    if unknown:
        raise ScheduleError(f"unknown assignment(s): {', '.join(sorted(unknown))}")
    return Assignments(*(_ids(body.get(k), f"ASSIGNMENTS.{k}") for k in keys))


# --- whom a schedule applies to ----------------------------------------------------------


def closeness(schedule: Schedule, user_id: int, department_chains: Sequence[Sequence[int]]) -> int:
    """How closely a schedule is assigned to a user; 0 when it does not apply.

    ``department_chains`` holds, for each of the user's departments, that department
    and its parents up to the root. An exclusion at some level beats an assignment
    further up (a department excluded from a schedule for all users), and a user
    named directly wins over departments. Higher is closer.
    """
    a = schedule.assignments
    if schedule.deleted or user_id in a.excluded_users:
        return 0
    if user_id in a.users:
        return 1000
    best = 0
    for chain in department_chains:
        for depth, department_id in enumerate(chain):
            if department_id in a.excluded_departments:
                break
            if department_id in a.departments:
                best = max(best, 999 - depth)
                break
        else:
            if schedule.for_all_users:
                best = max(best, 1)
    if not department_chains and schedule.for_all_users:
        best = 1
    return best


def effective(
    schedules: Sequence[Schedule], user_id: int, department_chains: Sequence[Sequence[int]]
) -> Schedule | None:
    """The user's schedule: the closest assigned one, the oldest on a tie."""
    ranked = [(closeness(s, user_id, department_chains), -s.id, s) for s in schedules]
    ranked = [r for r in ranked if r[0] > 0]
    return max(ranked, key=lambda r: r[:2])[2] if ranked else None


# --- calendar and the expected end of a day ----------------------------------------------


def exclusion(schedule: Schedule, day: date) -> int | None:
    """The calendar's word on a date: 0 day off, 1 working day, None for the usual."""
    months = schedule.exclusions.get(str(day.year), {})
    mark = months.get(str(day.month), {}).get(str(day.day))
    return None if mark is None else int(mark)


def shift_on(schedule: Schedule, day: date) -> Shift | None:
    """The shift worked on a date: none on a day off; on a date the calendar makes a
    working day, the first shift even if its weekdays leave the date out."""
    mark = exclusion(schedule, day)
    if mark == 0:
        return None
    for shift in schedule.shifts:
        if shift.works_on(day):
            return shift
    return schedule.shifts[0] if mark == 1 and schedule.shifts else None


def is_working_day(schedule: Schedule, day: date) -> bool:
    if schedule.flexible and not schedule.shifts:
        return exclusion(schedule, day) != 0
    return shift_on(schedule, day) is not None


def expected_finish(schedule: Schedule, start: datetime) -> datetime:
    """When a day begun at ``start`` (on its own clock) is expected to end: the end of
    that date's shift; on a date with no shift, the start plus the first shift's
    length; with no shifts at all, the start plus nine hours."""
    shift = shift_on(schedule, start.date())
    if shift is not None:
        midnight = datetime.combine(start.date(), time(0), start.tzinfo)
        end = midnight + timedelta(seconds=shift.end)
        return end if shift.end > shift.start else end + timedelta(days=1)
    if schedule.shifts:
        return start + schedule.shifts[0].length
    return start + NO_SHIFT_LENGTH


def clock(seconds: int) -> time:
    return time(seconds // 3600 % 24, seconds % 3600 // 60, seconds % 60)


def shaped(settings: Settings, schedule: Schedule | None) -> Settings:
    """The settings a schedule gives its user: flexible time from its type (as the
    real ``CTimeManUser`` decides ``UF_TM_FREE``), the latest start, earliest
    finish, shortest day and edit tolerance from its violation rules where they are
    set, else from its first shift. ``UF_TIMEMAN`` stays the user's own."""
    if schedule is None:
        return settings
    first = schedule.shifts[0] if schedule.shifts else None

    def rule_or(key: str, from_shift: int | None) -> int | None:
        value = schedule.rule(key)
        return value if value >= 0 else from_shift

    max_start = rule_or("MAX_EXACT_START", first.start if first else None)
    min_finish = rule_or("MIN_EXACT_END", first.end if first else None)
    worked = int(first.length.total_seconds()) - first.break_duration if first else None
    min_duration = rule_or("MIN_DAY_DURATION", worked if worked and worked > 0 else None)
    delta = rule_or("MAX_ALLOWED_TO_EDIT_WORK_TIME", None)
    changes: dict[str, Any] = {"free": schedule.flexible, "schedule": schedule}
    if max_start is not None:
        changes["max_start"] = clock(max_start)
    if min_finish is not None:
        changes["min_finish"] = clock(min_finish)
    if min_duration is not None:
        changes["min_duration"] = timedelta(seconds=min_duration)
    if delta is not None:
        changes["allowed_delta"] = timedelta(seconds=delta)
    return replace(settings, **changes)
