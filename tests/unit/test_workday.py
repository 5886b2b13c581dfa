"""The workday state machine: example rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

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
