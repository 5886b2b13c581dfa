"""The page handlers: log-in, log-out, "My day" and its actions, my status.

Each handler finds the visit (:mod:`.visit`), and acts for the logged-in user
only: no form field names another user, so the page can do nothing to anyone
else's day that REST would not let them do either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime, time
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from b24local.entities import User
from b24local.oauth import throttle
from b24local.oauth.login import SESSION_COOKIE, SESSION_LIFETIME, check_password
from b24local.scopes.im import presence
from b24local.scopes.im.methods import set_status
from b24local.scopes.timeman import methods as timeman
from b24local.scopes.timeman.access import can_manage
from b24local.scopes.timeman.workday import (
    Place,
    Refusal,
    Settings,
    Transition,
    Workday,
    status,
)
from b24local.store import failures, sessions, workdays
from b24local.store import presence as presence_store
from b24local.store import users as user_store

from . import day as day_view
from .administer import path_id
from .render import page
from .visit import Refused, Visit, visit

log = logging.getLogger("b24local.web")

Handler = Callable[[Visit], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def handler(needs_user: bool = True) -> Callable[[Handler], Endpoint]:
    """Wrap a page: find the visit, send strangers to the log-in page, and show
    every :class:`Refused` as an error page."""

    def wrap(inner: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                return await answer(request)
            except Exception as failure:
                if not (failures.unreachable(failure) or failures.pool_exhausted(failure)):
                    raise
                # The database away or busy: a page saying so, as REST calls answer
                # DATABASE_UNAVAILABLE; nothing is wrong with the page itself.
                log.warning("database unavailable for %s: %s", request.url.path, failure)
                refused = Refused("error.database", 503)
                return page(request, "error.html", status=503, refused=refused)

        async def answer(request: Request) -> Response:
            try:
                current = await visit(request)
            except Refused as refused:
                return page(request, "error.html", status=refused.status, refused=refused)
            if needs_user and current.user is None:
                return current.finish(_see_other("/login"))
            try:
                return current.finish(await inner(current))
            except Refused as refused:
                response = page(
                    request, "error.html", status=refused.status, refused=refused,
                    visit=current, csrf_token=current.csrf_token(),
                )  # fmt: skip
                return current.finish(response)

        return endpoint

    return wrap


# --- log-in and log-out ---------------------------------------------------------------


@handler(needs_user=False)
async def home(current: Visit) -> Response:
    return _see_other("/day" if current.user else "/login")


@handler(needs_user=False)
async def login(current: Visit) -> Response:
    if current.request.method in ("GET", "HEAD"):
        if current.user is not None:
            return _see_other("/day")
        return _login_page(current)
    fields = await current.form()
    name, password = fields.get("login", ""), fields.get("password", "")
    runtime = current.runtime
    attempt = throttle.Attempt.of(current.portal.id, name, current.client_ip)
    user_id, wait = await check_password(
        runtime.store, current.portal, name, password, attempt, current.now
    )
    if wait is not None:
        return _login_page(
            current, "login.locked", 429, {"Retry-After": str(wait)}, name,
            minutes=throttle.locked_minutes(wait),
        )  # fmt: skip
    new_session = None
    if user_id is not None:
        async with runtime.store.transaction(write=True) as conn:
            await throttle.succeeded(conn, attempt)
            user = await user_store.get(conn, current.portal.id, user_id)
            if user is not None and user.active:
                if current.session:
                    await sessions.end(conn, current.portal.id, current.session)
                new_session = await sessions.start(
                    conn, current.portal.id, user_id, now=current.now,
                    expires_at=current.now + SESSION_LIFETIME,
                )  # fmt: skip
    if new_session is None:
        return _login_page(current, "login.wrong", 401, None, name)
    response = _see_other("/day")
    _session_cookie(response, new_session, current.secure)
    return response


def _login_page(
    current: Visit,
    error: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
    login_name: str = "",
    **values: int,
) -> Response:
    """The log-in form; ``error`` is a catalogue key, filled in with ``values``."""
    return page(
        current.request, "login.html", status=status, headers=headers, visit=current,
        error=error, error_values=values, login_name=login_name,
        csrf_token=current.csrf_token(),
    )  # fmt: skip


def _session_cookie(response: Response, secret: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, secret, path="/", httponly=True, samesite="lax", secure=secure,
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )  # fmt: skip


@handler(needs_user=False)
async def logout(current: Visit) -> Response:
    await current.form()
    if current.session:
        async with current.runtime.store.transaction(write=True) as conn:
            await sessions.end(conn, current.portal.id, current.session)
    response = _see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --- My day ----------------------------------------------------------------------------


def home_zone(current: Visit, user: User | None = None) -> ZoneInfo:
    """The zone of ``user``'s days (the viewer's by default)."""
    user = user or current.user
    assert user is not None
    return ZoneInfo(timeman.home_zone(current.portal, user))


async def _day_page(
    current: Visit,
    error: str = "",
    status: int = 200,
    sent: dict[str, str] | None = None,
    *,
    person: User | None = None,
) -> Response:
    """My day, or ``person``'s day as their supervisor sees it; after a refused form,
    with the error and what was ``sent`` filled in."""
    user = person or current.user
    assert user is not None
    async with current.runtime.store.transaction() as conn:
        stored = await workdays.latest(conn, current.portal.id, user.id)
        settings = await workdays.settings_for(conn, current.portal.id, user.id, user.departments)
        state = await presence_store.get(conn, current.portal.id, user.id)
    day = stored.day if stored else None
    home = home_zone(current, user)
    shown = day_view.view(day, settings, current.now, home)
    return page(
        current.request, "day.html", status=status, visit=current, user=user, view=shown,
        settings=settings, presence=state, statuses=presence.STATUSES, error=error,
        csrf_token=current.csrf_token(), now=current.now, home=home, sent=sent or {},
        person=person, base=f"/team/{person.id}" if person else "/day",
    )  # fmt: skip


@handler()
async def my_day(current: Visit) -> Response:
    return await _day_page(current)


#: The states each button is meant for: a form posted from a page that is out of
#: date (another tab paused the day meanwhile) is refused, not taken for another act.
_MEANT_FOR = {
    "start": ("NONE", "CLOSED"),
    "pause": ("OPENED",),
    "resume": ("PAUSED",),
    "close": ("OPENED", "PAUSED", "EXPIRED"),
}


#: What a time input sends: ``HH:MM``, seconds at most. ``time.fromisoformat`` alone
#: also takes ``12``, ``1200`` and an offset, which would be silently dropped.
_CLOCK = re.compile(r"\d\d:\d\d(:\d\d(\.\d{1,6})?)?", re.ASCII)


def _earlier(text: str, on: Callable[[time], datetime]) -> datetime | None:
    """An ``HH:MM`` field as a moment (``on`` puts it on a date), None if empty."""
    if not text:
        return None
    try:
        if not _CLOCK.fullmatch(text):
            raise ValueError(text)
        clock = time.fromisoformat(text)
    except ValueError:
        raise Refused("day.bad_time", 400) from None
    return on(clock.replace(second=0, microsecond=0))


@handler()
async def day_action(current: Visit) -> Response:
    assert current.user is not None
    return await _act(current, current.user, None)


async def _act(current: Visit, user: User, person: User | None) -> Response:
    """A button of a day: ``user``'s own (``person`` None), or ``person``'s pressed
    by their supervisor, as ``timeman.*`` with ``USER_ID`` would."""
    action = current.request.path_params["action"]
    if action not in _MEANT_FOR:
        raise Refused("error.not_found", 404)
    fields = await current.form()
    actor = current.user
    assert actor is not None
    report = fields.get("report", "").strip()
    place = Place(ip=current.client_ip)
    home = home_zone(current, user)
    wanted = _MEANT_FOR[action]

    def change(day: Workday | None, settings: Settings, target, now: datetime) -> Transition:
        state = status(day, now)
        if day is None or (state == "CLOSED" and day.local_date(now) != day.local_date(day.start)):
            state = "NONE"
        if state not in wanted:
            raise Refused("day.out_of_date", 409)
        if action == "pause":
            return timeman.pausing()(day, settings, target, now)
        if action == "close":
            assert day is not None
            at = _earlier(fields.get("time", ""), day.on_start_date)
            return timeman.closing(at=at, report=report, place=place)(day, settings, target, now)
        # start, resume: timeman.open, which starts, resumes or reopens.
        at = _earlier(
            fields.get("time", ""),
            lambda clock: datetime.combine(now.astimezone(home).date(), clock, home),
        )
        return timeman.opening(current.portal, at=at, report=report, place=place)(
            day, settings, target, now
        )

    try:
        async with _turn(current, user.id), current.runtime.store.transaction(write=True) as conn:
            if person is not None:
                # Again after any wait in the queue: the viewer may have lost them.
                await _manageable(conn, current, person.id)
            await timeman.change_day(
                conn, current.portal.id, user, change, clock=current.runtime.clock,
                actor_id=actor.id, report=report, ip=current.client_ip,
            )  # fmt: skip
    except Refusal as refusal:
        reason = f"refusal.{refusal.reason.value}"
        return await _day_page(current, reason, 409, fields, person=person)
    except Refused as refused:
        return await _day_page(current, refused.key, refused.status, fields, person=person)
    return _see_other(f"/team/{person.id}" if person else "/day")


# --- a supervisor on someone's day -------------------------------------------------------


async def _managed(current: Visit) -> User | None:
    """The person of the path, if the viewer may act on their day as ``timeman.*``
    with ``USER_ID`` lets them (403 else, 404 for no one); None for the viewer."""
    viewer = current.user
    assert viewer is not None
    user_id = path_id(current.request.path_params["user"])
    async with current.runtime.store.transaction() as conn:
        person = await _manageable(conn, current, user_id)
    return None if person.id == viewer.id else person


async def _manageable(conn, current: Visit, user_id: int) -> User:
    """The active person ``user_id`` whose day the viewer may act on (404, 403)."""
    viewer = current.user
    assert viewer is not None
    person = await user_store.get(conn, current.portal.id, user_id)
    if person is None or not person.active:
        raise Refused("error.not_found", 404)
    if not await can_manage(conn, viewer, person):
        raise Refused("team.not_yours", 403)
    return person


@handler()
async def person_day(current: Visit) -> Response:
    person = await _managed(current)
    if person is None:
        return _see_other("/day")
    return await _day_page(current, person=person)


@handler()
async def person_action(current: Visit) -> Response:
    person = await _managed(current)
    assert current.user is not None
    return await _act(current, person or current.user, person)


def _turn(current: Visit, user_id: int) -> AbstractAsyncContextManager[None]:
    """Wait in the user's write queue before taking a connection, as the REST calls
    changing the same rows do (PostgreSQL; store/queues.py)."""
    queues = current.runtime.store.queues
    if queues is None:
        return nullcontext()
    return queues.turn(current.request.headers.get("host", ""), [user_id])


@handler()
async def my_status(current: Visit) -> Response:
    fields = await current.form()
    user = current.user
    assert user is not None
    try:
        async with _turn(current, user.id), current.runtime.store.transaction(write=True) as conn:
            await set_status(
                conn, current.portal.id, user.id, fields.get("status", ""),
                now=current.runtime.clock.now(), ip=current.client_ip,
            )  # fmt: skip
    except presence.UnknownStatus:
        return await _day_page(current, "status.unknown", 400)
    return _see_other("/day")
