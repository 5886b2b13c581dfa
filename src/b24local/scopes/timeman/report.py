"""The workday and settings objects as ``timeman.*`` methods return them."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from b24local.rest.envelope import atom

from .schedule import NOTIFY_KEYS, RULE_KEYS, Schedule
from .workday import Settings, Workday, duration, finish_default, status, time_leaks


def hms(span: timedelta) -> str:
    """``HH:MM:SS``; negative spans never reach here, but read as zero."""
    seconds = max(int(span.total_seconds()), 0)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def clock_time(value: time) -> str:
    return value.strftime("%H:%M:%S")


def _coordinate(value: float | None) -> float | int:
    """PHP's ``doubleval`` through ``json_encode``: a whole number, zero for a missing
    one included, prints without a fraction (the examples' ``0``), others as floats."""
    if value is None or value.is_integer():
        return int(value or 0)
    return value


def day_result(day: Workday | None, now: datetime, settings: Settings) -> dict[str, Any]:
    """The workday object of ``timeman.status/open/pause/close``.

    For a user who never opened a day the real wrapper fills in nothing but the
    status: ``{"STATUS": "CLOSED"}``.
    """
    if day is None:
        return {"STATUS": "CLOSED"}
    state = status(day, now)
    shown = day.display_zone
    result: dict[str, Any] = {
        "STATUS": state,
        "TIME_START": atom(day.start, shown),
        "TIME_FINISH": atom(day.finish, shown) if day.finish else None,
        "DURATION": hms(duration(day)),
        "TIME_LEAKS": hms(time_leaks(day, now, settings)),
        "ACTIVE": day.active,
        "IP_OPEN": day.opened_from.ip,
        "IP_CLOSE": day.closed_from.ip if day.finish else "",
        "LAT_OPEN": _coordinate(day.opened_from.lat),
        "LON_OPEN": _coordinate(day.opened_from.lon),
        "LAT_CLOSE": _coordinate(day.closed_from.lat) if day.finish else 0,
        "LON_CLOSE": _coordinate(day.closed_from.lon) if day.finish else 0,
        "TZ_OFFSET": day.tz_offset,
    }
    if state == "EXPIRED":
        result["TIME_FINISH_DEFAULT"] = atom(finish_default(day, settings), shown)
    return result


def settings_result(settings: Settings, admin: bool | None) -> dict[str, Any]:
    """``timeman.settings``; ``ADMIN`` only when the caller asks about themselves."""
    result: dict[str, Any] = {
        "UF_TIMEMAN": settings.enabled,
        "UF_TM_FREE": settings.free,
        "UF_TM_MAX_START": clock_time(settings.max_start),
        "UF_TM_MIN_FINISH": clock_time(settings.min_finish),
        "UF_TM_MIN_DURATION": hms(settings.min_duration),
        "UF_TM_ALLOWED_DELTA": hms(settings.allowed_delta),
    }
    if admin is not None:
        result["ADMIN"] = admin
    return result


def schedule_result(schedule: Schedule, zone: tzinfo) -> dict[str, Any]:
    """``timeman.schedule.get``: field for field as the page's example, the calendar's
    ID being the schedule's own (each schedule here keeps one calendar)."""
    rules: dict[str, Any] = {"ID": schedule.id, "SCHEDULE_ID": schedule.id, "ENTITY_CODE": "UA"}
    for key in RULE_KEYS:
        rules[key] = schedule.rule(key)
    notify = schedule.rules.get("USERS_TO_NOTIFY", {})
    rules["USERS_TO_NOTIFY"] = {key: list(notify.get(key, [])) for key in NOTIFY_KEYS}
    return {
        "ID": schedule.id,
        "NAME": schedule.name,
        "SCHEDULE_TYPE": schedule.schedule_type,
        "REPORT_PERIOD": schedule.report_period,
        "REPORT_PERIOD_OPTIONS": {"START_WEEK_DAY": schedule.start_week_day},
        "CALENDAR_ID": schedule.id,
        "ALLOWED_DEVICES": {"browser": schedule.browser},
        "DELETED": "1" if schedule.deleted else "0",
        "IS_FOR_ALL_USERS": schedule.for_all_users,
        # What the example shows for a schedule with no restrictions: one JSON text.
        "WORKTIME_RESTRICTIONS": ["[]"],
        "CONTROLLED_ACTIONS": schedule.controlled_actions,
        "UPDATED_BY": schedule.updated_by,
        "DELETED_BY": schedule.deleted_by,
        "DELETED_AT": atom(schedule.deleted_at, zone) if schedule.deleted_at else "",
        "CREATED_BY": schedule.created_by,
        "CREATED_AT": atom(schedule.created_at, zone) if schedule.created_at else "",
        "SHIFTS": [
            {
                "ID": shift.id,
                "NAME": shift.name,
                "BREAK_DURATION": shift.break_duration,
                "WORK_TIME_START": shift.start,
                "WORK_TIME_END": shift.end,
                "WORK_DAYS": shift.work_days,
                "SCHEDULE_ID": schedule.id,
                "DELETED": False,
            }
            for shift in schedule.shifts
        ],
        "CALENDAR": {
            "ID": schedule.id,
            "NAME": "",
            "PARENT_CALENDAR_ID": 0,
            "SYSTEM_CODE": "",
            # PHP's json_encode: an empty array is [], a keyed one an object.
            "EXCLUSIONS": dict(schedule.exclusions) or [],
        },
        "SCHEDULE_VIOLATION_RULES": rules,
    }
