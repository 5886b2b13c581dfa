"""The workday state machine: example rules, and random histories checked against an
independent model of the day as worked and break intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.scopes.timeman.workday import (
    Break,
    Reason,
    Refusal,
    Settings,
    Step,
    Transition,
    Workday,
    approve,
    close_day,
    duration,
    finish_default,
    leaks,
    open_day,
    pause_day,
    reject,
    status,
    time_leaks,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STRICT = Settings()
FREE = Settings(free=True)


def at(hours: float, day: datetime = T0) -> datetime:
    return day + timedelta(hours=hours)


def opened(now: datetime = T0, settings: Settings = STRICT, zone: str = "UTC") -> Workday:
    day = open_day(None, now, settings=settings, home_zone=zone).day
    assert day is not None
    return day


def refused(reason: Reason, change, *args, **kwargs) -> None:
    with pytest.raises(Refusal) as raised:
        change(*args, **kwargs)
    assert raised.value.reason is reason


# --- examples --------------------------------------------------------------------------


def test_open_pause_resume_close():
    day = opened()
    day = pause_day(day, at(2), settings=STRICT).day
    assert status(day, at(2)) == "PAUSED"
    day = open_day(day, at(2.5), settings=STRICT, home_zone="UTC").day
    assert status(day, at(3)) == "OPENED"
    closed = close_day(day, at(9), settings=STRICT).day
    assert status(closed, at(9)) == "CLOSED"
    assert leaks(closed, at(9)) == timedelta(minutes=30)
    assert duration(closed) == timedelta(hours=8, minutes=30)


def test_reopen_makes_the_gap_a_break_and_pause_on_closed_counts_it_as_work():
    closed = close_day(opened(), at(4), settings=STRICT).day
    reopened = open_day(closed, at(5), settings=STRICT, home_zone="UTC")
    assert reopened.action == "reopen"
    assert leaks(close_day(reopened.day, at(6), settings=STRICT).day, at(6)) == timedelta(hours=1)

    resumed = pause_day(closed, at(5), settings=STRICT)
    assert resumed.action == "pause"
    back = open_day(resumed.day, at(5), settings=STRICT, home_zone="UTC").day
    final = close_day(back, at(6), settings=STRICT).day
    assert duration(final) == timedelta(hours=6)


def test_unchanged_transitions():
    day = opened()
    assert not open_day(day, at(1), settings=STRICT, home_zone="UTC").changed
    paused = pause_day(day, at(1), settings=STRICT).day
    assert not pause_day(paused, at(2), settings=STRICT).changed
    assert not pause_day(None, at(1), settings=STRICT).changed


def test_closing_a_day_that_is_not_open_is_refused():
    closed = close_day(opened(), at(3), settings=STRICT).day
    refused(Reason.NOT_OPEN, close_day, closed, at(4), settings=STRICT)
    refused(Reason.NOT_OPEN, close_day, None, at(4), settings=STRICT)


def test_pause_reopens_a_closed_day_only_while_tracking_is_on():
    closed = close_day(opened(), at(3), settings=STRICT).day
    off = Settings(enabled=False)
    assert pause_day(closed, at(4), settings=off) == Transition(closed, "none")
    assert pause_day(closed, at(4), settings=STRICT).day.finish is None
    # An open day still pauses: only reopening is tracking's to refuse.
    assert pause_day(opened(), at(1), settings=off).action == "pause"


def test_expired_day():
    day = opened()
    tomorrow = at(24)
    assert status(day, tomorrow) == "EXPIRED"
    assert finish_default(day, STRICT) == datetime(2026, 3, 2, 17, 45, tzinfo=UTC)
    refused(Reason.EXPIRED_NEEDS_TIME, close_day, day, tomorrow, settings=STRICT)
    refused(
        Reason.CLOSE_DATE_NOT_START_DATE,
        close_day, day, tomorrow, settings=STRICT, at=tomorrow - timedelta(hours=1), report="x",
    )  # fmt: skip
    closed = close_day(day, tomorrow, settings=STRICT, at=at(9), report="forgot")
    assert closed.needs_approval and not closed.day.active
    assert not open_day(day, tomorrow, settings=STRICT, home_zone="UTC").changed


@pytest.mark.parametrize(
    ("start", "pauses", "expected"),
    [
        # The usual finish on the start date.
        (8, [], 17.75),
        (8, [(12, 13)], 17.75),
        # Started after it: start + the breaks taken + five minutes.
        (18, [], 18 + 5 / 60),
        (18, [(18, 18.5)], 18.5 + 5 / 60),
        # Never before the last moment recorded: a pause begun late keeps the work.
        (8, [(19, None)], 19),
        (8, [(12, 19)], 19),
        # Never past the start date.
        (23.95, [(23.95, 23.975)], 23 + 59 / 60 + 59 / 3600),
    ],
)
def test_finish_default(start, pauses, expected):
    day = Workday(
        start=at(start - 8),
        tz_offset=0,
        breaks=tuple(Break(at(a - 8), at(b - 8) if b else None) for a, b in pauses),
    )
    assert finish_default(day, STRICT) == at(expected - 8).replace(microsecond=0)


def test_an_expired_pause_stops_at_the_suggested_finish():
    day = pause_day(opened(at(0)), at(4), settings=STRICT).day  # 08:00, paused 12:00
    two_days_later = at(48)
    assert finish_default(day, STRICT) == at(9.75)  # 17:45
    assert time_leaks(day, two_days_later, STRICT) == timedelta(hours=5, minutes=45)
    assert time_leaks(day, at(5), STRICT) == timedelta(hours=1)  # today: it goes on


def test_finish_default_is_on_the_days_own_clock_across_dst():
    # 00:30 in Berlin (+01:00) on the night the clocks go forward: 17:45 on the day's
    # clock, the real service's day-seconds glued to the start offset.
    day = opened(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), zone="Europe/Berlin")
    expected = datetime(2026, 3, 29, 17, 45, tzinfo=timezone(timedelta(hours=1)))
    assert finish_default(day, STRICT) == expected


def test_a_close_time_is_dated_on_the_days_own_clock():
    day = opened(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), zone="Europe/Berlin")
    plus1 = timezone(timedelta(hours=1))
    now = datetime(2026, 3, 30, 8, tzinfo=UTC)
    # 00:15 on March 30 in Berlin, but March 29 on the day's clock (+01:00).
    evening = datetime(2026, 3, 29, 23, 15, tzinfo=plus1)
    closed = close_day(day, now, settings=FREE, at=evening).day
    assert closed.finish == datetime(2026, 3, 29, 22, 15, tzinfo=UTC)
    refused(
        Reason.CLOSE_DATE_NOT_START_DATE,
        close_day, day, now, settings=FREE, at=datetime(2026, 3, 30, 0, 15, tzinfo=plus1),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (at(-20), Reason.OPEN_DATE_NOT_TODAY),
        (at(1), Reason.TIME_IN_FUTURE),
    ],
)
def test_open_time_rules(given, reason):
    refused(reason, open_day, None, T0, settings=STRICT, home_zone="UTC", at=given, report="x")


def test_open_time_needs_a_report_unless_free():
    refused(Reason.REPORT_REQUIRED, open_day, None, T0, settings=STRICT, home_zone="UTC",
            at=at(-1))  # fmt: skip
    free = open_day(None, T0, settings=FREE, home_zone="UTC", at=at(-1))
    assert free.day.active and not free.needs_approval


def test_a_new_day_may_not_start_inside_the_previous_one():
    # Closed at 23:50 UTC; at 00:30 the next day, a TIME written in -05:00 is still
    # "today" there but 23:00 UTC, inside the closed day.
    day = opened(datetime(2026, 3, 31, 23, 45, tzinfo=UTC))
    closed = close_day(day, datetime(2026, 3, 31, 23, 50, tzinfo=UTC), settings=FREE).day
    now = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
    minus5 = timezone(timedelta(hours=-5))
    refused(
        Reason.TIME_BEFORE_PREVIOUS_DAY,
        open_day, closed, now, settings=FREE, home_zone="UTC",
        at=datetime(2026, 3, 31, 18, tzinfo=minus5),
    )  # fmt: skip
    later = open_day(
        closed, now, settings=FREE, home_zone="UTC", at=datetime(2026, 3, 31, 18, 55, tzinfo=minus5)
    )
    assert later.action == "open"


def test_time_refused_on_paused_and_open_days():
    day = opened()
    refused(
        Reason.TIME_WHILE_OPEN,
        open_day, day, at(1), settings=STRICT, home_zone="UTC", at=at(0.5), report="x",
    )  # fmt: skip
    paused = pause_day(day, at(1), settings=STRICT).day
    refused(
        Reason.TIME_WHILE_PAUSED,
        open_day, paused, at(2), settings=STRICT, home_zone="UTC", at=at(1.5), report="x",
    )  # fmt: skip


def test_edits_within_the_allowed_delta_stay_active():
    small = open_day(None, T0, settings=STRICT, home_zone="UTC", at=at(-0.25), report="x")
    assert small.day.active
    big = open_day(None, T0, settings=STRICT, home_zone="UTC", at=at(-0.3), report="x")
    assert not big.day.active and big.needs_approval


def test_tracking_disabled():
    refused(Reason.TRACKING_DISABLED, open_day, None, T0, settings=Settings(enabled=False),
            home_zone="UTC")  # fmt: skip


def test_zone_from_time_offset_or_profile():
    plus3 = timezone(timedelta(hours=3))
    day = open_day(
        None, T0, settings=FREE, home_zone="UTC", at=datetime(2026, 3, 2, 10, 30, tzinfo=plus3)
    ).day
    assert day.tz_offset == 10800 and day.zone is None
    berlin = open_day(None, T0, settings=FREE, home_zone="Europe/Berlin").day
    assert berlin.tz_offset == 3600 and berlin.zone == "Europe/Berlin"


def test_dst_inside_a_day():
    start = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 in Berlin, +01:00
    day = open_day(None, start, settings=FREE, home_zone="Europe/Berlin").day
    closed = close_day(day, datetime(2026, 3, 29, 3, 0, tzinfo=UTC), settings=FREE).day
    assert duration(closed) == timedelta(hours=3, minutes=30)
    # Expiry follows Berlin's calendar, not UTC's.
    assert status(day, datetime(2026, 3, 29, 21, 0, tzinfo=UTC)) == "OPENED"
    assert status(day, datetime(2026, 3, 29, 22, 30, tzinfo=UTC)) == "EXPIRED"


def test_reject_moves_claimed_moments_back():
    edit = open_day(None, at(2), settings=STRICT, home_zone="UTC", at=at(0), report="early")
    rejected = reject(edit.day, [Step("open", at(2), at(0), True)])
    assert rejected.start == at(2) and rejected.active


def test_reject_keeps_the_work_after_a_rejected_close():
    # 08:00 open; 12:00 close claiming 10:00; 13:00 reopen; 17:00 close.
    day = opened(at(0))
    close = close_day(day, at(4), settings=STRICT, at=at(2), report="left at ten")
    reopen = open_day(close.day, at(5), settings=STRICT, home_zone="UTC")
    final = close_day(reopen.day, at(9), settings=STRICT).day
    assert not final.active
    history = [
        Step("open", at(0)),
        Step("close", at(4), at(2), True),
        Step("reopen", at(5)),
        Step("close", at(9)),
    ]
    rejected = reject(final, history)
    assert (rejected.start, rejected.finish) == (at(0), at(9))
    assert rejected.breaks == (Break(at(4), at(5)),)
    assert duration(rejected) == timedelta(hours=8) and rejected.active
    # Approving keeps the claim: 10:00-13:00 was a break.
    assert approve(final).breaks == (Break(at(2), at(5)),)


# --- random histories against a model -------------------------------------------------
#
# The model keeps a day as consecutive "work" and "break" segments from its start,
# the last one open while the day runs, and replays its own log of events for a
# rejection. It shares no code with the rules.

HOME = "Europe/Berlin"
#: An ordinary day; the evenings before Berlin's clocks go forward and back, and
#: the first hour of those days (a day whose own clock and Berlin's part at night).
STARTS = [
    datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    datetime(2026, 3, 28, 21, 30, tzinfo=UTC),
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
    datetime(2026, 10, 24, 20, 30, tzinfo=UTC),
    datetime(2026, 10, 24, 22, 30, tzinfo=UTC),
]
OFFSETS = [0, 3600, 7200, -18000, 19800]
SLACK = timedelta(seconds=300)


@dataclass
class Event:
    action: str
    actual: datetime
    claimed: datetime | None
    awaits: bool


@dataclass
class Model:
    offset: timezone  # the start offset: the day's own clock
    calendar: tzinfo  # expiry's calendar
    segments: list[list] = field(default_factory=list)  # [kind, begin, end or None]
    finish: datetime | None = None
    active: bool = True
    log: list[Event] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.segments[0][1]

    def date_of(self, moment: datetime) -> date:
        return moment.astimezone(self.calendar).date()

    def status(self, now: datetime) -> str:
        if self.finish is not None:
            return "CLOSED"
        if self.date_of(now) > self.date_of(self.start):
            return "EXPIRED"
        return "PAUSED" if self.segments[-1][0] == "break" else "OPENED"

    def switch(self, kind: str, moment: datetime) -> None:
        """End the running segment at ``moment`` and begin one of ``kind``; empty
        segments vanish and neighbours of one kind merge."""
        last = self.segments[-1]
        last[2] = moment
        if last[2] <= last[1]:
            self.segments.pop()
        if self.segments and self.segments[-1][0] == kind:
            self.segments[-1][2] = None
        else:
            self.segments.append([kind, moment, None])

    def close(self, moment: datetime) -> None:
        self.segments = [s for s in self.segments if s[1] < moment] or self.segments[:1]
        last = self.segments[-1]
        last[2] = moment if last[2] is None or last[2] > moment else last[2]
        self.finish = moment

    def unclose(self, kind: str) -> None:
        """Take back the close: from it on, the day was ``kind``."""
        self.segments[-1][2] = None
        self.switch(kind, self.finish)
        self.finish = None

    def reopen(self, moment: datetime) -> None:
        self.unclose("break")
        self.switch("work", moment)

    def pause(self, moment: datetime) -> None:
        if self.finish is not None:
            self.unclose("work")
        self.switch("break", moment)

    def total(self, kind: str, until: datetime) -> timedelta:
        end = min(self.finish or until, until)
        spans = (min(s[2] or end, end) - s[1] for s in self.segments if s[0] == kind)
        return sum((span for span in spans if span > timedelta(0)), timedelta(0))

    def suggestion(self, rules: Settings) -> datetime:
        start_date = self.start.astimezone(self.offset).date()
        usual = datetime.combine(start_date, rules.min_finish, self.offset)
        if self.start > usual:
            taken = sum(
                (s[2] - s[1] for s in self.segments if s[0] == "break" and s[2] is not None),
                timedelta(0),
            )
            usual = self.start + taken + SLACK
        last_change = max(s[1] for s in self.segments)
        last_second = datetime.combine(start_date, time(23, 59, 59), self.offset)
        return min(max(usual, last_change), last_second)

    def shown_leaks(self, now: datetime, rules: Settings) -> timedelta:
        until = self.suggestion(rules) if self.status(now) == "EXPIRED" else now
        return self.total("break", until)


def new_model(moment: datetime, claimed: bool) -> Model:
    calendar = moment.tzinfo if claimed else ZoneInfo(HOME)
    offset = timezone(moment.astimezone(calendar).utcoffset())
    return Model(offset, calendar, [["work", moment.astimezone(UTC), None]])


def replay(model: Model, effective: list[datetime]) -> Model:
    """The model's day rebuilt from its log with the given moments."""
    fresh = Model(model.offset, model.calendar, active=True, log=model.log)
    for event, moment in zip(model.log, effective, strict=True):
        if event.action == "open":
            fresh.segments = [["work", moment, None]]
            continue
        # A start moved later by the rejection leaves nothing before it.
        moment = max(moment, fresh.start)
        if event.action == "pause":
            fresh.pause(moment)
        elif event.action == "resume":
            fresh.switch("work", moment)
        elif event.action == "reopen":
            fresh.reopen(moment)
        elif event.action == "close":
            fresh.close(moment)
    return fresh


def rejected(model: Model) -> Model:
    last_second = datetime.combine(
        model.start.astimezone(model.offset).date(), time(23, 59, 59), model.offset
    )
    effective = []
    for index, event in enumerate(model.log):
        moment = event.claimed or event.actual
        if event.awaits:
            later = model.log[index + 1 :]
            decisions = [e.action for e in later if e.action in ("approve", "reject")]
            if not decisions or decisions[0] == "reject":
                moment = event.actual
                if event.action == "close" and moment > last_second:
                    moment = last_second
        effective.append(moment)
    return replay(model, effective)


class Refused(Exception):
    def __init__(self, reason: Reason) -> None:
        self.reason = reason


def expect(
    model: Model | None,
    action: str,
    now: datetime,
    claim: datetime | None,
    report: str,
    rules: Settings,
) -> tuple[str, Model | None]:
    """What the model says a call does: the action's name and the day after, or
    :class:`Refused`."""
    state = model.status(now) if model else "CLOSED"
    edited = claim is not None and not rules.free and abs(now - claim) > rules.allowed_delta
    needs_report = claim is not None and not rules.free and not report.strip()

    def log(kind: str, day: Model) -> None:
        day.log.append(Event(kind, now, claim, edited))

    if action == "open":
        if state == "PAUSED":
            if claim:
                raise Refused(Reason.TIME_WHILE_PAUSED)
            model.switch("work", now)
            log("resume", model)
            return "resume", model
        if state in ("OPENED", "EXPIRED"):
            if claim:
                raise Refused(
                    Reason.TIME_WHILE_OPEN if state == "OPENED" else Reason.TIME_WHILE_EXPIRED
                )
            return "none", model
        if not rules.enabled:
            raise Refused(Reason.TRACKING_DISABLED)
        if claim:
            if claim.date() != now.astimezone(claim.tzinfo).date():
                raise Refused(Reason.OPEN_DATE_NOT_TODAY)
            if claim > now:
                raise Refused(Reason.TIME_IN_FUTURE)
            if needs_report:
                raise Refused(Reason.REPORT_REQUIRED)
        moment = claim or now
        if model is not None and model.date_of(now) == model.date_of(model.start):
            if moment < model.finish:
                raise Refused(Reason.TIME_BEFORE_CLOSE)
            model.reopen(moment)
            model.active = model.active and not edited
            log("reopen", model)
            return "reopen", model
        if model is not None and moment < model.finish:
            raise Refused(Reason.TIME_BEFORE_PREVIOUS_DAY)
        fresh = new_model(moment, claim is not None)
        fresh.active = not edited
        log("open", fresh)
        return "open", fresh

    if action == "pause":
        closed_today = (
            state == "CLOSED" and model and model.date_of(now) == model.date_of(model.start)
        )
        if state == "OPENED" or (closed_today and rules.enabled):
            model.pause(now)
            log("pause", model)
            return "pause", model
        return "none", model

    # close
    if state == "CLOSED":
        raise Refused(Reason.NOT_OPEN)
    if claim is None:
        if state == "EXPIRED":
            raise Refused(Reason.EXPIRED_NEEDS_TIME)
    else:
        start_date = model.start.astimezone(model.offset).date()
        if claim.astimezone(model.offset).date() != start_date:
            raise Refused(Reason.CLOSE_DATE_NOT_START_DATE)
        if claim > now:
            raise Refused(Reason.TIME_IN_FUTURE)
        if claim < model.start:
            raise Refused(Reason.TIME_BEFORE_START)
        if needs_report:
            raise Refused(Reason.REPORT_REQUIRED)
    model.close(claim or now)
    model.active = model.active and not edited
    log("close", model)
    return "close", model


def same_day(day: Workday, model: Model, now: datetime, rules: Settings) -> None:
    """The rules' day reads as the model's."""
    assert status(day, now) == model.status(now)
    assert day.start == model.start
    assert day.finish == model.finish
    assert day.tz_offset == model.offset.utcoffset(None).total_seconds()
    assert day.active is model.active
    assert time_leaks(day, now, rules) == model.shown_leaks(now, rules)
    if model.finish is not None:
        assert duration(day) == model.total("work", model.finish)
        assert leaks(day, now) == model.total("break", model.finish)
    if model.status(now) == "EXPIRED":
        assert finish_default(day, rules) == model.suggestion(rules)
    # The breaks lie inside the day, in order, apart, only the last one open.
    edge = day.start
    for index, pause in enumerate(day.breaks):
        assert pause.start >= edge
        edge = pause.end or pause.start
        assert pause.end is None or pause.end > pause.start
        assert pause.end is not None or (index == len(day.breaks) - 1 and day.finish is None)
        assert day.finish is None or edge <= day.finish


#: Exactly which status may follow which, per call that changed the day.
ALLOWED = {
    ("open", "CLOSED"): {"OPENED"},
    ("open", "PAUSED"): {"OPENED"},
    ("pause", "OPENED"): {"PAUSED"},
    ("pause", "CLOSED"): {"PAUSED"},
    ("close", "OPENED"): {"CLOSED"},
    ("close", "PAUSED"): {"CLOSED"},
    ("close", "EXPIRED"): {"CLOSED"},
    ("approve", "OPENED"): {"OPENED"},
    ("approve", "PAUSED"): {"PAUSED"},
    ("approve", "CLOSED"): {"CLOSED"},
    ("approve", "EXPIRED"): {"EXPIRED"},
    ("reject", "OPENED"): {"OPENED"},
    ("reject", "PAUSED"): {"PAUSED"},
    ("reject", "CLOSED"): {"CLOSED"},
    ("reject", "EXPIRED"): {"EXPIRED"},
}

GAP = st.one_of(
    st.integers(min_value=0, max_value=300),  # moments apart: within the five minutes
    st.integers(min_value=0, max_value=14 * 3600),
)
#: TIME as seconds from now, or from the day's start (reaching an expired day's date).
CLAIM = st.one_of(
    st.none(),
    st.tuples(st.just("now"), st.integers(min_value=-12 * 3600, max_value=600)),
    st.tuples(st.just("start"), st.integers(min_value=-600, max_value=24 * 3600)),
)
ACTIONS = ["open"] * 4 + ["pause"] * 3 + ["close"] * 3 + ["approve", "reject"] * 2 + ["tracking"]
STEP = st.tuples(
    st.sampled_from(ACTIONS),
    GAP,
    CLAIM,
    st.sampled_from(OFFSETS),
    st.sampled_from([True, True, False]),  # give a report
)


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(STARTS),
    st.lists(STEP, min_size=12, max_size=40),
    st.sampled_from([False, False, True]),  # a flexible schedule
)
def test_random_histories_follow_the_model(start, steps, free):
    rules = Settings(free=free, allowed_delta=timedelta(minutes=15))
    day: Workday | None = None
    model: Model | None = None
    history: list[Step] = []
    now = start
    for action, gap, claimed, offset, with_report in steps:
        now += timedelta(seconds=gap)
        if day is not None:
            same_day(day, model, now, rules)  # as time passes: expiry, a pause growing
        if action == "tracking":
            rules = Settings(free=free, enabled=not rules.enabled)
            continue
        before = status(day, now)
        if action in ("approve", "reject"):
            if day is None or day.active:
                continue  # nothing waits for a decision
            if action == "approve":
                day, model = approve(day), replace_active(model)
            else:
                day, model = reject(day, history), rejected(model)
            history.append(Step(action, now))
            model.log.append(Event(action, now, None, False))
            assert status(day, now) in ALLOWED[(action, before)]
            same_day(day, model, now, rules)
            continue

        claim = None
        if claimed is not None and action != "pause":
            anchor, seconds = claimed
            base = day.start if anchor == "start" and day is not None else now
            claim = (base + timedelta(seconds=seconds)).astimezone(
                timezone(timedelta(seconds=offset))
            )
        report = "because" if with_report else ""
        try:
            expected_action, expected = expect(model, action, now, claim, report, rules)
        except Refused as refusal:
            with pytest.raises(Refusal) as raised:
                apply(action, day, now, claim, report, rules)
            assert raised.value.reason is refusal.reason
            continue
        transition = apply(action, day, now, claim, report, rules)
        assert transition.action == expected_action
        if not transition.changed:
            assert transition.day is day
            continue
        after = status(transition.day, now)
        assert after in ALLOWED[(action, before)], (action, before, after)
        if transition.action == "open":
            history = []
        elif day is not None and not day.active:
            # An edit waits until a supervisor decides: nothing else confirms it.
            assert not transition.day.active
        history.append(Step(transition.action, now, transition.claimed, transition.needs_approval))
        assert transition.needs_approval is (
            claim is not None and not free and abs(now - claim) > rules.allowed_delta
        )
        day, model = transition.day, expected
        same_day(day, model, now, rules)


def replace_active(model: Model) -> Model:
    model.active = True
    return model


def apply(action, day, now, claim, report, rules) -> Transition:
    if action == "open":
        return open_day(day, now, settings=rules, home_zone=HOME, at=claim, report=report)
    if action == "pause":
        return pause_day(day, now, settings=rules)
    return close_day(day, now, settings=rules, at=claim, report=report)
