"""Administration, work schedules, read only: the list and one schedule, as
:func:`..schedule_admin.list_schedules` gives them (what ``b24local schedule list``
and ``timeman.schedule.get`` read). Schedules are made and changed with
``b24local schedule`` or ``timeman.schedule.*``."""

from __future__ import annotations

from starlette.responses import Response

from b24local import schedule_admin
from b24local.scopes.timeman.access import administers
from b24local.scopes.timeman.schedule import Schedule
from b24local.store import departments, users

from .administer import path_id, require
from .pages import handler
from .render import page
from .visit import Refused, Visit


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds % 86400, 3600)
    return f"{hours:02}:{rest // 60:02}"


def _exclusions(schedule: Schedule) -> list[tuple[str, bool]]:
    """The calendar's exceptions as ``(YYYY-MM-DD, a working day)``, in date order."""
    days = []
    for year, months in schedule.exclusions.items():
        for month, found in months.items():
            for day, kind in found.items():
                days.append((f"{int(year):04}-{int(month):02}-{int(day):02}", str(kind) == "1"))
    return sorted(days)


async def _all(current: Visit) -> list[Schedule]:
    return await schedule_admin.list_schedules(
        current.runtime.store, current.portal.domain, deleted=True
    )


@handler()
async def schedules_page(current: Visit) -> Response:
    assert current.user is not None
    require(administers(current.user))
    found = await _all(current)
    return page(
        current.request, "admin_schedules.html", visit=current, csrf_token=current.csrf_token(),
        schedules=found, clock=_clock, error=None,
    )  # fmt: skip


@handler()
async def schedule_page(current: Visit) -> Response:
    assert current.user is not None
    require(administers(current.user))
    schedule_id = path_id(current.request.path_params["schedule"])
    schedule = next((s for s in await _all(current) if s.id == schedule_id), None)
    if schedule is None:
        raise Refused("error.not_found", 404)
    async with current.runtime.store.transaction() as conn:
        people = {user.id: user for user in await users.all_users(conn, current.portal.id)}
        tree = await departments.tree(conn, current.portal.id)
    return page(
        current.request, "admin_schedule.html", visit=current, csrf_token=current.csrf_token(),
        schedule=schedule, clock=_clock, people=people, tree=tree,
        exclusions=_exclusions(schedule), error=None,
    )  # fmt: skip
