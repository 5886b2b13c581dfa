"""The presence state machine (``b24local.scopes.im.presence``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.scopes.im.presence import (
    DEFAULT_IDLE_MINUTES,
    DEFAULT_STATUS,
    EARLIEST_IDLE,
    ONLINE_WINDOW,
    STATUSES,
    Presence,
    UnknownStatus,
    end_idle,
    idle_minutes,
    idle_since,
    is_online,
    set_status,
    start_idle,
)

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- defaults --------------------------------------------------------------------------


def test_constants() -> None:
    assert STATUSES == ("online", "dnd", "away", "break")
    assert DEFAULT_STATUS == "online"
    assert DEFAULT_IDLE_MINUTES == 10
    assert minutes(15) == ONLINE_WINDOW


def test_fresh_state() -> None:
    state = Presence()
    assert state == Presence(status="online", idle_since=None, last_activity=None)
    assert is_online(state, NOW) is False


def test_state_is_immutable() -> None:
    state = Presence()
    with pytest.raises(AttributeError):
        state.status = "dnd"  # type: ignore[misc]


# --- set_status ------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_set_status_accepts_every_status(status: str) -> None:
    state = set_status(Presence(), status, NOW)
    assert state.status == status
    assert state.last_activity == NOW
    assert state.idle_since is None


@pytest.mark.parametrize("status", ["DND", "Online", "offline", "", " online", "idle"])
def test_set_status_rejects_unknown_statuses(status: str) -> None:
    before = Presence(status="away", last_activity=NOW - minutes(1))
    with pytest.raises(UnknownStatus) as caught:
        set_status(before, status, NOW)
    assert isinstance(caught.value, ValueError)
    assert before == Presence(status="away", last_activity=NOW - minutes(1))


def test_set_status_keeps_idle() -> None:
    idle = Presence(idle_since=NOW - minutes(10), last_activity=NOW - minutes(10))
    state = set_status(idle, "dnd", NOW)
    assert state == Presence(status="dnd", idle_since=NOW - minutes(10), last_activity=NOW)
    assert is_online(state, NOW) is False


# --- start_idle ------------------------------------------------------------------------


@pytest.mark.parametrize(("ago", "expected"), [(1, 1), (5, 5), (600, 600), (0, 1), (-1, 1)])
def test_idle_minutes(ago: int, expected: int) -> None:
    assert idle_minutes(ago) == expected


@pytest.mark.parametrize(("ago", "since"), [(5, 5), (1, 1), (0, 1), (-3, 1), (-100, 1)])
def test_start_idle_since_ago(ago: int, since: int) -> None:
    state = start_idle(Presence(status="dnd"), ago, NOW)
    assert state.idle_since == NOW - minutes(since)
    # Never seen before: last activity becomes the idle moment.
    assert state.last_activity == NOW - minutes(since)
    assert state.status == "dnd"


def test_start_idle_pulls_back_a_later_last_activity() -> None:
    seen = Presence(last_activity=NOW - minutes(2))
    state = start_idle(seen, 5, NOW)
    assert state.idle_since == NOW - minutes(5)
    assert state.last_activity == NOW - minutes(5)


def test_start_idle_keeps_an_earlier_last_activity() -> None:
    seen = Presence(last_activity=NOW - minutes(30))
    state = start_idle(seen, 5, NOW)
    assert state.idle_since == NOW - minutes(5)
    assert state.last_activity == NOW - minutes(30)


@pytest.mark.parametrize("ago", [3_000_000_000, 1_000_000_000_000, 2**63 - 1])
def test_start_idle_stops_at_the_earliest_idle_moment(ago: int) -> None:
    state = start_idle(Presence(last_activity=NOW), ago, NOW)
    assert state.idle_since == EARLIEST_IDLE == datetime(1970, 1, 1, tzinfo=UTC)
    assert state.last_activity == EARLIEST_IDLE


def test_idle_since_reaches_exactly_back_to_the_earliest_moment() -> None:
    reachable = (NOW - EARLIEST_IDLE) // minutes(1)
    assert idle_since(reachable, NOW) == NOW - minutes(reachable)
    assert idle_since(reachable + 1, NOW) == EARLIEST_IDLE


def test_idle_since_before_the_earliest_moment_is_now() -> None:
    # The rule holds for any moment, even before 1970: the idle moment never lies ahead.
    past = datetime(1969, 7, 20, 20, 17, tzinfo=UTC)
    assert idle_since(5, past) == past


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_idle_since_any_ago_lies_between_the_earliest_moment_and_now(ago: int) -> None:
    assert EARLIEST_IDLE <= idle_since(ago, NOW) < NOW


def test_start_idle_again_moves_the_idle_moment() -> None:
    first = start_idle(Presence(), 5, NOW)
    second = start_idle(first, 1, NOW + minutes(10))
    assert second.idle_since == NOW + minutes(9)
    assert second.last_activity == NOW - minutes(5)


# --- end_idle --------------------------------------------------------------------------


def test_end_idle() -> None:
    idle = start_idle(Presence(status="away"), 5, NOW)
    later = NOW + minutes(3)
    state = end_idle(idle, later)
    assert state == Presence(status="away", idle_since=None, last_activity=later)
    assert is_online(state, later) is True


def test_end_idle_when_not_idle_is_activity() -> None:
    state = end_idle(Presence(), NOW)
    assert state == Presence(idle_since=None, last_activity=NOW)


# --- is_online -------------------------------------------------------------------------


def test_is_online_window() -> None:
    state = set_status(Presence(), "online", NOW)
    assert is_online(state, NOW)
    assert is_online(state, NOW + minutes(15))
    assert not is_online(state, NOW + minutes(15) + timedelta(microseconds=1))
    assert not is_online(state, NOW + minutes(60))


@pytest.mark.parametrize("status", STATUSES)
def test_is_online_does_not_depend_on_the_status(status: str) -> None:
    assert is_online(set_status(Presence(), status, NOW), NOW + minutes(1))


def test_idle_is_never_online() -> None:
    state = Presence(idle_since=NOW, last_activity=NOW)
    assert not is_online(state, NOW)


def test_never_seen_is_not_online() -> None:
    assert not is_online(Presence(status="online"), NOW)


# --- property: random sequences of operations -------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * 60 * 60),  # seconds since the previous step
        st.one_of(
            st.tuples(st.just("status"), st.sampled_from(STATUSES)),
            st.tuples(st.just("idle"), st.integers(min_value=-5, max_value=500)),
            st.tuples(st.just("back"), st.none()),
        ),
    ),
    max_size=30,
)


@given(OPERATIONS)
def test_random_sequences_keep_the_invariants(steps) -> None:
    state = Presence()
    now = NOW
    for gap, (kind, argument) in steps:
        now += timedelta(seconds=gap)
        before = state
        if kind == "status":
            state = set_status(state, argument, now)
            assert state.status == argument
            assert state.last_activity == now
            assert state.idle_since == before.idle_since
        elif kind == "idle":
            state = start_idle(state, argument, now)
            since = now - minutes(max(argument, 1))
            assert state.idle_since == since
            assert state.status == before.status
            assert state.last_activity is not None
            assert state.last_activity <= state.idle_since
            if before.last_activity is None or before.last_activity > since:
                assert state.last_activity == since
            else:
                assert state.last_activity == before.last_activity
        else:
            state = end_idle(state, now)
            assert state.idle_since is None
            assert state.last_activity == now
            assert state.status == before.status

        assert state.status in STATUSES
        assert state.idle_since is None or state.idle_since <= now
        assert state.last_activity is None or state.last_activity <= now
        expected_online = (
            state.idle_since is None
            and state.last_activity is not None
            and now - state.last_activity <= ONLINE_WINDOW
        )
        assert is_online(state, now) is expected_online
        assert is_online(state, now + ONLINE_WINDOW) is (
            expected_online and state.last_activity == now
        )
