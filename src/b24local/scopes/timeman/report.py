"""The workday and settings objects as ``timeman.*`` methods return them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from b24local.rest.envelope import atom

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
