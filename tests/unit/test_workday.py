"""The workday state machine: example rules and properties over random histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.scopes.timeman.workday import (
    Break,
    Edit,
    Reason,
    Refusal,
    Settings,
    Workday,
    close_day,
    duration,
    finish_default,
    leaks,
    open_day,
    pause_day,
    reject,
    status,
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


# --- examples --------------------------------------------------------------------------


def test_open_pause_resume_close():
    day = opened()
    day = pause_day(day, at(2)).day
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

    resumed = pause_day(closed, at(5))
    assert resumed.action == "pause"
    back = open_day(resumed.day, at(5), settings=STRICT, home_zone="UTC").day
    final = close_day(back, at(6), settings=STRICT).day
    assert duration(final) == timedelta(hours=6)


def test_unchanged_transitions():
    day = opened()
    assert not open_day(day, at(1), settings=STRICT, home_zone="UTC").changed
    paused = pause_day(day, at(1)).day
    assert not pause_day(paused, at(2)).changed
    closed = close_day(day, at(3), settings=STRICT).day
    assert not close_day(closed, at(4), settings=STRICT).changed
    assert not pause_day(None, at(1)).changed
    assert not close_day(None, at(1), settings=STRICT).changed


def test_expired_day():
    day = opened()
    tomorrow = at(24)
    assert status(day, tomorrow) == "EXPIRED"
    assert finish_default(day, STRICT) == datetime(2026, 3, 2, 17, 45, tzinfo=UTC)
    long = Settings(min_finish=time(12), min_duration=timedelta(hours=10))
    assert finish_default(day, long) == at(10)
    with pytest.raises(Refusal) as refused:
        close_day(day, tomorrow, settings=STRICT)
    assert refused.value.reason is Reason.CLOSE_DATE_NOT_START_DATE
    closed = close_day(day, tomorrow, settings=STRICT, at=at(9), report="forgot")
    assert closed.needs_approval and not closed.day.active
    assert not open_day(day, tomorrow, settings=STRICT, home_zone="UTC").changed


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (at(-20), Reason.OPEN_DATE_NOT_TODAY),
        (at(1), Reason.TIME_IN_FUTURE),
    ],
)
def test_open_time_rules(given, reason):
    with pytest.raises(Refusal) as refused:
        open_day(None, T0, settings=STRICT, home_zone="UTC", at=given, report="x")
    assert refused.value.reason is reason


def test_open_time_needs_a_report_unless_free():
    with pytest.raises(Refusal) as refused:
        open_day(None, T0, settings=STRICT, home_zone="UTC", at=at(-1))
    assert refused.value.reason is Reason.REPORT_REQUIRED
    free = open_day(None, T0, settings=FREE, home_zone="UTC", at=at(-1))
    assert free.day.active and not free.needs_approval


def test_time_refused_on_paused_and_open_days():
    day = opened()
    with pytest.raises(Refusal) as refused:
        open_day(day, at(1), settings=STRICT, home_zone="UTC", at=at(0.5), report="x")
    assert refused.value.reason is Reason.TIME_WHILE_OPEN
    paused = pause_day(day, at(1)).day
    with pytest.raises(Refusal) as refused:
        open_day(paused, at(2), settings=STRICT, home_zone="UTC", at=at(1.5), report="x")
    assert refused.value.reason is Reason.TIME_WHILE_PAUSED


def test_edits_within_the_allowed_delta_stay_active():
    small = open_day(None, T0, settings=STRICT, home_zone="UTC", at=at(-0.2), report="x")
    assert small.day.active
    big = open_day(None, T0, settings=STRICT, home_zone="UTC", at=at(-0.3), report="x")
    assert not big.day.active and big.needs_approval


def test_tracking_disabled():
    with pytest.raises(Refusal) as refused:
        open_day(None, T0, settings=Settings(enabled=False), home_zone="UTC")
    assert refused.value.reason is Reason.TRACKING_DISABLED


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
    rejected = reject(edit.day, (Edit("open", at(0), at(2)),))
    assert rejected.start == at(2) and rejected.active


# --- properties over random histories -------------------------------------------------

OFFSETS = st.sampled_from([0, 3600, -18000, 10800, 19800])
STEP = st.tuples(
    st.sampled_from(["open", "pause", "close"]),
    st.integers(min_value=0, max_value=14 * 3600),  # seconds since the previous step
    st.one_of(st.none(), st.integers(min_value=-12 * 3600, max_value=600)),  # TIME - now
    OFFSETS,
    st.booleans(),  # give a report
)


def _check_invariants(day: Workday, now: datetime) -> None:
    assert day.finish is None or day.finish >= day.start
    previous_end = day.start
    for index, pause in enumerate(day.breaks):
        assert pause.start >= previous_end
        if pause.end is None:
            assert index == len(day.breaks) - 1 and day.finish is None
            previous_end = pause.start
        else:
            assert pause.end > pause.start
            previous_end = pause.end
        if day.finish is not None:
            assert (pause.end or pause.start) <= day.finish
    assert duration(day) >= timedelta(0)
    if day.finish is not None:
        assert duration(day) + leaks(day, now) == day.finish - day.start
    elif now >= day.start:
        assert timedelta(0) <= leaks(day, now) <= now - day.start


ALLOWED_AFTER = {
    "open": {"OPENED", "EXPIRED"},
    "pause": {"PAUSED", "CLOSED", "EXPIRED"},
    "close": {"CLOSED"},
}


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=25), st.booleans())
def test_random_histories_keep_the_invariants(steps, free):
    rules = Settings(free=free)
    day: Workday | None = None
    now = T0
    for action, gap, shift, offset, with_report in steps:
        now += timedelta(seconds=gap)
        moment = None
        if shift is not None:
            moment = (now + timedelta(seconds=shift)).astimezone(
                timezone(timedelta(seconds=offset))
            )
        report = "because" if with_report else ""
        before = status(day, now)
        try:
            if action == "open":
                transition = open_day(
                    day, now, settings=rules, home_zone="Europe/Berlin", at=moment, report=report
                )
            elif action == "pause":
                transition = pause_day(day, now)
            else:
                transition = close_day(day, now, settings=rules, at=moment, report=report)
        except Refusal:
            continue
        after = status(transition.day, now)
        if transition.changed:
            assert after in ALLOWED_AFTER[action], (action, before, after)
            if transition.needs_approval:
                assert not rules.free and not transition.day.active
        else:
            assert after == before
        day = transition.day
        if day is not None:
            _check_invariants(day, now)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=6 * 3600),
    st.integers(min_value=60, max_value=6 * 3600),
    st.lists(st.tuples(st.integers(0, 3600), st.integers(1, 3600)), max_size=4),
    st.integers(min_value=0, max_value=20 * 3600),
)
def test_reject_keeps_the_invariants(claimed_back, close_after, pauses, close_late):
    now = at(10)
    edit = open_day(
        None,
        now,
        settings=STRICT,
        home_zone="UTC",
        at=now - timedelta(seconds=claimed_back),
        report="x",
    )
    day = edit.day
    cursor = day.start
    for wait, length in pauses:
        cursor += timedelta(seconds=wait)
        pause = Break(cursor, cursor + timedelta(seconds=length))
        day = replace(day, breaks=(*day.breaks, pause))
        cursor += timedelta(seconds=length)
    finish = max(cursor, now) + timedelta(seconds=close_after)
    day = replace(day, finish=finish)
    edits = (
        Edit("open", edit.claimed, now),
        Edit("close", finish, finish + timedelta(seconds=close_late)),
    )
    rejected = reject(day, edits)
    assert rejected.active
    _check_invariants(rejected, rejected.finish or now)
