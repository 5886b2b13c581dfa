"""The workday as a pure state machine of (day, now, inputs).

A day starts, may pause and resume, closes, may be reopened the same calendar
day, and expires when a new calendar day begins before it is closed. Nothing
here reads a clock, a database or a request: each transition takes the current
day and ``now`` and returns a :class:`Transition`, or raises :class:`Refusal`.

Breaks are kept as intervals, sorted, non-overlapping and inside the day, so
``TIME_LEAKS`` is their total length and ``DURATION + TIME_LEAKS`` is always
``TIME_FINISH - TIME_START``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

Status = Literal["OPENED", "CLOSED", "PAUSED", "EXPIRED"]
ZERO = timedelta(0)


class Reason(StrEnum):
    """Why a transition was refused; the method layer maps each to an error."""

    TIME_WHILE_PAUSED = "time_while_paused"
    TIME_WHILE_OPEN = "time_while_open"
    TIME_WHILE_EXPIRED = "time_while_expired"
    OPEN_DATE_NOT_TODAY = "open_date_not_today"
    CLOSE_DATE_NOT_START_DATE = "close_date_not_start_date"
    TIME_IN_FUTURE = "time_in_future"
    TIME_BEFORE_START = "time_before_start"
    TIME_BEFORE_CLOSE = "time_before_close"
    REPORT_REQUIRED = "report_required"
    TRACKING_DISABLED = "tracking_disabled"


class Refusal(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Settings:
    """A user's work-time settings (``timeman.settings``)."""

    enabled: bool = True
    free: bool = False
    max_start: time = time(9, 15)
    min_finish: time = time(17, 45)
    min_duration: timedelta = timedelta(hours=8)
    allowed_delta: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a transition was made from: the caller's address and coordinates."""

    ip: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Break:
    start: datetime
    end: datetime | None = None  # None while the pause goes on


@dataclass(frozen=True, slots=True)
class Workday:
    start: datetime
    #: Offset of the day's zone at its start, in seconds; every date is shown in it.
    tz_offset: int
    #: The IANA zone when the day's zone came from a profile; ``None`` for a bare offset.
    zone: str | None = None
    finish: datetime | None = None
    breaks: tuple[Break, ...] = ()
    #: False while an edit waits for a supervisor's approval.
    active: bool = True
    opened_from: Place = Place()
    closed_from: Place = Place()

    @property
    def paused(self) -> bool:
        return bool(self.breaks) and self.breaks[-1].end is None

    @property
    def display_zone(self) -> tzinfo:
        return timezone(timedelta(seconds=self.tz_offset))

    @property
    def calendar_zone(self) -> tzinfo:
        """The zone whose calendar decides the day's date and expiry."""
        return ZoneInfo(self.zone) if self.zone else self.display_zone

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.calendar_zone).date()


@dataclass(frozen=True, slots=True)
class Transition:
    """A new day state, what happened, and whether it was an edit needing approval."""

    day: Workday | None
    action: str
    claimed: datetime | None = None
    needs_approval: bool = False

    @property
    def changed(self) -> bool:
        return self.action != "none"


# --- reading a day ----------------------------------------------------------------------


def status(day: Workday | None, now: datetime) -> Status:
    if day is None or day.finish is not None:
        return "CLOSED"
    if day.local_date(now) > day.local_date(day.start):
        return "EXPIRED"
    return "PAUSED" if day.paused else "OPENED"


def leaks(day: Workday, until: datetime) -> timedelta:
    """Total break time inside the day up to ``until`` (a pause going on counts)."""
    end_of_day = day.finish or until
    total = ZERO
    for pause in day.breaks:
        stop = min(pause.end or until, end_of_day)
        if stop > pause.start:
            total += stop - pause.start
    return total


def duration(day: Workday) -> timedelta:
    """Worked time of a closed day; an unfinished day reports zero."""
    if day.finish is None:
        return ZERO
    return day.finish - day.start - leaks(day, day.finish)


def finish_default(day: Workday, settings: Settings) -> datetime:
    """A suggested end for an expired day: the later of the user's minimum finish
    and start plus minimum duration plus breaks, within the start date."""
    zone = day.calendar_zone
    start_date = day.local_date(day.start)
    by_clock = datetime.combine(start_date, settings.min_finish, zone)
    last_second = datetime.combine(start_date, time(23, 59, 59), zone)
    # Every break of the day counts, however late it was taken.
    by_length = day.start + settings.min_duration + leaks(day, last_second)
    return max(day.start, min(max(by_clock, by_length), last_second))


def zone_offset(zone: tzinfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


# --- transitions -------------------------------------------------------------------------


def _is_edit(claimed: datetime, now: datetime, settings: Settings) -> bool:
    return not settings.free and abs(now - claimed) > settings.allowed_delta


def _require_report(report: str, settings: Settings) -> None:
    if not settings.free and not report.strip():
        raise Refusal(Reason.REPORT_REQUIRED)


def _check_open_time(at: datetime, now: datetime) -> None:
    """``TIME`` on open: today's date in ``TIME``'s own zone, and not in the future."""
    if at.date() != now.astimezone(at.tzinfo).date():
        raise Refusal(Reason.OPEN_DATE_NOT_TODAY)
    if at > now:
        raise Refusal(Reason.TIME_IN_FUTURE)


def open_day(
    day: Workday | None,
    now: datetime,
    *,
    settings: Settings,
    home_zone: str,
    at: datetime | None = None,
    report: str = "",
    place: Place = Place(),
) -> Transition:
    """Start a day, resume a paused one, or reopen one closed earlier today.

    ``home_zone`` is the user's profile zone (or the portal's), used when no
    ``TIME`` with an offset says otherwise.
    """
    state = status(day, now)
    if state == "PAUSED":
        assert day is not None
        if at is not None:
            raise Refusal(Reason.TIME_WHILE_PAUSED)
        ongoing = day.breaks[-1]
        # A pause resumed the same instant it began leaves no break behind.
        ended = (replace(ongoing, end=now),) if now > ongoing.start else ()
        return Transition(replace(day, breaks=(*day.breaks[:-1], *ended)), "resume")
    if state in ("OPENED", "EXPIRED"):
        if at is not None:
            raise Refusal(
                Reason.TIME_WHILE_OPEN if state == "OPENED" else Reason.TIME_WHILE_EXPIRED
            )
        return Transition(day, "none")
    if not settings.enabled:
        raise Refusal(Reason.TRACKING_DISABLED)
    if at is not None:
        _check_open_time(at, now)
        _require_report(report, settings)
    moment = at or now

    if (
        day is not None
        and day.finish is not None
        and day.local_date(now) == day.local_date(day.start)
    ):
        # Closed earlier today: reopen, and the gap since closing is a break.
        if moment < day.finish:
            raise Refusal(Reason.TIME_BEFORE_CLOSE)
        breaks = day.breaks + ((Break(day.finish, moment),) if moment > day.finish else ())
        edited = at is not None and _is_edit(at, now, settings)
        reopened = replace(
            day,
            finish=None,
            breaks=breaks,
            active=day.active and not edited,
            closed_from=Place(),
        )
        return Transition(reopened, "reopen", at, edited)

    if at is not None:
        zone: tzinfo = at.tzinfo  # type: ignore[assignment]
        zone_name = None
    else:
        zone, zone_name = ZoneInfo(home_zone), home_zone
    edited = at is not None and _is_edit(at, now, settings)
    fresh = Workday(
        start=moment,
        tz_offset=zone_offset(zone, moment),
        zone=zone_name,
        active=not edited,
        opened_from=place,
    )
    return Transition(fresh, "open", at, edited)


def pause_day(day: Workday | None, now: datetime) -> Transition:
    """Pause an open day; a day closed earlier today resumes, the time since closing
    counting as worked, and is paused now."""
    state = status(day, now)
    if day is None or state in ("PAUSED", "EXPIRED"):
        return Transition(day, "none")
    if state == "OPENED":
        return Transition(replace(day, breaks=(*day.breaks, Break(now))), "pause")
    if day.local_date(now) != day.local_date(day.start):
        return Transition(day, "none")  # closed on an earlier date: nothing to pause
    resumed = replace(day, finish=None, closed_from=Place(), breaks=(*day.breaks, Break(now)))
    return Transition(resumed, "pause")


def close_day(
    day: Workday | None,
    now: datetime,
    *,
    settings: Settings,
    at: datetime | None = None,
    report: str = "",
    place: Place = Place(),
) -> Transition:
    """Close an open, paused or expired day, now or at ``TIME`` on its start date."""
    state = status(day, now)
    if day is None or state == "CLOSED":
        return Transition(day, "none")
    moment = at or now
    if day.local_date(moment) != day.local_date(day.start):
        raise Refusal(Reason.CLOSE_DATE_NOT_START_DATE)
    if moment > now:
        raise Refusal(Reason.TIME_IN_FUTURE)
    if moment < day.start:
        raise Refusal(Reason.TIME_BEFORE_START)
    if at is not None:
        _require_report(report, settings)
    edited = at is not None and _is_edit(at, now, settings)
    closed = replace(
        day,
        finish=moment,
        breaks=_breaks_until(day.breaks, moment),
        active=day.active and not edited,
        closed_from=place,
    )
    return Transition(closed, "close", at, edited)


def _breaks_until(breaks: tuple[Break, ...], finish: datetime) -> tuple[Break, ...]:
    """Breaks cut to end by ``finish``; a pause going on ends there."""
    kept: list[Break] = []
    for pause in breaks:
        if pause.start >= finish:
            continue
        end = finish if pause.end is None or pause.end > finish else pause.end
        kept.append(Break(pause.start, end))
    return tuple(kept)


def approve(day: Workday) -> Workday:
    return replace(day, active=True)


@dataclass(frozen=True, slots=True)
class Edit:
    """A change made with ``TIME``: what was claimed, and when it was really made."""

    action: str  # "open", "reopen" or "close"
    claimed: datetime
    actual: datetime


def reject(day: Workday, edits: tuple[Edit, ...]) -> Workday:
    """Undo pending edits: each claimed moment becomes the moment the change was
    actually made (a close made on a later date snaps to the end of the start date).
    The day is then confirmed."""
    for edit in edits:
        if edit.action == "open":
            day = replace(day, start=edit.actual)
        elif edit.action == "reopen":
            day = replace(
                day,
                breaks=tuple(
                    replace(b, end=edit.actual) if b.end == edit.claimed else b for b in day.breaks
                ),
            )
        elif edit.action == "close" and day.finish is not None:
            finish = edit.actual
            if day.local_date(finish) != day.local_date(day.start):
                start_date = day.local_date(day.start)
                finish = datetime.combine(start_date, time(23, 59, 59), day.calendar_zone)
            day = replace(day, finish=finish)
    return replace(_normalized(day), active=True)


def _normalized(day: Workday) -> Workday:
    """Restore the invariants after moments moved: finish not before start; breaks
    sorted, inside the day and not overlapping."""
    finish = day.finish if day.finish is None else max(day.finish, day.start)
    limit = finish
    kept: list[Break] = []
    for pause in sorted(day.breaks, key=lambda b: b.start):
        start = max(pause.start, day.start, kept[-1].end if kept and kept[-1].end else day.start)
        end = pause.end
        if limit is not None:
            end = limit if end is None or end > limit else end
            if start >= limit:
                continue
        if end is not None and end <= start:
            continue
        kept.append(Break(start, end))
    return replace(day, finish=finish, breaks=tuple(kept))
