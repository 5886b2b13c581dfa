"""The adjustable clock (``b24local.clock``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from b24local.clock import EARLIEST, LATEST, AdjustableClock, SystemClock, monotonic

START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
# Generous bounds for "real time passed while the test ran"; never asserted tightly.
SLACK = timedelta(minutes=5)


def test_frozen_clock_stands_still() -> None:
    clock = AdjustableClock(START, frozen=True)
    assert clock.frozen
    assert clock.now() == START
    assert clock.now() == START


def test_now_is_aware_utc() -> None:
    for clock in (AdjustableClock(START, frozen=True), AdjustableClock(START), SystemClock()):
        now = clock.now()
        assert now.tzinfo is not None
        assert now.utcoffset() == timedelta(0)


def test_set_converts_to_utc() -> None:
    clock = AdjustableClock(frozen=True)
    berlin = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    clock.set(berlin)
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_set_rejects_naive_datetimes() -> None:
    clock = AdjustableClock()
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 3, 2, 8, 30))
    with pytest.raises(ValueError):
        AdjustableClock(datetime(2026, 3, 2, 8, 30))


def test_set_keeps_frozenness_unless_told() -> None:
    clock = AdjustableClock(START, frozen=True)
    clock.set(START + timedelta(days=1))
    assert clock.frozen
    assert clock.now() == START + timedelta(days=1)

    clock.set(START, frozen=False)
    assert not clock.frozen

    clock.set(START + timedelta(days=2))
    assert not clock.frozen

    clock.set(START, frozen=True)
    assert clock.frozen
    assert clock.now() == START


def test_advance_frozen() -> None:
    clock = AdjustableClock(START, frozen=True)
    clock.advance(90)
    assert clock.now() == START + timedelta(seconds=90)
    clock.advance(0.5)
    assert clock.now() == START + timedelta(seconds=90.5)
    clock.advance(0)
    assert clock.now() == START + timedelta(seconds=90.5)


def test_advance_negative_raises_and_changes_nothing() -> None:
    clock = AdjustableClock(START, frozen=True)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.advance(-0.001)
    assert clock.now() == START


def test_running_clock_starts_at_the_set_moment_and_moves_on() -> None:
    clock = AdjustableClock(START)
    assert not clock.frozen
    first = clock.now()
    assert START <= first < START + SLACK
    second = clock.now()
    assert second >= first


def test_advance_running() -> None:
    clock = AdjustableClock(START)
    clock.advance(3600)
    now = clock.now()
    assert START + timedelta(hours=1) <= now < START + timedelta(hours=1) + SLACK
    with pytest.raises(ValueError):
        clock.advance(-5)
    assert clock.now() >= now


def test_unfreeze_continues_from_the_frozen_moment() -> None:
    clock = AdjustableClock(START, frozen=True)
    clock.advance(60)
    clock.unfreeze()
    assert not clock.frozen
    now = clock.now()
    assert START + timedelta(seconds=60) <= now < START + timedelta(seconds=60) + SLACK


def test_unfreeze_when_running_changes_nothing() -> None:
    clock = AdjustableClock(START)
    clock.advance(3600)
    clock.unfreeze()
    assert not clock.frozen
    assert clock.now() >= START + timedelta(hours=1)


def test_freeze_by_set() -> None:
    clock = AdjustableClock(START)
    clock.set(START + timedelta(hours=2), frozen=True)
    assert clock.frozen
    assert clock.now() == START + timedelta(hours=2)


def test_default_clock_follows_real_time() -> None:
    before = datetime.now(UTC)
    clock = AdjustableClock()
    assert not clock.frozen
    assert before <= clock.now() < before + SLACK


def test_default_frozen_clock_is_frozen_near_now() -> None:
    before = datetime.now(UTC)
    clock = AdjustableClock(frozen=True)
    assert clock.frozen
    frozen_at = clock.now()
    assert before <= frozen_at < before + SLACK
    assert clock.now() == frozen_at


def test_system_clock_is_real_time() -> None:
    before = datetime.now(UTC)
    assert before <= SystemClock().now() < before + SLACK


def test_monotonic_does_not_go_back() -> None:
    first = monotonic()
    assert monotonic() >= first


@pytest.mark.parametrize("seconds", [1e300, float("inf"), float("nan"), 300_000_000_000])
def test_advance_past_the_range_raises_and_changes_nothing(seconds: float) -> None:
    for clock in (AdjustableClock(START, frozen=True), AdjustableClock(START)):
        before = clock.now()
        with pytest.raises(ValueError):
            clock.advance(seconds)
        assert before <= clock.now() < before + SLACK


def test_advance_up_to_the_end_of_the_range() -> None:
    clock = AdjustableClock(START, frozen=True)
    clock.advance((LATEST - START).total_seconds() - 1)
    assert clock.now() == LATEST - timedelta(seconds=1)
    with pytest.raises(ValueError):
        clock.advance(1)


@pytest.mark.parametrize(
    "moment",
    [
        EARLIEST - timedelta(microseconds=1),
        LATEST,
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_set_outside_the_range_raises_and_changes_nothing(moment: datetime) -> None:
    clock = AdjustableClock(START, frozen=True)
    with pytest.raises(ValueError):
        clock.set(moment)
    assert clock.now() == START
    clock.set(EARLIEST)
    assert clock.now() == EARLIEST
