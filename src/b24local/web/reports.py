"""The reports' data: whose days, over which period, added up per person, per
department and per date.

Who is in a report is the API's rule (:func:`..scopes.timeman.access.manages_in`:
oneself, a head's people, everyone for an administrator); each day's figures are
:mod:`..scopes.timeman.tally`'s. A report reads the people, their settings, their
days and their absences in a handful of queries, then adds up in one pass.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import Portal, User
from b24local.scopes.timeman import absences, access
from b24local.scopes.timeman.methods import home_zone
from b24local.scopes.timeman.tally import DayTally, Totals, tally_closed, tally_day
from b24local.scopes.timeman.workday import offset_zone
from b24local.store import departments as department_store
from b24local.store import timecontrol, workdays
from b24local.store import users as user_store
from b24local.store.departments import Department

from .visit import Refused

KINDS = ("week", "month", "range")
#: The longest period one report covers (a quarter): bounded work per request.
MAX_DAYS = 92
#: Workdays keep their own clock; zones lie within 14 hours of UTC either way.
_ZONE_REACH = timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class Period:
    kind: str
    first: date
    last: date

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def shifted(self, forward: bool) -> Period:
        """The period before or after this one, of the same kind."""
        if self.kind == "week":
            step = timedelta(days=7 if forward else -7)
            return replace(self, first=self.first + step, last=self.last + step)
        if self.kind == "month":
            anchor = self.last + timedelta(days=1) if forward else self.first - timedelta(days=1)
            return month_of(anchor)
        length = (self.last - self.first).days + 1
        step = timedelta(days=length if forward else -length)
        return replace(self, first=self.first + step, last=self.last + step)

    def query(self) -> dict[str, str]:
        """The link parameters that name this period."""
        if self.kind == "range":
            return {"period": "range", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind, "date": self.first.isoformat()}

    @property
    def slug(self) -> str:
        """A file name's part: ``2026-12``, ``2026-W49``, ``2026-12-01_2026-12-20``."""
        if self.kind == "month":
            return self.first.strftime("%Y-%m")
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


def month_of(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6))


#: The one date form the reports' links use; ``date.fromisoformat`` also takes
#: ISO week dates (``2026-W10-1``) and non-ASCII digits, which no link of ours has.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(text: str) -> date:
    try:
        found = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        found = None
    if found is None or not absences.FIRST_YEAR <= found.year <= absences.LAST_YEAR:
        raise Refused("reports.bad_date", 400)
    return found


def period_from(params: Mapping[str, str], today: date) -> Period:
    """The period a query names; :class:`Refused` (400) for anything else."""
    kind = params.get("period") or "month"
    if kind not in KINDS:
        raise Refused("reports.bad_period", 400)
    if kind == "range":
        first, last = _date(params.get("from", "")), _date(params.get("to", ""))
        if last < first or (last - first).days >= MAX_DAYS:
            raise Refused("reports.bad_range", 400, days=str(MAX_DAYS))
        return Period("range", first, last)
    anchor = _date(params["date"]) if params.get("date") else today
    return week_of(anchor) if kind == "week" else month_of(anchor)


def _id(text: str | None) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) >= 2**31:
        raise Refused("reports.bad_id", 400)
    return int(text)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whom a report is about: one person, one department (and those below it), or
    everyone the viewer sees."""

    user_id: int | None = None
    department_id: int | None = None

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Scope:
        return cls(_id(params.get("user")), _id(params.get("department")))

    def query(self) -> dict[str, str]:
        if self.user_id is not None:
            return {"user": str(self.user_id)}
        if self.department_id is not None:
            return {"department": str(self.department_id)}
        return {}


@dataclass(slots=True)
class Row:
    """A person's or a department's line of the report."""

    key: int
    name: str
    totals: Totals = field(default_factory=Totals)
    #: For a person, their departments' names.
    detail: str = ""
    #: For a department, how many of its own people the report has.
    members: int = 0


@dataclass(slots=True)
class Report:
    period: Period
    scope: Scope
    people: list[Row]
    departments: list[Row]
    by_date: dict[date, Totals]
    days: list[DayTally]
    total: Totals
    #: Whom the viewer may pick: people and departments they see.
    choices: list[Row]
    department_choices: list[Row]
    names: dict[int, str]

    @property
    def title(self) -> str:
        if self.scope.user_id is not None:
            return self.names.get(self.scope.user_id, "")
        if self.scope.department_id is not None:
            found = [d for d in self.department_choices if d.key == self.scope.department_id]
            return found[0].name if found else ""
        return ""


def person_name(user: User) -> str:
    return user.full_name or user.email or f"#{user.id}"


def _below(
    structure: dict[int, Department], department_id: int, member_of: tuple[int, ...]
) -> bool:
    """Whether a person of ``member_of`` is in the department or one below it."""
    return any(
        department_id in (d.id for d in department_store.ancestry(structure, i)) for i in member_of
    )


def _bounds(period: Period) -> tuple[datetime, datetime]:
    """Moments wide enough to hold every day dated within the period, on any clock."""
    first = datetime.combine(period.first, time(0), UTC) - _ZONE_REACH
    last = datetime.combine(period.last + timedelta(days=1), time(0), UTC) + _ZONE_REACH
    return first, last


async def build(
    conn: AsyncConnection,
    portal: Portal,
    viewer: User,
    period: Period,
    scope: Scope,
    now: datetime,
) -> Report:
    everyone = await user_store.all_users(conn, portal.id)
    structure = await department_store.tree(conn, portal.id)
    seen = [person for person in everyone if access.manages_in(structure, viewer, person)]
    seen_ids = {person.id for person in seen}
    shown_departments = sorted(
        access.departments_seen(viewer, structure), key=lambda d: (d.sort, d.name, d.id)
    )
    if scope.user_id is not None:
        if scope.user_id not in seen_ids:
            raise Refused("reports.not_yours", 403)
        people = [p for p in seen if p.id == scope.user_id]
    elif scope.department_id is not None:
        if scope.department_id not in {d.id for d in shown_departments}:
            raise Refused("reports.not_yours", 403)
        people = [p for p in seen if _below(structure, scope.department_id, p.departments)]
    else:
        people = seen

    first, last = _bounds(period)
    ids = [p.id for p in people]
    closed, still_open = await workdays.started_between(conn, portal.id, ids, first, last)
    found = await timecontrol.absences_between(
        conn, portal.id, ids, first, last + timedelta(days=1)
    )
    settings = await workdays.settings_of_many(conn, portal.id, people)
    idle = (await timecontrol.get_settings(conn, portal.id)).minimum_idle_for_report

    by_workday: dict[int, list[absences.Record]] = {}
    for record in found:
        by_workday.setdefault(record.workday_id, []).append(record)
    rows = {
        p.id: Row(p.id, person_name(p), detail=_names(structure, p.departments)) for p in people
    }
    by_date = {d: Totals() for d in period.dates}
    days = [
        tally_closed(
            c.user_id,
            c.start,
            c.finish,
            offset_zone(c.tz_offset),
            c.active,
            timedelta(seconds=c.duration),
            timedelta(seconds=c.break_length),
            settings[c.user_id],
            now,
            by_workday.get(c.id, ()),
            idle,
        )
        for c in closed
    ]
    days += [
        tally_day(s.user_id, s.day, settings[s.user_id], now, by_workday.get(s.id, ()), idle)
        for s in still_open
    ]
    days = [d for d in days if d.date in by_date]
    for figures in days:
        rows[figures.user_id].totals.add(figures)
        by_date[figures.date].add(figures)
    total = Totals()
    for row in rows.values():
        total.merge(row.totals)

    # Who shows: the active, and anyone deactivated who still has days here; a
    # department counts the people it shows, not those dismissed before the period.
    shown_people = [p for p in people if p.active or rows[p.id].totals.days]
    department_rows = _department_rows(structure, shown_departments, shown_people, rows, scope)
    names = {p.id: person_name(p) for p in seen}
    listed = [rows[p.id] for p in shown_people]
    listed.sort(key=lambda row: (row.name.casefold(), row.key))
    days.sort(key=lambda d: (names.get(d.user_id, "").casefold(), d.user_id, d.date, d.start))
    choices = sorted(
        (Row(p.id, person_name(p)) for p in seen if p.active),
        key=lambda row: (row.name.casefold(), row.key),
    )
    return Report(
        period,
        scope,
        listed,
        department_rows,
        by_date,
        days,
        total,
        choices,
        [Row(d.id, d.name or f"#{d.id}") for d in shown_departments],
        names,
    )


def _names(structure: dict[int, Department], department_ids: tuple[int, ...]) -> str:
    return ", ".join(structure[i].name for i in department_ids if i in structure)


def _department_rows(
    structure: dict[int, Department],
    shown: list[Department],
    people: list[User],
    rows: dict[int, Row],
    scope: Scope,
) -> list[Row]:
    """Each department's own people's figures (not those of departments below it),
    for the departments the viewer sees that have anyone in the report."""
    if scope.user_id is not None:
        return []
    found = []
    for department in shown:
        members = [p for p in people if department.id in p.departments]
        if not members:
            continue
        row = Row(department.id, department.name or f"#{department.id}")
        for member in members:
            row.totals.merge(rows[member.id].totals)
        row.members = len(members)
        found.append(row)
    return found


def today_for(portal: Portal, viewer: User, now: datetime) -> date:
    return now.astimezone(ZoneInfo(home_zone(portal, viewer))).date()
