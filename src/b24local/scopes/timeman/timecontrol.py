"""``timeman.timecontrol.*``: settings, the absences report and its explanations.

Thin adapters over :mod:`.absences` (the rules), :mod:`.access` (who sees what)
and :mod:`b24local.store.timecontrol`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from b24local.entities import User
from b24local.rest.call import Call
from b24local.rest.envelope import atom
from b24local.rest.errors import ErrorSpec
from b24local.rest.registry import MethodGroup
from b24local.store import departments, network_ranges
from b24local.store import presence as presence_store
from b24local.store import timecontrol as store
from b24local.store import users as user_store
from b24local.store.types import storable

from . import absences, access
from .methods import home_zone
from .workday import whole_second

methods = MethodGroup("timeman")

ACCESS_ERROR = ErrorSpec(
    "ACCESS_ERROR",
    400,
    "You don't have access to use this method",
    "timeman.timecontrol.settings.*: the caller is not an administrator",
)
METHOD_ACCESS_ERROR = ErrorSpec(
    "ACCESS_ERROR",
    400,
    "You don't have access to this method",
    "reports.get: the caller heads no one and is on neither list of the settings",
)
USER_ACCESS_ERROR = ErrorSpec(
    "USER_ACCESS_ERROR",
    400,
    "You don't have access to report for this user",
    "reports.get: USER_ID is not someone whose report the caller may read, or no user",
)
REPORT_ACCESS_ERROR = ErrorSpec(
    "ACCESS_ERROR",
    400,
    "You don't have access for this report",
    "report.add: no such absence of the user, or USER_ID given by a non-administrator",
)
TEXT_EMPTY = ErrorSpec("TEXT_EMPTY", 400, "Text can't be empty", "report.add: TEXT is blank")
INVALID_VALUE = ErrorSpec(
    "INVALID_VALUE",
    400,
    "Wrong value of a time control setting",
    "settings.set: a parameter of the wrong type or out of range (b24local's own check)",
)
WRONG_PERIOD = ErrorSpec(
    "WRONG_PERIOD",
    400,
    "MONTH and YEAR must name a month",
    "reports.get: MONTH not 1-12 or YEAR not 1970-9998 (b24local's own check)",
)
methods.errors = (
    ACCESS_ERROR,
    METHOD_ACCESS_ERROR,
    USER_ACCESS_ERROR,
    REPORT_ACCESS_ERROR,
    TEXT_EMPTY,
    INVALID_VALUE,
    WRONG_PERIOD,
)

_PAGES = "timeman/timecontrol/"
#: reports.get without WORKDAY_HOURS; and its bound (a day has 24).
WORKDAY_HOURS = 8
MAX_REPORT_TEXT = 5000


@methods.method(
    "timeman.timecontrol.settings.get",
    summary="Time control settings (administrators)",
    reference=_PAGES + "timeman-timecontrol-settings-get.md",
)
async def settings_get(call: Call) -> dict[str, Any]:
    if not access.administers(call.user):
        raise ACCESS_ERROR()
    return (await store.get_settings(call.conn, call.portal.id)).as_result()


@methods.method(
    "timeman.timecontrol.settings.set",
    summary="Change time control settings (administrators)",
    reference=_PAGES + "timeman-timecontrol-settings-set.md",
    writes=True,
)
async def settings_set(call: Call) -> bool:
    if not access.administers(call.user):
        raise ACCESS_ERROR()
    try:
        await store.change_settings(
            call.conn, call.portal.id, call.params.upper(), now=whole_second(call.now)
        )
    except absences.InvalidSetting as invalid:
        raise INVALID_VALUE(f"{invalid.name}: {invalid.detail}") from None
    return True


def _person(user: User, last_activity: Any, zone: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.full_name,
        "first_name": user.name,
        "last_name": user.last_name,
        "work_position": user.work_position,
        "avatar": "",
        # The real module knows two answers: "M", and "F" for anything else.
        "personal_gender": "M" if user.gender == "M" else "F",
        "last_activity_date": atom(last_activity, zone) if last_activity else None,
    }


async def _people(call: Call, found: list[User]) -> list[dict[str, Any]]:
    states = await presence_store.get_many(call.conn, call.portal.id, [u.id for u in found])
    zone = call.portal.zone
    return [_person(u, states[u.id].last_activity, zone) for u in found]


@methods.method(
    "timeman.timecontrol.reports.settings.get",
    summary="What the caller may see in the time control reports",
    reference=_PAGES + "timeman-timecontrol-reports-settings-get.md",
)
async def reports_settings_get(call: Call) -> dict[str, Any]:
    settings = await store.get_settings(call.conn, call.portal.id)
    structure = await departments.tree(call.conn, call.portal.id)
    headed = {d.id for d in structure.values() if d.head_user_id == call.user.id}
    # A head's departments are those they head and every one below them.
    shown = [
        d
        for d in structure.values()
        if call.user.is_admin
        or not headed.isdisjoint(above.id for above in departments.ancestry(structure, d.id))
    ]
    return {
        "active": settings.active,
        "user_id": call.user.id,
        "user_admin": call.user.is_admin,
        "user_head": bool(shown) or call.user.is_admin,
        "departments": [{"id": str(d.id), "name": d.name} for d in sorted(shown, key=_by_id)],
        "minimum_idle_for_report": settings.minimum_idle_for_report,
        "report_view_type": await access.report_view(call.conn, call.user, settings),
    }


def _by_id(department: Any) -> int:
    return department.id


@methods.method(
    "timeman.timecontrol.reports.users.get",
    summary="The people of a department, for the report's user picker",
    reference=_PAGES + "timeman-timecontrol-reports-users-get.md",
)
async def reports_users_get(call: Call) -> list[dict[str, Any]]:
    department_id = call.params.upper().int("DEPARTMENT_ID")
    chosen = [call.user]
    if department_id > 0:
        structure = await departments.tree(call.conn, call.portal.id)
        heads = {d.head_user_id for d in departments.ancestry(structure, department_id)}
        if department_id in structure and (call.user.is_admin or call.user.id in heads):
            members = await user_store.all_users(call.conn, call.portal.id)
            chosen = [u for u in members if department_id in u.departments]
    return await _people(call, chosen)


def _period(call: Call) -> tuple[int, int]:
    params = call.params.upper()
    month, year = params.int("MONTH"), params.int("YEAR")
    # Years whose months, on any clock, convert to UTC and back without leaving the
    # calendar; no workday lies outside them.
    if not (1 <= month <= 12 and absences.FIRST_YEAR <= year <= absences.LAST_YEAR):
        raise WRONG_PERIOD()
    return year, month


@methods.method(
    "timeman.timecontrol.reports.get",
    summary="A user's absences in a month, day by day",
    reference=_PAGES + "timeman-timecontrol-reports-get.md",
)
async def reports_get(call: Call) -> dict[str, Any]:
    params = call.params.upper()
    settings = await store.get_settings(call.conn, call.portal.id)
    view = await access.report_view(call.conn, call.user, settings)
    # Without a view of the reports nobody reads one, their own included.
    if view == "none":
        raise METHOD_ACCESS_ERROR()
    user_id = params.int("USER_ID", call.user.id)
    target = await user_store.get(call.conn, call.portal.id, user_id) if storable(user_id) else None
    if target is None or not await access.reads_report_of(call.conn, call.user, target):
        raise USER_ACCESS_ERROR()
    year, month = _period(call)
    # Only managers and administrators may count absences by other than the settings.
    idle = settings.minimum_idle_for_report
    if view == "head" and params.has("IDLE_MINUTES"):
        idle = min(max(params.int("IDLE_MINUTES"), 0), absences.MAX_IDLE_MINUTES)
    hours = absences.workday_hours(params.int("WORKDAY_HOURS", WORKDAY_HOURS))
    zone = ZoneInfo(home_zone(call.portal, target))
    first, last = absences.month_bounds(year, month, zone)
    days, records = await store.month(call.conn, call.portal.id, target.id, first, last)
    now = call.now
    ranges = await network_ranges.get_all(call.conn, call.portal.id) if view == "head" else None
    report = {
        "month_title": absences.MONTHS[month],
        "date_start": atom(first, zone),
        "date_finish": atom(last, zone),
        "days": [
            absences.day_result(
                entry, now, view=view, idle_minutes=idle, workday_hours=hours, ranges=ranges
            )
            for entry in absences.group_by_day(days, records)
        ],
    }
    state = await presence_store.get(call.conn, call.portal.id, target.id)
    user = {"id": target.id, "active": target.active}
    user.update(_person(target, state.last_activity, call.portal.zone))
    return {"report": report, "user": user}


@methods.method(
    "timeman.timecontrol.report.add",
    summary="Explain an absence (work or private), optionally in the calendar",
    reference=_PAGES + "timeman-timecontrol-report-add.md",
    writes=True,
)
async def report_add(call: Call) -> bool:
    params = call.params.upper()
    record_id = params.int("REPORT_ID") if params.has("REPORT_ID") else params.int("ID")
    user_id = params.int("USER_ID") if params.has("USER_ID") else call.user.id
    text = params.str("TEXT").strip()
    if not text:
        raise TEXT_EMPTY()
    if not access.may_report_for(call.user, user_id):
        raise REPORT_ACCESS_ERROR()
    record = await store.get(call.conn, call.portal.id, record_id) if storable(record_id) else None
    if record is None or record.user_id != user_id or not record.absence:
        raise REPORT_ACCESS_ERROR()
    kind = "WORK" if params.str("TYPE").strip().upper() == "WORK" else "PRIVATE"
    await store.put_report(
        call.conn,
        call.portal.id,
        record.id,
        report_type=kind,
        text=text[:MAX_REPORT_TEXT],
        calendar=params.flag("CALENDAR", True),
    )
    return True
