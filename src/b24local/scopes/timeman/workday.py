"""The workday as a pure state machine of (day, now, inputs).

A day starts, may pause and resume, closes, may be reopened the same calendar
day, and expires when a new calendar day begins before it is closed. Nothing
here reads a clock, a database or a request: each transition takes the current
day and ``now`` and returns a :class:`Transition`, or raises :class:`Refusal`.
Callers hand in ``now`` in whole seconds (:func:`whole_second`), as the real
service keeps its times, so every stored moment is a whole second.

Breaks are kept as intervals, sorted, non-overlapping and inside the day; the
state changes themselves are the small ``_paused``/``_resumed``/``_closed``/
``_reopened`` steps, shared by the transitions and by :func:`reject`, which
replays a day's history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from .schedule import Schedule, expected_finish

Status = Literal["OPENED", "CLOSED", "PAUSED", "EXPIRED"]
ZERO = timedelta(0)
#: What the real service adds to the breaks of a day started after the usual finish
#: (CTimeManUser::GetExpiredRecommendedDate: start + TIME_LEAKS + 300).
LATE_START_SLACK = timedelta(seconds=300)
LAST_SECOND = time(23, 59, 59)


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
    TIME_BEFORE_PREVIOUS_DAY = "time_before_previous_day"
    REPORT_REQUIRED = "report_required"
    TRACKING_DISABLED = "tracking_disabled"
    NOT_OPEN = "not_open"
    EXPIRED_NEEDS_TIME = "expired_needs_time"


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
    #: The user's work schedule, when one applies: it decides the expected finish.
    schedule: Schedule | None = None


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


@lru_cache(maxsize=256)
def offset_zone(seconds: int) -> tzinfo:
    """A fixed offset's zone, made once: a report reads it for thousands of days."""
    return timezone(timedelta(seconds=seconds))


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
    #: When work last began again after a pause or a close. The breaks show it too,
    #: except when the day resumed within the second it paused or closed: no break
    #: is left then, yet the work going on began there, not at the start.
    resumed: datetime | None = None

    @property
    def paused(self) -> bool:
        return bool(self.breaks) and self.breaks[-1].end is None

    @property
    def display_zone(self) -> tzinfo:
        """The day's own clock: the offset it started in."""
        return offset_zone(self.tz_offset)

    @property
    def calendar_zone(self) -> tzinfo:
        """The zone whose calendar decides when the day expires."""
        return ZoneInfo(self.zone) if self.zone else self.display_zone

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.calendar_zone).date()

    @property
    def start_date(self) -> date:
        """The start date on the day's own clock, which a closing ``TIME`` must match."""
        return self.start.astimezone(self.display_zone).date()

    def on_start_date(self, clock_time: time) -> datetime:
        return datetime.combine(self.start_date, clock_time, self.display_zone)


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


def whole_second(moment: datetime) -> datetime:
    """``now`` as transitions take it: the real service counts whole seconds, and so
    ``DURATION + TIME_LEAKS`` stays exactly ``TIME_FINISH - TIME_START``."""
    return moment.replace(microsecond=0)


# --- reading a day ----------------------------------------------------------------------


def status(day: Workday | None, now: datetime) -> Status:
    if day is None or day.finish is not None:
        return "CLOSED"
    if day.local_date(now) > day.local_date(day.start):
        return "EXPIRED"
    return "PAUSED" if day.paused else "OPENED"


def leaks(day: Workday, until: datetime) -> timedelta:
    """Total break time inside the day up to ``until`` (a pause going on counts)."""
    end_of_day = min(day.finish or until, until)
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


def break_length(day: Workday) -> timedelta:
    """Break time as recorded: up to the finish of a closed day; on a day still
    open, the pauses that ended (one going on counts once it ends)."""
    if day.finish is not None:
        return leaks(day, day.finish)
    return sum((b.end - b.start for b in day.breaks if b.end is not None), ZERO)


def finish_default(day: Workday, settings: Settings) -> datetime:
    """A suggested end for an expired day, on the day's own clock.

    With a work schedule, the end of the start date's shift (see
    :func:`.schedule.expected_finish`). Without one, the real service suggests the
    usual finish (``UF_TM_MIN_FINISH`` here) on the start date, or, for a day
    started after it, the start plus the breaks taken plus five minutes.
    b24local never suggests less than the last moment the day recorded (a pause
    begun after the usual finish keeps the work before it), nor more than the last
    second of the start date.
    """
    if settings.schedule is not None:
        # A schedule's shift decides, as the real WorktimeRecordManager does.
        suggested = expected_finish(settings.schedule, day.start.astimezone(day.display_zone))
    else:
        suggested = day.on_start_date(settings.min_finish)
        if day.start > suggested:
            taken = sum((b.end - b.start for b in day.breaks if b.end is not None), ZERO)
            suggested = day.start + taken + LATE_START_SLACK
    recorded = [day.start, *(b.start for b in day.breaks), *(b.end for b in day.breaks if b.end)]
    return min(max(suggested, *recorded), day.on_start_date(LAST_SECOND))


def time_leaks(day: Workday, now: datetime, settings: Settings) -> timedelta:
    """``TIME_LEAKS`` as shown: breaks up to now; an expired day's only up to its
    suggested finish, so a pause left running does not grow for ever."""
    if status(day, now) == "EXPIRED":
        return leaks(day, finish_default(day, settings))
    return leaks(day, now)


def zone_offset(zone: tzinfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


# --- the state changes, shared by the transitions and by replaying a history -------------


def _paused(day: Workday, moment: datetime) -> Workday:
    """A break begins; on a closed day the time since closing counts as worked.

    A pause at the very instant the last one ended continues it: no work came
    between, so the day keeps one break, not two touching ones (which would move
    an expired day's suggested finish to the later of them)."""
    if day.breaks and day.breaks[-1].end == moment:
        return replace(day, finish=None, breaks=(*day.breaks[:-1], Break(day.breaks[-1].start)))
    return replace(day, finish=None, breaks=(*day.breaks, Break(moment)))


def _resumed(day: Workday, moment: datetime) -> Workday:
    ongoing = day.breaks[-1]
    # A pause resumed the same instant it began leaves no break behind.
    ended = (replace(ongoing, end=moment),) if moment > ongoing.start else ()
    return replace(day, breaks=(*day.breaks[:-1], *ended), resumed=moment)


def _closed(day: Workday, moment: datetime) -> Workday:
    """Breaks are cut to end by the close; a pause going on ends there."""
    kept = tuple(
        Break(b.start, moment if b.end is None or b.end > moment else b.end)
        for b in day.breaks
        if b.start < moment
    )
    return replace(day, finish=moment, breaks=kept)


def _reopened(day: Workday, moment: datetime) -> Workday:
    """The time between closing and reopening is a break."""
    assert day.finish is not None
    gap = (Break(day.finish, moment),) if moment > day.finish else ()
    return replace(day, finish=None, breaks=(*day.breaks, *gap), resumed=moment)


_CHANGES: dict[str, Callable[[Workday, datetime], Workday]] = {
    "pause": _paused,
    "resume": _resumed,
    "close": _closed,
    "reopen": _reopened,
}


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
        return Transition(_resumed(day, now), "resume")
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
    edited = at is not None and _is_edit(at, now, settings)

    if day is not None and day.finish is not None:
        if day.local_date(now) == day.local_date(day.start):
            # Closed earlier today: reopen.
            if moment < day.finish:
                raise Refusal(Reason.TIME_BEFORE_CLOSE)
            reopened = replace(
                _reopened(day, moment), active=day.active and not edited, closed_from=Place()
            )
            return Transition(reopened, "reopen", at, edited)
        if moment < day.finish:
            # A back-dated start inside the previous day would overlap it.
            raise Refusal(Reason.TIME_BEFORE_PREVIOUS_DAY)

    if at is not None:
        zone: tzinfo = at.tzinfo  # type: ignore[assignment]
        zone_name = None
    else:
        zone, zone_name = ZoneInfo(home_zone), home_zone
    fresh = Workday(
        start=moment,
        tz_offset=zone_offset(zone, moment),
        zone=zone_name,
        active=not edited,
        opened_from=place,
    )
    return Transition(fresh, "open", at, edited)


def pause_day(day: Workday | None, now: datetime, *, settings: Settings) -> Transition:
    """Pause an open day; a day closed earlier today resumes, the time since closing
    counting as worked, and is paused now (unless time tracking is off: that would
    reopen the day, which only ``timeman.open`` may refuse loudly)."""
    state = status(day, now)
    if day is None or state in ("PAUSED", "EXPIRED"):
        return Transition(day, "none")
    if state == "OPENED":
        return Transition(_paused(day, now), "pause")
    if day.local_date(now) != day.local_date(day.start) or not settings.enabled:
        return Transition(day, "none")
    return Transition(replace(_paused(day, now), closed_from=Place()), "pause")


def _date_on(moment: datetime, zone: tzinfo) -> date | None:
    """``moment``'s date in ``zone``; None past the calendar's ends (a ``TIME`` of
    9999-12-31 at -23:59 is in year 10000 in UTC), where no workday's date lies."""
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return None


def close_day(
    day: Workday | None,
    now: datetime,
    *,
    settings: Settings,
    at: datetime | None = None,
    report: str = "",
    place: Place = Place(),
) -> Transition:
    """Close an open or paused day now or at ``TIME``, an expired one at ``TIME``.

    ``TIME``'s date is read on the day's own clock, as the real service converts it
    to the start offset before comparing dates.
    """
    state = status(day, now)
    if day is None or state == "CLOSED":
        raise Refusal(Reason.NOT_OPEN)
    if at is None:
        if state == "EXPIRED":
            raise Refusal(Reason.EXPIRED_NEEDS_TIME)
        moment = now
    else:
        if _date_on(at, day.display_zone) != day.start_date:
            raise Refusal(Reason.CLOSE_DATE_NOT_START_DATE)
        if at > now:
            raise Refusal(Reason.TIME_IN_FUTURE)
        if at < day.start:
            raise Refusal(Reason.TIME_BEFORE_START)
        _require_report(report, settings)
        moment = at
    edited = at is not None and _is_edit(at, now, settings)
    closed = replace(_closed(day, moment), active=day.active and not edited, closed_from=place)
    return Transition(closed, "close", at, edited)


# --- approvals ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of a day's history: what was done, when the call was really made,
    the moment it claimed with ``TIME`` and whether that claim awaited approval."""

    action: str  # open, pause, resume, close, reopen, approve or reject
    at: datetime
    claimed: datetime | None = None
    needs_approval: bool = False


def approve(day: Workday) -> Workday:
    return replace(day, active=True)


def reject(day: Workday, history: Sequence[Step]) -> Workday:
    """Undo the edits waiting for approval and confirm the day.

    The day is rebuilt from its history, each waiting edit taking effect at the
    moment it was really made (a close made on a later date at the last second of
    the start date); edits decided earlier stay as they were decided, so later work
    (a reopening, another close) is kept.
    """
    rebuilt: Workday | None = None
    for step, moment in zip(history, _effective_moments(day, history), strict=True):
        if step.action == "open":
            rebuilt = replace(day, start=moment, finish=None, breaks=(), resumed=None)
        elif step.action in _CHANGES:
            assert rebuilt is not None, "a history begins with its open"
            rebuilt = _CHANGES[step.action](rebuilt, moment)
    assert rebuilt is not None, "a history begins with its open"
    return replace(_normalized(rebuilt), active=True)


def _effective_moments(day: Workday, history: Sequence[Step]) -> list[datetime]:
    """Each step's moment: what it claimed, unless that claim was or is now rejected."""
    last_second = day.on_start_date(LAST_SECOND)
    moments: list[datetime] = []
    waiting: list[int] = []

    def undo_waiting() -> None:
        for index in waiting:
            step = history[index]
            moments[index] = min(step.at, last_second) if step.action == "close" else step.at
        waiting.clear()

    for index, step in enumerate(history):
        moments.append(step.claimed or step.at)
        if step.action == "approve":
            waiting.clear()  # the claims stand
        elif step.action == "reject":
            undo_waiting()
        elif step.needs_approval:
            waiting.append(index)
    undo_waiting()
    return moments


def _normalized(day: Workday) -> Workday:
    """Keep the invariants whatever the history held: finish not before start;
    breaks sorted, inside the day and not overlapping."""
    finish = day.finish if day.finish is None else max(day.finish, day.start)
    kept: list[Break] = []
    for pause in sorted(day.breaks, key=lambda b: b.start):
        start = max(pause.start, kept[-1].end if kept and kept[-1].end else day.start)
        end = pause.end
        if finish is not None:
            if start >= finish:
                continue
            end = finish if end is None or end > finish else end
        if end is not None and end <= start:
            continue
        kept.append(Break(start, end))
    resumed = max(day.resumed, day.start) if day.resumed else None
    return replace(day, finish=finish, breaks=tuple(kept), resumed=resumed)
