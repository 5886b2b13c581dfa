"""Time control's rules: absences from sequences of presence and workday events
(checked against an independent model of away and working intervals), month
bounds in time zones, and the settings ``settings.set`` accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from b24local.scopes.im.presence import Presence, end_idle, set_status, start_idle
from b24local.scopes.timeman.absences import (
    FIRST_YEAR,
    LAST_YEAR,
    ControlSettings,
    DayReport,
    InvalidSetting,
    Record,
    absent_since,
    apply_settings,
    day_result,
    month_bounds,
    sync,
)
from b24local.scopes.timeman.workday import Settings, Workday, close_day, open_day, pause_day

ON = ControlSettings(active=True)
FREE = Settings(free=True)
MORNING = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

Interval = tuple[datetime, datetime]


@dataclass
class Run:
    """Records kept as the adapters keep them: one open at most, closed and opened
    as :func:`sync` says after every event."""

    presence: Presence = field(default_factory=Presence)
    day: Workday | None = None
    records: list[list[datetime | None]] = field(default_factory=list)
    #: The model's side: the intervals worked, and since when work goes on.
    working: list[Interval] = field(default_factory=list)
    work_from: datetime | None = None

    def settle(self, now: datetime) -> None:
        running = self.records[-1] if self.records and self.records[-1][1] is None else None
        done = [end for _, end in self.records if end is not None]
        floor = done[-1] if done else None
        plan = sync(running[0] if running else None, self.presence, self.day, now, ON, floor)
        if running is not None and plan.close_at is not None:
            running[1] = plan.close_at
        if plan.open_from is not None:
            self.records.append([plan.open_from, None])

    def workday(self, kind: str, now: datetime) -> None:
        """A workday event, logging the working intervals it begins or ends."""
        before = self.day
        self.day = workday_event(before, kind, now)
        was, is_ = working_at(before), working_at(self.day)
        if is_ and not was:
            self.work_from = now
        elif was and not is_:
            assert self.work_from is not None
            self.working.append((self.work_from, now))
            self.work_from = None

    def stop_working(self, now: datetime) -> None:
        if self.work_from is not None:
            self.working.append((self.work_from, now))

    def closed(self) -> list[Interval]:
        return [(s, e) for s, e in self.records if s is not None and e is not None and e > s]


def working_at(day: Workday | None) -> bool:
    return day is not None and day.finish is None and not day.paused


def workday_event(day: Workday | None, kind: str, now: datetime) -> Workday | None:
    change = {
        "open": lambda: open_day(day, now, settings=FREE, home_zone="UTC"),
        "pause": lambda: pause_day(day, now, settings=FREE),
        "close": lambda: close_day(day, now, settings=FREE),
    }[kind]
    try:
        return change().day
    except Exception:  # a refused transition leaves the day as it was
        return day


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    found = []
    for s1, e1 in a:
        for s2, e2 in b:
            start, end = max(s1, s2), min(e1, e2)
            if end > start:
                found.append((start, end))
    return sorted(found)


def merged(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


# Events a minute apart or more: (minutes later, what happens).
events = st.lists(
    st.tuples(
        # Within one calendar day: the model knows nothing of days expiring.
        st.integers(min_value=1, max_value=30),
        st.sampled_from(["away", "online", "open", "pause", "close"]),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_absences_are_exactly_the_away_time_while_working(steps):
    """With away starting when it is chosen (no back-dating), the records are the
    intersection of being away and of working, wherever the events fall."""
    run, now = Run(), MORNING
    away: list[Interval] = []
    away_from: datetime | None = None
    for minutes, kind in steps:
        now += timedelta(minutes=minutes)
        if kind in ("away", "online"):
            run.presence = set_status(run.presence, kind, now)
            if kind == "away" and away_from is None:
                away_from = now
            elif kind == "online" and away_from is not None:
                away.append((away_from, now))
                away_from = None
        else:
            run.workday(kind, now)
        run.settle(now)
    # The end: back online, the day closed.
    now += timedelta(minutes=1)
    run.presence = set_status(run.presence, "online", now)
    if away_from is not None:
        away.append((away_from, now))
    run.settle(now)
    run.stop_working(now)
    assert all(end is not None for _, end in run.records)
    assert merged(run.closed()) == merged(intersect(away, run.working))


presence_events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=25),
        st.sampled_from(["idle", "back", "away", "online", "open", "pause", "close"]),
        st.integers(min_value=1, max_value=600),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(presence_events)
# Work resumed within the second it stopped leaves the day no break; a back-dated
# idle must still start no earlier than the resume: after a close and a pause
# (which reopens the day)...
@example([(0, "idle", 1), (0, "open", 1), (0, "close", 1), (2, "pause", 1), (0, "open", 1),
          (0, "idle", 1)])  # fmt: skip
# ...after a pause, and after a close reopened at once.
@example([(0, "open", 1), (5, "pause", 1), (0, "open", 1), (1, "idle", 3), (1, "back", 1)])
@example([(0, "open", 1), (5, "close", 1), (0, "open", 1), (1, "idle", 3), (1, "back", 1)])
def test_back_dated_idling_never_overlaps_nor_leaves_the_working_time(steps):
    run, now = Run(), MORNING
    for minutes, kind, ago in steps:
        now += timedelta(minutes=minutes)
        if kind == "idle":
            run.presence = start_idle(run.presence, ago, now)
        elif kind == "back":
            run.presence = end_idle(run.presence, now)
        elif kind in ("away", "online"):
            run.presence = set_status(run.presence, kind, now)
        else:
            run.workday(kind, now)
        run.settle(now)
        assert sum(1 for _, end in run.records if end is None) <= 1
    run.stop_working(now)
    done = sorted(run.closed())
    for (_, end), (start, _) in pairwise(done):
        assert end <= start, "records overlap"
    for record in done:
        assert intersect([record], run.working) == [record], "absent while not working"


def test_no_absence_while_time_control_or_idle_registration_is_off():
    day = Workday(start=MORNING, tz_offset=0)
    idle = Presence(idle_since=MORNING + timedelta(hours=1))
    later = MORNING + timedelta(hours=2)
    assert absent_since(idle, day, later, ON) == MORNING + timedelta(hours=1)
    assert absent_since(idle, day, later, ControlSettings()) is None
    assert absent_since(idle, day, later, ControlSettings(active=True, register_idle=False)) is None


def test_an_expired_day_ends_the_absence_at_the_last_second_of_its_date():
    day = Workday(start=MORNING, tz_offset=0)
    idle = Presence(idle_since=MORNING + timedelta(hours=1))
    next_day = MORNING + timedelta(days=1)
    plan = sync(MORNING + timedelta(hours=1), idle, day, next_day, ON)
    assert plan.close_at == datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
    assert plan.open_from is None


def test_an_absence_left_on_an_expired_day_ends_with_it_when_a_new_day_opens():
    old = Workday(start=MORNING, tz_offset=0)
    idle = Presence(idle_since=MORNING + timedelta(hours=1))
    tomorrow = MORNING + timedelta(days=1)
    new = Workday(start=tomorrow, tz_offset=0)
    plan = sync(MORNING + timedelta(hours=1), idle, new, tomorrow, ON, record_day=old)
    assert plan.close_at == datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
    assert plan.open_from == tomorrow


# --- months and zones ---------------------------------------------------------------------------


@given(
    year=st.integers(min_value=FIRST_YEAR, max_value=LAST_YEAR),
    month=st.integers(min_value=1, max_value=12),
    zone=st.sampled_from(
        ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/St_Johns", "Pacific/Kiritimati"]
    ),
)
def test_a_month_runs_from_its_first_midnight_to_its_last_second_on_the_local_clock(
    year, month, zone
):
    first, last = month_bounds(year, month, ZoneInfo(zone))
    assert (first.day, first.hour, first.minute, first.second) == (1, 0, 0, 0)
    assert (last.hour, last.minute, last.second) == (23, 59, 59)
    assert last.month == month and (last + timedelta(days=1)).month != month
    assert first.tzinfo == ZoneInfo(zone)


def test_a_day_is_titled_on_its_own_clock():
    # 23:30 UTC on the 1st is already the 2nd in Tokyo, where the day was opened.
    start = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    day = Workday(start=start, tz_offset=9 * 3600, finish=start + timedelta(hours=1))
    got = day_result(
        DayReport(1, day), start, view="head", idle_minutes=15, workday_hours=8, ranges=()
    )
    assert (got["index"], got["day_title"]) == ("20260302", "03/02/2026")
    assert got["workday_date_start"] == "2026-03-02T08:30:00+09:00"


@given(
    idle=st.lists(st.integers(min_value=0, max_value=7200), max_size=6),
    explained=st.lists(st.booleans(), min_size=6, max_size=6),
    bar=st.integers(min_value=0, max_value=120),
)
def test_the_days_figures_add_up(idle, explained, bar):
    start = MORNING
    finish = start + timedelta(hours=9)
    records, at = [], start
    for i, seconds in enumerate(idle):
        records.append(
            Record(i + 1, 1, 1, "IDLE", at, at + timedelta(seconds=seconds), "IDLE_EVENT",
                   "IDLE_EVENT", report_type="WORK" if explained[i] else "NONE")
        )  # fmt: skip
        at += timedelta(seconds=seconds)
    day = Workday(start=start, tz_offset=0, finish=finish)
    got = day_result(
        DayReport(1, day, tuple(records)),
        finish,
        view="head",
        idle_minutes=bar,
        workday_hours=8,
        ranges=(),
    )
    counted = [r for r in records if r.seconds(finish) > bar * 60]
    assert len(got["reports"]) == len(counted)
    unexplained = sum(r.seconds(finish) for r in counted if r.report_type != "WORK")
    assert got["workday_time_leaks_real"] == unexplained
    assert got["workday_duration"] == 9 * 3600
    assert got["workday_duration_final"] == max(9 * 3600 - unexplained, 0)
    assert got["workday_time_leaks_final"] == 8 * 3600 - got["workday_duration_final"]


# --- settings.set ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ({"ACTIVE": "Y"}, True),
        ({"ACTIVE": 1}, True),
        ({"ACTIVE": "0"}, False),
        ({"ACTIVE": False}, None),  # the page: false does not switch the module off
        ({"ACTIVE": "false"}, None),
    ],
)
def test_active_as_clients_send_it(given_, expected):
    for before in (True, False):
        after = apply_settings(ControlSettings(active=before), given_).active
        assert after == (before if expected is None else expected)


@given(
    st.one_of(
        st.none(), st.floats(), st.lists(st.integers()), st.dictionaries(st.text(), st.text())
    )
)
def test_a_type_list_that_is_not_a_word_is_refused(value):
    with pytest.raises(InvalidSetting):
        apply_settings(ControlSettings(), {"REPORT_FULL_TYPE": value})


def test_the_stored_form_reads_back():
    stored = apply_settings(
        ControlSettings(), {"REPORT_FULL_TYPE": "user", "REPORT_FULL_USERS": {"0": "5", "1": 7}}
    )
    assert ControlSettings.from_json(stored.to_json()) == stored
    assert stored.report_full_users == (5, 7)
