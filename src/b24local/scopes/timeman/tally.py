"""A period's figures of people's workdays: worked time, breaks, late starts and
early finishes against their settings or schedule, and time control's absences.

Pure functions of stored days, settings and ``now``: the reports page and its
exports add these up; the rules themselves are the workday's (:func:`.workday.leaks`,
:func:`.workday.finish_default`), the schedule's (:func:`.schedule.is_working_day`)
and time control's (:func:`.absences.counted`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import NamedTuple

from .absences import Record, counted, unexplained_seconds
from .schedule import is_working_day
from .workday import ZERO, Settings, Status, Workday, finish_default, leaks, status


def until(day: Workday, now: datetime, settings: Settings) -> datetime:
    """Where a day's figures stop: its finish; for a day left open past midnight,
    the finish the service suggests for it; for a day going on, now."""
    if day.finish is not None:
        return day.finish
    if status(day, now) == "EXPIRED":
        return finish_default(day, settings)
    return now


def _keeps_hours(settings: Settings, on: date) -> bool:
    """Whether a day has hours to keep: not on flexible time, and a working day
    of the person's schedule, if they have one."""
    if settings.free:
        return False
    return settings.schedule is None or is_working_day(settings.schedule, on)


def _late(start: datetime, settings: Settings) -> bool:
    """``start`` on the day's own clock."""
    return start.time() > settings.max_start


def _early(start: datetime, finish: datetime | None, settings: Settings) -> bool:
    """``start`` and ``finish`` on the day's own clock; a finish on a later date
    (a day closed after midnight) is not early."""
    return (
        finish is not None and finish.date() == start.date() and finish.time() < settings.min_finish
    )


def late_start(day: Workday, settings: Settings) -> bool:
    """Started after the latest start (``UF_TM_MAX_START``, or the schedule's)."""
    start = day.start.astimezone(day.display_zone)
    return _keeps_hours(settings, start.date()) and _late(start, settings)


def early_finish(day: Workday, settings: Settings) -> bool:
    """Finished, on the day's own date, before the earliest finish
    (``UF_TM_MIN_FINISH``, or the schedule's). A day not finished is not early."""
    zone = day.display_zone
    start = day.start.astimezone(zone)
    finish = day.finish.astimezone(zone) if day.finish else None
    return _keeps_hours(settings, start.date()) and _early(start, finish, settings)


class DayTally(NamedTuple):
    """One workday's figures (a tuple: a month's report makes tens of thousands)."""

    user_id: int
    date: date
    #: Start and finish on the day's own clock.
    start: datetime
    finish: datetime | None
    state: Status
    approved: bool
    worked: timedelta
    breaks: timedelta
    late: bool
    early: bool
    absences: int
    #: Absent time nobody explained as work.
    absent: timedelta


def _tally(
    user_id: int,
    start: datetime,
    finish: datetime | None,
    state: Status,
    approved: bool,
    worked: timedelta,
    breaks: timedelta,
    settings: Settings,
    now: datetime,
    records: Iterable[Record],
    idle_minutes: int,
) -> DayTally:
    absences = [r for r in records if r.absence and counted(r, now, idle_minutes)]
    absent = unexplained_seconds(absences, now, idle_minutes) if absences else 0
    keeps = _keeps_hours(settings, start.date())
    return DayTally(
        user_id, start.date(), start, finish, state, approved, worked, breaks,
        keeps and _late(start, settings), keeps and _early(start, finish, settings),
        len(absences), timedelta(seconds=absent),
    )  # fmt: skip


def tally_day(
    user_id: int,
    day: Workday,
    settings: Settings,
    now: datetime,
    records: Iterable[Record] = (),
    idle_minutes: int = 0,
) -> DayTally:
    """A day's figures, from the day itself."""
    end = until(day, now, settings)
    taken = leaks(day, end)
    zone = day.display_zone
    return _tally(
        user_id, day.start.astimezone(zone), day.finish.astimezone(zone) if day.finish else None,
        status(day, now), day.active, max(end - day.start - taken, ZERO), taken, settings, now,
        records, idle_minutes,
    )  # fmt: skip


def tally_closed(
    user_id: int,
    start: datetime,
    finish: datetime,
    zone: tzinfo,
    approved: bool,
    worked: timedelta,
    breaks: timedelta,
    settings: Settings,
    now: datetime,
    records: Iterable[Record] = (),
    idle_minutes: int = 0,
) -> DayTally:
    """A closed day's figures from what is stored with it: its start, finish and
    zone, and its worked and break time (kept by the store from
    :func:`.workday.duration` and :func:`.workday.break_length`), so that its
    breaks need not be read at all."""
    return _tally(
        user_id, start.astimezone(zone), finish.astimezone(zone), "CLOSED", approved, worked,
        breaks, settings, now, records, idle_minutes,
    )  # fmt: skip


@dataclass(slots=True)
class Totals:
    """Figures added up over days (of a person, a department, a date)."""

    days: int = 0
    worked: timedelta = ZERO
    breaks: timedelta = ZERO
    late: int = 0
    early: int = 0
    absences: int = 0
    absent: timedelta = ZERO
    people: set[int] = field(default_factory=set)

    def add(self, day: DayTally) -> None:
        self.days += 1
        self.worked += day.worked
        self.breaks += day.breaks
        self.late += day.late
        self.early += day.early
        self.absences += day.absences
        self.absent += day.absent
        self.people.add(day.user_id)

    def merge(self, other: Totals) -> None:
        self.days += other.days
        self.worked += other.worked
        self.breaks += other.breaks
        self.late += other.late
        self.early += other.early
        self.absences += other.absences
        self.absent += other.absent
        self.people |= other.people
