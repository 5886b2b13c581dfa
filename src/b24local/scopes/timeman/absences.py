"""Time control as pure rules: its settings, when a user counts as absent, and the
monthly report of ``timeman.timecontrol.reports.get``. No clock, no storage.

An absence is a stretch of *working* time (a workday open, not paused) during
which the user was away: idle (``im.user.status.idle.start``) or with the status
``away``. Whether such a stretch is going on is a function of the presence, the
day and now (:func:`absent_since`); the adapters compare it with the record that
is open and open or close records to match, so every change of presence or
workday takes the same path.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from typing import Any, Literal

from b24local.rest.envelope import atom
from b24local.rest.params import php_int, php_str

from ..im.presence import Presence
from .network import NetworkRange, check
from .workday import Workday, leaks, status

ListType = Literal["all", "user", "none"]
LIST_TYPES: tuple[str, ...] = ("all", "user", "none")
ViewType = Literal["none", "head", "full", "simple"]
#: The office networks a detailed report checks addresses against.
Ranges = Sequence[NetworkRange]

#: Kinds of records (``type``): the absences a user may explain, and the workday marks.
ABSENCE_TYPES = ("IDLE", "OFFLINE")
TM_TYPES = {"open": "TM_START", "pause": "TM_PAUSE", "resume": "TM_CONTINUE",
            "reopen": "TM_CONTINUE", "close": "TM_END"}  # fmt: skip
#: The presence status that counts as stepping away, like the idle status does.
AWAY_STATUS = "away"
#: Bounds on what settings.set stores: more users than a portal has, and a week of minutes.
MAX_LISTED_USERS = 10_000
MAX_IDLE_MINUTES = 7 * 24 * 60
MONTHS = tuple(calendar.month_name)
#: The years reports.get takes.
FIRST_YEAR, LAST_YEAR = 1970, 9998


class InvalidSetting(ValueError):
    """A ``timeman.timecontrol.settings.set`` parameter of the wrong type or value."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """The portal's time control settings (``settings.get``), as stored."""

    active: bool = False
    minimum_idle_for_report: int = 15
    register_offline: bool = True
    register_idle: bool = True
    register_desktop: bool = True
    report_request_type: str = "none"
    report_request_users: tuple[int, ...] = ()
    report_simple_type: str = "none"
    report_simple_users: tuple[int, ...] = ()
    report_full_type: str = "none"
    report_full_users: tuple[int, ...] = ()

    def as_result(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "minimum_idle_for_report": self.minimum_idle_for_report,
            "register_offline": self.register_offline,
            "register_idle": self.register_idle,
            "register_desktop": self.register_desktop,
            "report_request_type": self.report_request_type,
            "report_request_users": list(self.report_request_users),
            "report_simple_type": self.report_simple_type,
            "report_simple_users": list(self.report_simple_users),
            "report_full_type": self.report_full_type,
            "report_full_users": list(self.report_full_users),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_result())

    @classmethod
    def from_json(cls, text: str | None) -> ControlSettings:
        if not text:
            return cls()
        stored = json.loads(text)
        lists = {k: tuple(v) for k, v in stored.items() if k.endswith("_users")}
        return cls(**{**stored, **lists})


# --- settings.set --------------------------------------------------------------------------

_FLAGS = {"ACTIVE": "active", "REGISTER_OFFLINE": "register_offline",
          "REGISTER_IDLE": "register_idle", "REGISTER_DESKTOP": "register_desktop"}  # fmt: skip
_TYPES = {"REPORT_REQUEST_TYPE": "report_request_type", "REPORT_SIMPLE_TYPE": "report_simple_type",
          "REPORT_FULL_TYPE": "report_full_type"}  # fmt: skip


def _flag(name: str, value: Any) -> bool | None:
    """A boolean as Bitrix clients send one; ``None``: leave the setting as it is.

    For ``ACTIVE`` the page says JSON ``false`` does not switch the module off
    (only ``0`` does), so a ``false`` there is ignored.
    """
    if isinstance(value, bool):
        return None if (name == "ACTIVE" and not value) else value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "y", "true"):
            return True
        if lowered in ("0", "n", "false", ""):
            return None if (name == "ACTIVE" and lowered == "false") else False
    raise InvalidSetting(name, "expected true, false, 1, 0, Y or N")


def _users(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, str) and value.strip() == "":
        return ()
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, list):
        raise InvalidSetting(name, "expected an array of user IDs")
    if len(value) > MAX_LISTED_USERS:
        raise InvalidSetting(name, f"more than {MAX_LISTED_USERS} user IDs")
    ids: dict[int, None] = {}
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise InvalidSetting(name, "expected an array of user IDs")
        user_id = php_int(item)
        if user_id <= 0 or str(item).strip() != str(user_id):
            raise InvalidSetting(name, "expected an array of user IDs")
        ids[user_id] = None
    return tuple(ids)


def apply_settings(current: ControlSettings, params: Mapping[str, Any]) -> ControlSettings:
    """``settings.set``: the parameters given (upper-case keys) over the current ones.

    Every value is checked before anything changes; one bad value and nothing does.
    """
    changes: dict[str, Any] = {}
    for name, attribute in _FLAGS.items():
        if name in params:
            flag = _flag(name, params[name])
            if flag is not None:
                changes[attribute] = flag
    if "MINIMUM_IDLE_FOR_REPORT" in params:
        raw = params["MINIMUM_IDLE_FOR_REPORT"]
        text = php_str(raw).strip() if not isinstance(raw, bool | list | dict) else ""
        if not text.isdigit() or not 0 <= int(text) <= MAX_IDLE_MINUTES:
            raise InvalidSetting(
                "MINIMUM_IDLE_FOR_REPORT", f"expected minutes from 0 to {MAX_IDLE_MINUTES}"
            )
        changes["minimum_idle_for_report"] = int(text)
    for name, attribute in _TYPES.items():
        if name in params:
            value = params[name]
            if not isinstance(value, str) or value.strip().lower() not in LIST_TYPES:
                raise InvalidSetting(name, "expected all, user or none")
            changes[attribute] = value.strip().lower()
        users = name.replace("_TYPE", "_USERS")
        if users in params:
            changes[attribute.replace("_type", "_users")] = _users(users, params[users])
    return replace(current, **changes)


def listed(kind: str, users: Sequence[int], user_id: int) -> bool:
    """Whether a setting of type ``all``/``user``/``none`` covers the user."""
    return kind == "all" or (kind == "user" and user_id in users)


# --- detecting absences ----------------------------------------------------------------------


def away_since(presence: Presence) -> datetime | None:
    """Since when the user is away: idle since, or else the moment the status
    ``away`` was chosen (choosing a status is the last activity)."""
    if presence.idle_since is not None:
        return presence.idle_since
    if presence.status == AWAY_STATUS:
        return presence.last_activity
    return None


def working_since(day: Workday | None, now: datetime) -> datetime | None:
    """Start of the stretch of work going on now: the day's start, or when it last
    resumed after a pause or a close; None when not working.

    The end of the last break says it too (a reopened day's gap is a break), but
    not for a day resumed within the second it paused or closed, which leaves no
    break: ``resumed`` does (days stored before it was kept have the breaks only).
    """
    if day is None or status(day, now) != "OPENED":
        return None
    ended = [b.end for b in day.breaks if b.end is not None]
    return max([day.start, *ended, *([day.resumed] if day.resumed else [])])


def absent_since(
    presence: Presence, day: Workday | None, now: datetime, settings: ControlSettings
) -> datetime | None:
    """When the absence going on now began: the later of being away and working.
    None when the user is not absent now, or time control does not register idling."""
    if not (settings.active and settings.register_idle):
        return None
    away, working = away_since(presence), working_since(day, now)
    if away is None or working is None:
        return None
    # Whole seconds, as records are kept: the stored start compares equal next time.
    return min(max(away, working), now).replace(microsecond=0)


def stopped_working(day: Workday | None, now: datetime) -> datetime:
    """When work stopped, for an absence whose workday is no longer open: the close,
    the pause, or for an expired day the last second of its start date."""
    if day is None:
        return now
    if day.finish is not None:
        return min(day.finish, now)
    if day.paused:
        return min(day.breaks[-1].start, now)
    if status(day, now) == "EXPIRED":
        return min(day.on_start_date(time(23, 59, 59)), now)
    return now


@dataclass(frozen=True, slots=True)
class Sync:
    """What to do with the open absence record: close it at ``close_at``, and/or
    open a new one from ``open_from``."""

    close_at: datetime | None = None
    open_from: datetime | None = None


def sync(
    open_record_start: datetime | None,
    presence: Presence,
    day: Workday | None,
    now: datetime,
    settings: ControlSettings,
    floor: datetime | None = None,
    record_day: Workday | None = None,
) -> Sync:
    """Bring the records in line with the state: one open record exactly while absent.

    ``floor`` is where the last finished record ended: an idle stretch back-dated
    (``AGO``) into it starts there instead, so records never overlap.
    ``record_day`` is the open record's workday when that is not ``day`` (a day
    left to expire, a new one opened since): the record ends with its own day.
    """
    since = absent_since(presence, day, now, settings)
    if since is not None and floor is not None:
        since = min(max(since, floor), now)
    if open_record_start is not None and since == open_record_start:
        return Sync()
    if open_record_start is None:
        return Sync(open_from=since)
    if record_day is not None and record_day is not day:
        ended = stopped_working(record_day, now)
    elif working_since(day, now) is not None:
        ended = now
    else:
        ended = stopped_working(day, now)
    close_at = max(ended, open_record_start)
    # A new stretch back-dated into the one just closed starts where that one ends.
    return Sync(close_at=close_at, open_from=max(since, close_at) if since else None)


# --- the monthly report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One time control record: an absence, or a mark of a workday change."""

    id: int
    user_id: int
    workday_id: int
    type: str
    start: datetime
    finish: datetime | None
    source_start: str
    source_finish: str
    ip_start: str = ""
    ip_finish: str = ""
    report_type: str = "NONE"
    report_text: str | None = None
    system_text: str | None = None
    calendar: bool = False

    @property
    def absence(self) -> bool:
        return self.type in ABSENCE_TYPES

    def seconds(self, now: datetime) -> int:
        return max(int(((self.finish or now) - self.start).total_seconds()), 0)


def month_bounds(year: int, month: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """First and last second of the month on the user's clock."""
    last = calendar.monthrange(year, month)[1]
    first = datetime.combine(date(year, month, 1), time(0, 0), zone)
    return first, datetime.combine(date(year, month, last), time(23, 59, 59), zone)


def counted(record: Record, now: datetime, idle_minutes: int) -> bool:
    """Whether an absence is long enough to be one: idle stretches up to the allowed
    minutes are ordinary work (the setting is the longest absence not counted)."""
    return record.seconds(now) > idle_minutes * 60


def unexplained_seconds(records: Iterable[Record], now: datetime, idle_minutes: int) -> int:
    """Time lost to absences nobody explained as work (an explained one is work)."""
    return sum(
        r.seconds(now)
        for r in records
        if r.absence and counted(r, now, idle_minutes) and r.report_type != "WORK"
    )


@dataclass(frozen=True, slots=True)
class DayReport:
    workday_id: int
    day: Workday
    records: tuple[Record, ...] = field(default=())


#: What only managers see of a record; the real module drops these keys for the
#: ``full`` list (``simple`` sees no records at all).
MANAGER_ONLY = ("ip_start", "ip_finish", "ip_start_network", "ip_finish_network", "system_text")


def record_result(
    record: Record, now: datetime, zone: tzinfo, view: ViewType, ranges: Ranges
) -> dict[str, Any]:
    """One entry of a day's ``reports``. Managers see the addresses and whether they
    are in the office network (``ranges``: the office networks now)."""

    def where(ip: str) -> dict[str, str] | Literal[False]:
        return check(ranges, ip) if ip else False

    result = {
        "id": str(record.id),
        "user_id": str(record.user_id),
        "type": record.type,
        "date_start": atom(record.start, zone),
        "date_finish": atom(record.finish or now, zone),
        "duration": record.seconds(now),
        "active": record.finish is None,
        "entry_id": str(record.workday_id),
        "report_type": record.report_type,
        "report_text": record.report_text,
        "system_text": record.system_text,
        "source_start": record.source_start,
        "source_finish": record.source_finish if record.finish is not None else None,
    }
    if view == "head":
        result["ip_start"], result["ip_finish"] = record.ip_start, record.ip_finish
        result["ip_start_network"] = where(record.ip_start)
        result["ip_finish_network"] = where(record.ip_finish)
    else:
        del result["system_text"]
    return result


def workday_hours(asked: int) -> int:
    """``WORKDAY_HOURS`` as the real module takes it: anything below one hour is one.
    b24local keeps it within a year's hours so the figures stay 32-bit numbers."""
    return min(max(asked, 1), 366 * 24)


def day_result(
    entry: DayReport,
    now: datetime,
    *,
    view: ViewType,
    idle_minutes: int,
    workday_hours: int,
    ranges: Ranges | None,
) -> dict[str, Any]:
    """One of ``days``: the workday's figures and the records shown for it: all of
    them to managers and the ``full`` list, none to the ``simple`` one."""
    day, zone = entry.day, entry.day.display_zone
    until = day.finish or now
    shown = [
        r
        for r in entry.records
        if view in ("head", "full") and (not r.absence or counted(r, now, idle_minutes))
    ]
    real = unexplained_seconds(entry.records, now, idle_minutes)
    span = max(int((until - day.start).total_seconds()), 0)
    breaks = int(leaks(day, until).total_seconds())
    config = workday_hours * 3600
    final = max(span - breaks - real, 0)
    local = day.start.astimezone(zone)
    return {
        "index": local.strftime("%Y%m%d"),
        "day_title": local.strftime("%m/%d/%Y"),
        "workday_date_start": atom(day.start, zone),
        "workday_date_finish": atom(until, zone),
        "workday_complete": day.finish is not None,
        "workday_time_leaks_user": breaks,
        "workday_time_leaks_final": config - final,
        "workday_duration": span,
        "workday_duration_final": final,
        "workday_duration_config": config,
        "reports": [record_result(r, now, zone, view, ranges or []) for r in shown],
        "workday_time_leaks_real": real,
    }


def group_by_day(days: Iterable[tuple[int, Workday]], records: Iterable[Record]) -> list[DayReport]:
    """The days with their records, in the order the days started."""
    by_day: dict[int, list[Record]] = {}
    for record in records:
        by_day.setdefault(record.workday_id, []).append(record)
    ordered = sorted(days, key=lambda pair: (pair[1].start, pair[0]))
    return [
        DayReport(wid, day, tuple(sorted(by_day.get(wid, ()), key=lambda r: (r.start, r.id))))
        for wid, day in ordered
    ]
