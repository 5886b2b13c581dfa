"""Administration, work-time settings: the portal's (the defaults of everyone) and a
person's, read as ``timeman.settings`` answers them and saved through
:func:`..admin.timeman_settings`, what ``b24local timeman settings`` calls.

Only what the form changes is stored: a person's page shows the settings in force
(the portal's where the person has none of their own), and saving it unchanged
must not pin today's portal values on them.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

from starlette.responses import RedirectResponse, Response

from b24local import admin
from b24local.scopes.timeman.access import administers
from b24local.scopes.timeman.workday import Settings
from b24local.store import users, workdays
from b24local.store.users import User

from .administer import form_id, require
from .pages import handler
from .render import page
from .visit import Refused, Visit

Error = tuple[str, dict[str, str]]

#: The time fields, as :func:`..admin.timeman_settings` names them.
TIMES = ("max_start", "min_finish", "min_duration", "allowed_delta")
#: What a time input sends (seconds allowed), as the CLI takes it: ``HH:MM[:SS]``.
_CLOCK = re.compile(r"(\d\d):(\d\d)(?::(\d\d))?", re.ASCII)


class _Wrong(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _seconds(value: time | timedelta) -> int:
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value.hour * 3600 + value.minute * 60 + value.second


def _clock_text(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02}:{minutes:02}" + (f":{seconds:02}" if seconds else "")


def _shown(settings: Settings) -> dict[str, object]:
    return {
        "tracking": settings.enabled,
        "free": settings.free,
        **{name: _clock_text(_seconds(getattr(settings, name))) for name in TIMES},
    }


def _clock(text: str, field: str) -> int:
    """An ``HH:MM[:SS]`` field as seconds from midnight; a day has at most 23:59:59."""
    found = _CLOCK.fullmatch(text)
    if found is None:
        raise _Wrong(field)
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise _Wrong(field)
    return hours * 3600 + minutes * 60 + seconds


def _check(value: str) -> bool:
    """A checkbox: sent as "on" when ticked, not sent otherwise."""
    if value not in ("", "on"):
        raise Refused("error.bad_form", 400)
    return value == "on"


async def _whose(current: Visit, user_id: int | None) -> tuple[User | None, Settings]:
    async with current.runtime.store.transaction() as conn:
        if user_id is None:
            return None, await workdays.settings_for(
                conn, current.portal.id, workdays.PORTAL_DEFAULTS
            )
        person = await users.get(conn, current.portal.id, user_id)
        if person is None:
            raise Refused("admin.worktime.no_user", 404)
        found = await workdays.settings_for(conn, current.portal.id, person.id, person.departments)
        return person, found


async def _worktime_page(
    current: Visit,
    person: User | None,
    settings: Settings,
    *,
    error: Error | None = None,
    status: int = 200,
    sent: dict[str, object] | None = None,
) -> Response:
    async with current.runtime.store.transaction() as conn:
        everyone = await users.all_users(conn, current.portal.id)
    return page(
        current.request, "admin_worktime.html", status=status, visit=current,
        csrf_token=current.csrf_token(), person=person, people=everyone,
        values=sent if sent is not None else _shown(settings), schedule=settings.schedule,
        error=error, done=current.request.query_params.get("done", ""),
    )  # fmt: skip


@handler()
async def worktime_page(current: Visit) -> Response:
    assert current.user is not None
    require(administers(current.user))
    if current.request.method in ("GET", "HEAD"):
        person, settings = await _whose(
            current, form_id(current.request.query_params.get("user", ""))
        )
        return await _worktime_page(current, person, settings)
    form = await current.form()
    person, settings = await _whose(current, form_id(form.get("user", "")))
    sent: dict[str, object] = {
        "tracking": _check(form.get("tracking", "")),
        "free": _check(form.get("free", "")),
        **{name: form.get(name, "") for name in TIMES},
    }
    try:
        wanted = {name: _clock(str(sent[name]), name) for name in TIMES}
    except _Wrong as wrong:
        error = (f"admin.worktime.bad_{wrong.field}", {})
        return await _worktime_page(current, person, settings, error=error, status=400, sent=sent)
    # Only what differs from the settings in force becomes an override.
    before = {"enabled": settings.enabled, "free": settings.free,
              **{name: _seconds(getattr(settings, name)) for name in TIMES}}  # fmt: skip
    after = {"enabled": sent["tracking"], "free": sent["free"], **wanted}
    changes = {key: value for key, value in after.items() if value != before[key]}
    try:
        await admin.timeman_settings(
            current.runtime.store, user_id=person.id if person else None,
            domain=current.portal.domain, **changes,
        )  # fmt: skip
    except admin.AdminError:
        # The person was deleted between the page and the form.
        raise Refused("admin.worktime.no_user", 404) from None
    where = (
        f"/admin/worktime?user={person.id}&done=saved" if person else "/admin/worktime?done=saved"
    )
    return RedirectResponse(where, status_code=303)
