"""Administration, work schedules: the list, one schedule, adding, changing and
deleting one.

A form becomes a schedule *definition* (the field names of ``timeman.schedule.get``)
and goes to :mod:`..schedule_admin`, what ``b24local schedule add/update/remove``
and seed files call: every rule (a shift that ends when it starts, days that are
not 1-7, a person or department that does not exist…) is checked there, by
:func:`..scopes.timeman.schedule.read_definition`, and its refusal is shown on the
form. The page itself only reads its fields: IDs that are whole numbers, times
written ``HH:MM``, ticks that are ticks.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import RedirectResponse, Response

from b24local import schedule_admin
from b24local.admin import AdminError
from b24local.scopes.timeman.access import administers
from b24local.scopes.timeman.schedule import PERIODS, TYPES, Schedule
from b24local.store import departments, users

from .administer import form_ids, ordered, path_id, require
from .pages import handler
from .render import page
from .visit import Refused, Visit

Error = tuple[str, dict[str, str]]

#: Rows of shifts a form may send: a schedule holds at most 50, and the page shows
#: one empty row more to add one. Rows past this are not read.
MAX_SHIFT_ROWS = 51
#: A schedule's form: a dozen fields per shift row, one per person or department
#: chosen; the body's 64 KiB bound (``visit.MAX_BODY``) still holds whatever it is.
SCHEDULE_FORM_FIELDS = 1000
#: The violation rules the form shows, each a time of day or a length (``HH:MM``);
#: left empty, a rule is not set (``-1``). The rest (``USERS_TO_NOTIFY``, the agent's
#: ID, ``MISSED_SHIFT_START``) are kept as they are.
CLOCK_RULES = ("MAX_EXACT_START", "MIN_EXACT_END")
LENGTH_RULES = (
    "MIN_DAY_DURATION",
    "MAX_ALLOWED_TO_EDIT_WORK_TIME",
    "MAX_OFFSET_START",
    "MIN_OFFSET_END",
    "RELATIVE_START_FROM",
    "RELATIVE_START_TO",
    "RELATIVE_END_FROM",
    "RELATIVE_END_TO",
    "MAX_SHIFT_START_DELAY",
    "MAX_WORK_TIME_LACK_FOR_PERIOD",
)
SHOWN_RULES = CLOCK_RULES + LENGTH_RULES
ASSIGNED = ("users", "departments", "excluded_users", "excluded_departments")


class _Wrong(Exception):
    """A field written in a way the page does not read; its catalogue key."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.error: Error = (key, values)


@dataclass
class Shown:
    """What the form shows: a schedule's values, or what a refused form sent."""

    name: str = ""
    kind: str = "FIXED"
    period: str = "MONTH"
    week_start: str = "0"
    browser: bool = True
    for_all: bool = False
    shifts: list[dict[str, Any]] = field(default_factory=list)
    days_off: str = ""
    working_days: str = ""
    assigned: dict[str, tuple[int, ...]] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds % 86400, 3600)
    return f"{hours:02}:{rest // 60:02}"


def _hhmm(seconds: int) -> str:
    """A time or length as the form writes it: ``HH:MM``, seconds only if any."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02}:{minutes:02}" + (f":{seconds:02}" if seconds else "")


def _exclusions(schedule: Schedule) -> list[tuple[str, bool]]:
    """The calendar's exceptions as ``(YYYY-MM-DD, a working day)``, in date order."""
    days = []
    for year, months in schedule.exclusions.items():
        for month, found in months.items():
            for day, kind in found.items():
                days.append((f"{int(year):04}-{int(month):02}-{int(day):02}", str(kind) == "1"))
    return sorted(days)


def shown_of(schedule: Schedule) -> Shown:
    exclusions = _exclusions(schedule)
    a = schedule.assignments
    return Shown(
        name=schedule.name,
        kind=schedule.schedule_type,
        period=schedule.report_period,
        week_start=str(schedule.start_week_day),
        browser=schedule.browser,
        for_all=schedule.for_all_users,
        shifts=[
            {
                "name": s.name,
                "start": _hhmm(s.start),
                "end": _hhmm(s.end),
                "break": _hhmm(s.break_duration),
                "days": set(s.work_days),
            }
            for s in schedule.shifts
        ],
        days_off="\n".join(day for day, working in exclusions if not working),
        working_days="\n".join(day for day, working in exclusions if working),
        assigned={
            "users": a.users,
            "departments": a.departments,
            "excluded_users": a.excluded_users,
            "excluded_departments": a.excluded_departments,
        },
        rules={k: _hhmm(schedule.rule(k)) for k in SHOWN_RULES if schedule.rule(k) >= 0},
    )


#: A new schedule's form: a fixed one, 09:00-18:00 on weekdays with an hour's break.
def _fresh() -> Shown:
    return Shown(shifts=[{"name": "", "start": "09:00", "end": "18:00", "break": "01:00",
                          "days": set("12345")}])  # fmt: skip


# --- reading the form ---------------------------------------------------------------------


def _check(value: str) -> bool:
    """A checkbox: sent as "on" when ticked, not sent otherwise."""
    if value not in ("", "on"):
        raise Refused("error.bad_form", 400)
    return value == "on"


def _time(text: str, wrong: _Wrong) -> str:
    """A time or length as written, ``HH:MM[:SS]``, passed on for the schedule's rules
    to judge; else ``wrong``. A bare ``0900`` or ``30`` would be read as seconds:
    not guessed at."""
    text = text.strip()
    if ":" not in text:
        raise wrong
    return text


def _dates(text: str) -> list[str]:
    return text.replace(",", " ").split()


def _read(current: Visit, form: dict[str, str]) -> Shown:
    """What the form sent, to make a definition of (and to show again if refused)."""
    sent = Shown(
        name=form.get("name", ""),
        kind=form.get("type", ""),
        period=form.get("period", ""),
        week_start=form.get("week_start", ""),
        browser=_check(form.get("browser", "")),
        for_all=_check(form.get("for_all", "")),
        days_off=form.get("days_off", ""),
        working_days=form.get("working_days", ""),
        assigned={key: form_ids(current.values(key)) for key in ASSIGNED},
        rules={key: form.get(f"rule-{key}", "").strip() for key in SHOWN_RULES},
    )
    for row in range(MAX_SHIFT_ROWS):
        shift = {name: form.get(f"shift-{row}-{name}", "").strip()
                 for name in ("name", "start", "end", "break")}  # fmt: skip
        shift["days"] = set(current.values(f"shift-{row}-days"))
        if _check(form.get(f"shift-{row}-remove", "")):
            continue
        if shift["start"] or shift["end"] or shift["name"]:
            sent.shifts.append(shift)
    return sent


def _definition(sent: Shown, base: Schedule | None) -> dict[str, Any]:
    shifts = []
    for number, shift in enumerate(sent.shifts, 1):
        wrong = _Wrong("admin.schedules.bad_shift_time", number=str(number))
        shifts.append({
            "NAME": shift["name"],
            "WORK_TIME_START": _time(shift["start"], wrong),
            "WORK_TIME_END": _time(shift["end"], wrong),
            "BREAK_DURATION": _time(shift["break"] or "00:00", wrong),
            "WORK_DAYS": "".join(sorted(shift["days"])),
        })  # fmt: skip
    # The rules the form does not show stay as they were.
    rules: dict[str, Any] = {k: v for k, v in (base.rules if base else {}).items()
                             if k not in SHOWN_RULES}  # fmt: skip
    for key, text in sent.rules.items():
        if text:
            rules[key] = _time(text, _Wrong("admin.schedules.bad_rule", rule=key))
    marks = {day: 0 for day in _dates(sent.days_off)} | {
        day: 1 for day in _dates(sent.working_days)
    }
    return {
        "NAME": sent.name,
        "SCHEDULE_TYPE": sent.kind,
        "REPORT_PERIOD": sent.period,
        "REPORT_PERIOD_OPTIONS": {"START_WEEK_DAY": sent.week_start},
        "IS_FOR_ALL_USERS": sent.for_all,
        "ALLOWED_DEVICES": {"browser": sent.browser},
        "SHIFTS": shifts,
        "CALENDAR": {"EXCLUSIONS": marks},
        "SCHEDULE_VIOLATION_RULES": rules,
        "ASSIGNMENTS": {key.upper(): list(ids) for key, ids in sent.assigned.items()},
    }


# --- the pages ------------------------------------------------------------------------------


def _admin(current: Visit) -> int:
    assert current.user is not None
    require(administers(current.user))
    return current.user.id


async def _all(current: Visit) -> list[Schedule]:
    return await schedule_admin.list_schedules(
        current.runtime.store, current.portal.domain, deleted=True
    )


async def _schedule(current: Visit) -> Schedule:
    schedule_id = path_id(current.request.path_params["schedule"])
    found = next((s for s in await _all(current) if s.id == schedule_id), None)
    if found is None:
        raise Refused("error.not_found", 404)
    return found


async def _form_page(
    current: Visit,
    schedule: Schedule | None,
    shown: Shown,
    *,
    error: Error | None = None,
    status: int = 200,
) -> Response:
    async with current.runtime.store.transaction() as conn:
        everyone = await users.all_users(conn, current.portal.id)
        tree = await departments.tree(conn, current.portal.id)
    return page(
        current.request, "admin_schedule.html", status=status, visit=current,
        csrf_token=current.csrf_token(), schedule=schedule, shown=shown,
        people={user.id: user for user in everyone}, everyone=everyone, tree=tree,
        structure=ordered(tree), types=TYPES, periods=PERIODS, clock_rules=CLOCK_RULES,
        length_rules=LENGTH_RULES, rows=[*shown.shifts, None], clock=_clock,
        exclusions=_exclusions(schedule) if schedule else [], error=error,
        done=current.request.query_params.get("done", ""),
    )  # fmt: skip


@handler()
async def schedules_page(current: Visit) -> Response:
    _admin(current)
    found = await _all(current)
    return page(
        current.request, "admin_schedules.html", visit=current, csrf_token=current.csrf_token(),
        schedules=found, clock=_clock, error=None,
        done=current.request.query_params.get("done", ""),
    )  # fmt: skip


@handler()
async def new_schedule_page(current: Visit) -> Response:
    actor = _admin(current)
    if current.request.method in ("GET", "HEAD"):
        return await _form_page(current, None, _fresh())
    form = await current.form(SCHEDULE_FORM_FIELDS)
    sent = _read(current, form)
    try:
        definition = _definition(sent, None)
        added = await schedule_admin.add_schedule(
            current.runtime.store, definition, current.runtime.clock.now(),
            current.portal.domain, actor_id=actor,
        )  # fmt: skip
    except _Wrong as wrong:
        return await _form_page(current, None, sent, error=wrong.error, status=400)
    except AdminError as error:
        refused = ("admin.schedules.refused", {"text": str(error)})
        return await _form_page(current, None, sent, error=refused, status=400)
    return RedirectResponse(f"/admin/schedules/{added.id}?done=added", status_code=303)


@handler()
async def schedule_page(current: Visit) -> Response:
    actor = _admin(current)
    schedule = await _schedule(current)
    if current.request.method in ("GET", "HEAD"):
        return await _form_page(current, schedule, shown_of(schedule))
    form = await current.form(SCHEDULE_FORM_FIELDS)
    if schedule.deleted:
        raise Refused("admin.schedules.gone", 409)
    sent = _read(current, form)
    try:
        definition = _definition(sent, schedule)
        await schedule_admin.update_schedule(
            current.runtime.store, schedule.id, definition, current.runtime.clock.now(),
            current.portal.domain, actor_id=actor,
        )  # fmt: skip
    except _Wrong as wrong:
        return await _form_page(current, schedule, sent, error=wrong.error, status=400)
    except AdminError as error:
        refused = ("admin.schedules.refused", {"text": str(error)})
        return await _form_page(current, schedule, sent, error=refused, status=400)
    return RedirectResponse(f"/admin/schedules/{schedule.id}?done=changed", status_code=303)


@handler()
async def delete_schedule(current: Visit) -> Response:
    actor = _admin(current)
    schedule = await _schedule(current)
    await current.form()  # the CSRF checks
    # Deleted already (or meanwhile): what was asked for is done.
    with suppress(AdminError):
        await schedule_admin.remove_schedule(
            current.runtime.store, schedule.id, current.runtime.clock.now(),
            current.portal.domain, actor_id=actor,
        )  # fmt: skip
    return RedirectResponse("/admin/schedules?done=deleted", status_code=303)
