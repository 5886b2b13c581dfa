"""``timeman.status/open/pause/close/settings``: thin adapters over the workday rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from b24local.clock import Clock
from b24local.entities import Portal, User
from b24local.rest.call import Call
from b24local.rest.errors import ErrorSpec
from b24local.rest.params import Params
from b24local.rest.registry import MethodGroup, Registry
from b24local.store import users as user_store
from b24local.store import workdays

from . import params as timeman_params
from . import tracking
from .access import can_manage, manages_anyone
from .report import day_result, settings_result
from .workday import (
    Place,
    Reason,
    Refusal,
    Settings,
    Transition,
    Workday,
    close_day,
    open_day,
    pause_day,
    whole_second,
)

methods = MethodGroup("timeman")

USER_NOT_FOUND = ErrorSpec("", 400, "User not found", "USER_ID names no user")
# The real wrapper's AccessException: "Access denied!" and its own words.
ACCESS_DENIED = ErrorSpec(
    "ACCESS_DENIED",
    403,
    "Access denied! User does not have access to managing other users work time",
    "USER_ID is someone the caller may not manage",
)
REFUSALS: dict[Reason, ErrorSpec] = {
    Reason.TIME_WHILE_PAUSED: ErrorSpec(
        "TIME", 400, "Unable to set time, work day is paused", "open with TIME on a paused day"
    ),
    Reason.TIME_WHILE_OPEN: ErrorSpec(
        "TIME", 400, "Unable to set time, work day is opened", "open with TIME on an open day"
    ),
    Reason.TIME_WHILE_EXPIRED: ErrorSpec(
        "TIME", 400, "Unable to set time, work day is expired", "open with TIME on an expired day"
    ),
    Reason.OPEN_DATE_NOT_TODAY: ErrorSpec(
        "WRONG_DATETIME",
        400,
        "Day open date should correspond to the current date",
        "open: TIME is not today",
    ),
    Reason.CLOSE_DATE_NOT_START_DATE: ErrorSpec(
        "WRONG_DATETIME",
        400,
        "Day close date should correspond to the day open date",
        "close: the closing moment is not on the start date",
    ),
    Reason.TIME_IN_FUTURE: ErrorSpec(
        "WRONG_DATETIME", 400, "TIME cannot be in the future", "TIME later than now"
    ),
    Reason.TIME_BEFORE_START: ErrorSpec(
        "WRONG_DATETIME",
        400,
        "Day close time cannot be earlier than the day open time",
        "close: TIME before the start",
    ),
    Reason.TIME_BEFORE_CLOSE: ErrorSpec(
        "WRONG_DATETIME",
        400,
        "Day reopen time cannot be earlier than the day close time",
        "reopen: TIME before the earlier close",
    ),
    Reason.TIME_BEFORE_PREVIOUS_DAY: ErrorSpec(
        "WRONG_DATETIME",
        400,
        "Day open time cannot be earlier than the previous day close time",
        "open: TIME before the end of the previous day",
    ),
    Reason.REPORT_REQUIRED: ErrorSpec(
        "REPORT_NEEDED",
        400,
        "Reason for change is not specified",
        "TIME without REPORT for a user without a flexible schedule",
    ),
    Reason.NOT_OPEN: ErrorSpec(
        "WD_NOT_OPEN", 400, "Workday is not open", "close with no open, paused or expired day"
    ),
    Reason.EXPIRED_NEEDS_TIME: ErrorSpec(
        "WD_EXPIRED", 400, "Workday is expired", "close of an expired day without TIME"
    ),
    Reason.TRACKING_DISABLED: ErrorSpec(
        "TIMEMAN_DISABLED",
        400,
        "Work time tracking is disabled for the user",
        "open for a user with UF_TIMEMAN off",
    ),
}
methods.errors = (USER_NOT_FOUND, ACCESS_DENIED, *REFUSALS.values(), *timeman_params.ERRORS)

_PAGES = "timeman/base/"
#: A change made from no known address (the web pages give theirs).
_NOWHERE = Place()


async def target_user(call: Call) -> User:
    """``USER_ID`` (the caller by default), checked for rights and existence.

    As in the real wrapper, a caller who manages no one is denied before the ID is
    looked up, so a stranger cannot probe which users exist.
    """
    params = call.params.upper()
    if not params.has("USER_ID"):
        return call.user
    user_id = params.int("USER_ID")
    if user_id == call.user.id:
        return call.user
    if not await manages_anyone(call.conn, call.user):
        raise ACCESS_DENIED()
    target = await user_store.get(call.conn, call.portal.id, user_id) if user_id > 0 else None
    if target is None:
        raise USER_NOT_FOUND()
    if not await can_manage(call.conn, call.user, target):
        raise ACCESS_DENIED()
    return target


def target_user_id(params: dict[str, Any], user_id: int, _registry: Registry) -> tuple[int]:
    """Whose day a transition changes (``changes``): ``USER_ID``, the caller by default;
    :func:`target_user` checks it when the call runs."""
    upper = Params(params).upper()
    return (upper.int("USER_ID") if upper.has("USER_ID") else user_id,)


def home_zone(portal: Portal, user: User) -> str:
    """The zone a day opened without ``TIME`` starts in: the user's, else the portal's."""
    return user.time_zone or portal.time_zone


async def _state(call: Call, user: User) -> tuple[Any, Settings]:
    stored = await workdays.latest(call.conn, call.portal.id, user.id)
    settings = await workdays.settings_for(call.conn, call.portal.id, user.id, user.departments)
    return stored, settings


#: A transition of the current day, given the settings, the target and the moment.
Change = Callable[[Workday | None, Settings, User, datetime], Transition]


def opening(
    portal: Portal,
    *,
    at: datetime | None = None,
    report: str = "",
    place: Place = _NOWHERE,
) -> Change:
    """``timeman.open``'s change: start, resume or reopen the day."""

    def change(day: Workday | None, settings: Settings, user: User, now: datetime) -> Transition:
        return open_day(
            day, now, settings=settings, home_zone=home_zone(portal, user), at=at,
            report=report, place=place,
        )  # fmt: skip

    return change


def pausing() -> Change:
    """``timeman.pause``'s change."""

    def change(day: Workday | None, settings: Settings, _user: User, now: datetime) -> Transition:
        return pause_day(day, now, settings=settings)

    return change


def closing(*, at: datetime | None = None, report: str = "", place: Place = _NOWHERE) -> Change:
    """``timeman.close``'s change: now, or at ``at`` with a ``report``."""

    def change(day: Workday | None, settings: Settings, _user: User, now: datetime) -> Transition:
        return close_day(day, now, settings=settings, at=at, report=report, place=place)

    return change


async def change_day(
    conn: Any,
    portal_id: int,
    user: User,
    change: Change,
    *,
    clock: Clock,
    actor_id: int,
    report: str = "",
    ip: str = "",
) -> tuple[Transition, Settings, datetime]:
    """Lock ``user`` and apply ``change`` to their day at the moment the lock was
    got: the methods and the web pages both come here. Raises :class:`Refusal`."""
    await user_store.lock(conn, portal_id, user.id)
    # A call that waited for the lock acts when it got it, after the change it waited
    # for, never at the earlier moment it arrived.
    now = whole_second(clock.now())
    transition, settings = await apply_change(
        conn, portal_id, user, change, actor_id=actor_id, now=now, report=report, ip=ip
    )
    return transition, settings, now


async def _transition(call: Call, change: Change, report: str = "") -> dict[str, Any]:
    """Apply one transition to the target's current day, store it and its history."""
    user = await target_user(call)
    try:
        transition, settings, now = await change_day(
            call.conn, call.portal.id, user, change, clock=call.clock, actor_id=call.user.id,
            report=report, ip=call.client_ip,
        )  # fmt: skip
    except Refusal as refusal:
        raise REFUSALS[refusal.reason]() from None
    return day_result(transition.day, now, settings)


async def apply_change(
    conn: Any,
    portal_id: int,
    user: User,
    change: Change,
    *,
    actor_id: int,
    now: datetime,
    report: str = "",
    ip: str = "",
) -> tuple[Transition, Settings]:
    """One transition of ``user``'s current day at ``now``, stored with its history
    and time control's marks: the methods and state files both come here. Raises
    :class:`Refusal`; the caller holds the user's lock."""
    stored = await workdays.latest(conn, portal_id, user.id)
    settings = await workdays.settings_for(conn, portal_id, user.id, user.departments)
    before = stored.day if stored else None
    transition = change(before, settings, user, now)
    if transition.changed and transition.day is not None:
        new_row = transition.action == "open" or stored is None
        workday_id = await workdays.save(
            conn,
            portal_id,
            user.id,
            transition.day,
            now=now,
            workday_id=None if new_row or stored is None else stored.id,
        )
        await workdays.record(
            conn,
            portal_id,
            workday_id,
            user_id=user.id,
            actor_id=actor_id,
            action=transition.action,
            at=now,
            before=None if new_row else before,
            after=transition.day,
            claimed=transition.claimed,
            needs_approval=transition.needs_approval,
            report=report,
            ip=ip,
        )
        await tracking.workday_changed(
            conn,
            portal_id,
            workdays.StoredDay(workday_id, user.id, transition.day),
            action=transition.action,
            at=transition.claimed or now,
            now=now,
            ip=ip,
        )
    return transition, settings


@methods.method(
    "timeman.status",
    summary="The user's current workday",
    reference=_PAGES + "timeman-status.md",
)
async def timeman_status(call: Call) -> dict[str, Any]:
    user = await target_user(call)
    stored, settings = await _state(call, user)
    return day_result(stored.day if stored else None, call.now, settings)


@methods.method(
    "timeman.open",
    summary="Start a workday, resume a paused one or reopen one closed today",
    reference=_PAGES + "timeman-open.md",
    writes=True,
    changes=target_user_id,
)
async def timeman_open(call: Call) -> dict[str, Any]:
    params = call.params.upper()
    at = timeman_params.moment(params)
    report = timeman_params.report(params)
    place = timeman_params.place(params, call.client_ip)
    return await _transition(call, opening(call.portal, at=at, report=report, place=place), report)


@methods.method(
    "timeman.pause",
    summary="Pause the workday (a day closed today resumes and pauses)",
    reference=_PAGES + "timeman-pause.md",
    writes=True,
    changes=target_user_id,
)
async def timeman_pause(call: Call) -> dict[str, Any]:
    return await _transition(call, pausing())


@methods.method(
    "timeman.close",
    summary="Close the workday now or at TIME on its start date",
    reference=_PAGES + "timeman-close.md",
    writes=True,
    changes=target_user_id,
)
async def timeman_close(call: Call) -> dict[str, Any]:
    params = call.params.upper()
    at = timeman_params.moment(params)
    report = timeman_params.report(params)
    place = timeman_params.place(params, call.client_ip)
    return await _transition(call, closing(at=at, report=report, place=place), report)


@methods.method(
    "timeman.settings",
    summary="The user's work-time settings",
    reference=_PAGES + "timeman-settings.md",
)
async def timeman_settings(call: Call) -> dict[str, Any]:
    user = await target_user(call)
    settings = await workdays.settings_for(call.conn, call.portal.id, user.id, user.departments)
    admin = await manages_anyone(call.conn, user) if user.id == call.user.id else None
    return settings_result(settings, admin)
