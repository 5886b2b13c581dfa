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
from datetime import date, datetime, time, timedelta

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


def _keeps_hours(day: Workday, settings: Settings) -> bool:
    """Whether the day has hours to keep: not on flexible time, and a working day
    of the person's schedule, if they have one."""
    if settings.free:
        return False
    return settings.schedule is None or is_working_day(settings.schedule, day.start_date)


def _clock(moment: datetime, day: Workday) -> time:
    return moment.astimezone(day.display_zone).time().replace(tzinfo=None)


def late_start(day: Workday, settings: Settings) -> bool:
    """Started after the latest start (``UF_TM_MAX_START``, or the schedule's)."""
    return _keeps_hours(day, settings) and _clock(day.start, day) > settings.max_start


def early_finish(day: Workday, settings: Settings) -> bool:
    """Finished, on the day's own date, before the earliest finish
    (``UF_TM_MIN_FINISH``, or the schedule's). A day not finished is not early."""
    if day.finish is None or not _keeps_hours(day, settings):
        return False
    local = day.finish.astimezone(day.display_zone)
    return local.date() == day.start_date and _clock(day.finish, day) < settings.min_finish


@dataclass(frozen=True, slots=True)
class DayTally:
    """One workday's figures."""

    user_id: int
    date: date
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


def tally_day(
    user_id: int,
    day: Workday,
    settings: Settings,
    now: datetime,
    records: Iterable[Record] = (),
    idle_minutes: int = 0,
) -> DayTally:
    end = until(day, now, settings)
    taken = leaks(day, end)
    absences = [r for r in records if r.absence and counted(r, now, idle_minutes)]
    return DayTally(
        user_id=user_id,
        date=day.start_date,
        start=day.start.astimezone(day.display_zone),
        finish=day.finish.astimezone(day.display_zone) if day.finish else None,
        state=status(day, now),
        approved=day.active,
        worked=max(end - day.start - taken, ZERO),
        breaks=taken,
        late=late_start(day, settings),
        early=early_finish(day, settings),
        absences=len(absences),
        absent=timedelta(seconds=unexplained_seconds(absences, now, idle_minutes)),
    )


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
