"""Presence as a pure state machine of (status, idle since, last activity) and now.

No clock, no database, no request: every function takes the current state and
``now`` and returns the next state, or raises a domain error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

#: The statuses ``im.user.status.set`` accepts; the value is case-sensitive.
STATUSES = ("online", "dnd", "away", "break")
DEFAULT_STATUS = "online"
#: ``im.user.status.idle.start`` without ``AGO``.
DEFAULT_IDLE_MINUTES = 10
#: A user seen within this window counts as online (``IS_ONLINE``).
ONLINE_WINDOW = timedelta(minutes=15)
#: The earliest idle moment: an ``AGO`` reaching further back stops here, so a
#: huge ``AGO`` never leaves the range of dates that can be stored and shown.
EARLIEST_IDLE = datetime(1970, 1, 1, tzinfo=UTC)


class UnknownStatus(ValueError):
    """The requested status is not one of :data:`STATUSES`."""


@dataclass(frozen=True, slots=True)
class Presence:
    status: str = DEFAULT_STATUS
    idle_since: datetime | None = None
    last_activity: datetime | None = None


def set_status(state: Presence, status: str, now: datetime) -> Presence:
    """Choose a status; choosing is activity, so the user is seen now."""
    if status not in STATUSES:
        raise UnknownStatus(status)
    return replace(state, status=status, last_activity=now)


def idle_minutes(ago: int) -> int:
    """A given ``AGO`` as the real handler reads it: at least one minute."""
    return max(ago, 1)


def idle_since(ago_minutes: int, now: datetime) -> datetime:
    """The moment ``ago_minutes`` before now, but not before :data:`EARLIEST_IDLE`
    (nor after now)."""
    minutes = idle_minutes(ago_minutes)
    # Compared as whole minutes first: a timedelta of 2**63 minutes cannot exist.
    if minutes > (now - EARLIEST_IDLE) // timedelta(minutes=1):
        return min(EARLIEST_IDLE, now)
    return now - timedelta(minutes=minutes)


def start_idle(state: Presence, ago_minutes: int, now: datetime) -> Presence:
    """Mark the user away since ``ago_minutes`` before now.

    The user did nothing after going idle, so a last activity later than the
    idle moment is pulled back to it.
    """
    since = idle_since(ago_minutes, now)
    last = state.last_activity
    if last is None or last > since:
        last = since
    return replace(state, idle_since=since, last_activity=last)


def end_idle(state: Presence, now: datetime) -> Presence:
    """The user is back: no longer idle, and active now."""
    return replace(state, idle_since=None, last_activity=now)


def is_online(state: Presence, now: datetime) -> bool:
    """Seen recently and not idle."""
    if state.idle_since is not None or state.last_activity is None:
        return False
    return now - state.last_activity <= ONLINE_WINDOW
