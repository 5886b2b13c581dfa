"""What "My day" shows of a workday: a pure view of (day, settings, now).

The numbers come from the workday rules themselves (:mod:`..scopes.timeman.workday`);
this module only lays them out: the timeline's segments as fractions of its width,
the list of what happened, worked and break time, and the expected finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from b24local.scopes.timeman import tally
from b24local.scopes.timeman.schedule import expected_finish
from b24local.scopes.timeman.workday import (
    ZERO,
    Settings,
    Workday,
    finish_default,
    leaks,
    status,
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the timeline: ``work``, ``break`` or ``planned`` (still to come)."""

    kind: str
    start: datetime
    end: datetime
    #: Where it begins and how wide it is, in percent of the timeline.
    left: float
    width: float


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str  # started, paused, resumed, closed


@dataclass(frozen=True, slots=True)
class DayView:
    state: str  # NONE, OPENED, PAUSED, CLOSED, EXPIRED
    zone: tzinfo
    day: Workday | None = None
    #: Whether the day was closed today (and may be continued) or is an older one.
    closed_today: bool = False
    worked: timedelta = ZERO
    breaks: timedelta = ZERO
    expected: timedelta = ZERO
    expected_finish: datetime | None = None
    #: For an expired day: the finish the service suggests (``TIME_FINISH_DEFAULT``).
    suggested_finish: datetime | None = None
    segments: tuple[Segment, ...] = ()
    events: tuple[Event, ...] = ()
    #: The timeline's ends.
    begins: datetime | None = None
    ends: datetime | None = None

    @property
    def remaining(self) -> timedelta:
        return max(self.expected - self.worked, ZERO)

    @property
    def running(self) -> bool:
        """Whether worked time grows as the page is looked at."""
        return self.state == "OPENED"

    @property
    def awaiting_approval(self) -> bool:
        return self.day is not None and not self.day.active


def view(day: Workday | None, settings: Settings, now: datetime, home: tzinfo) -> DayView:
    state = status(day, now)
    if day is None:
        return DayView("NONE", home, expected=settings.min_duration)
    zone = day.display_zone
    closed_today = state == "CLOSED" and day.local_date(now) == day.local_date(day.start)
    if state == "CLOSED" and not closed_today:
        # Yesterday's closed day is history: today has not started yet.
        return DayView("NONE", home, expected=settings.min_duration)
    # An expired day is shown up to the finish the service would suggest for it.
    suggested = finish_default(day, settings) if state == "EXPIRED" else None
    until = tally.until(day, now, settings)
    taken = leaks(day, until)
    worked = until - day.start - taken
    if settings.schedule is not None:
        finish = expected_finish(settings.schedule, day.start.astimezone(zone))
        expected = finish - day.start - taken
    else:
        expected = settings.min_duration
        finish = day.start + expected + taken
    if day.finish is not None:
        finish = day.finish
    ends = max(until, finish)
    return DayView(
        state,
        zone,
        day,
        closed_today=closed_today,
        worked=max(worked, ZERO),
        breaks=taken,
        expected=max(expected, ZERO),
        expected_finish=finish,
        suggested_finish=suggested,
        segments=tuple(_segments(day, until, ends)),
        events=tuple(_events(day)),
        begins=day.start,
        ends=ends,
    )


def _segments(day: Workday, until: datetime, ends: datetime) -> list[Segment]:
    span = (ends - day.start).total_seconds() or 1.0

    def segment(kind: str, start: datetime, end: datetime) -> Segment:
        left = (start - day.start).total_seconds() / span * 100
        width = (end - start).total_seconds() / span * 100
        return Segment(kind, start, end, round(left, 3), round(width, 3))

    segments = []
    cursor = day.start
    for pause in day.breaks:
        stop = min(pause.end or until, until)
        if pause.start >= until:
            break
        if pause.start > cursor:
            segments.append(segment("work", cursor, pause.start))
        if stop > pause.start:
            segments.append(segment("break", pause.start, stop))
        cursor = max(cursor, stop)
    if until > cursor:
        segments.append(segment("work", cursor, until))
    if ends > until and day.finish is None:
        segments.append(segment("planned", until, ends))
    return segments


def _events(day: Workday) -> list[Event]:
    events = [Event(day.start, "started")]
    for pause in day.breaks:
        events.append(Event(pause.start, "paused"))
        if pause.end is not None and (day.finish is None or pause.end < day.finish):
            events.append(Event(pause.end, "resumed"))
    if day.finish is not None:
        events.append(Event(day.finish, "closed"))
    return events


def hours(span: timedelta) -> str:
    """``7 h 05 min``-style length, as people read it: ``H:MM``."""
    minutes = max(int(span.total_seconds()) // 60, 0)
    return f"{minutes // 60}:{minutes % 60:02d}"
