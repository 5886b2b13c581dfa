"""The team board: the people whose days the viewer manages, each with their
workday and presence, read in a constant number of queries however many there are.

Whose rows are shown is :func:`..scopes.timeman.access.manages_in`, the rule
``timeman.status`` with ``USER_ID`` applies: everyone for an administrator, the
people of the departments a head heads (and the departments below), and a plain
user only themselves — the REST methods show nobody else's day to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import User
from b24local.scopes.im.presence import Presence
from b24local.scopes.timeman.access import manages_in
from b24local.scopes.timeman.workday import Workday, duration, leaks, status
from b24local.store import departments, workdays
from b24local.store import presence as presence_store
from b24local.store import users as user_store
from b24local.store.departments import Department
from b24local.store.users import Member

#: The order of the summary, and of the rows: who is at work first.
STATES = ("OPENED", "PAUSED", "EXPIRED", "CLOSED", "NONE")
#: Older than any "today" on Earth (zones run from UTC-12 to UTC+14).
OLD = timedelta(hours=50)


@dataclass(frozen=True, slots=True)
class Row:
    user: Member
    state: str  # one of STATES
    #: When the day started, and the zone it is shown in (the day's own).
    started: datetime | None
    zone: tzinfo | None
    #: Worked so far (to now while the day runs); None for no day or an unfinished old one.
    worked: timedelta | None
    awaiting_approval: bool
    presence: Presence

    @property
    def running(self) -> bool:
        return self.state == "OPENED"


def row(user: Member, day: Workday | None, presence: Presence, now: datetime) -> Row:
    """One person's line, from the same rules "My day" and ``timeman.status`` read."""
    state = status(day, now)
    if day is None or (state == "CLOSED" and day.local_date(now) != day.local_date(day.start)):
        return Row(user, "NONE", None, None, None, False, presence)
    if state == "CLOSED":
        worked: timedelta | None = duration(day)
    elif state == "EXPIRED":
        worked = None  # its end is unknown until someone says when it was
    else:
        worked = now - day.start - leaks(day, now)
    return Row(user, state, day.start, day.display_zone, worked, not day.active, presence)


@dataclass(frozen=True, slots=True)
class Board:
    rows: list[Row]
    #: The departments worth filtering by (holding some of the people in reach), by name.
    departments: list[Department]
    chosen: Department | None
    counts: dict[str, int]


def _sort_key(found: Row) -> tuple[int, str, str, int]:
    user = found.user
    return (STATES.index(found.state), user.last_name.lower(), user.name.lower(), user.id)


async def load(
    conn: AsyncConnection, portal_id: int, viewer: User, now: datetime, department: int | None
) -> Board:
    """The board as ``viewer`` may see it, cut to ``department`` (and the departments
    below it) when given: four queries, whatever the number of people."""
    tree = await departments.tree(conn, portal_id)
    people = await user_store.roster(conn, portal_id)
    reach = [person for person in people if manages_in(tree, viewer, person)]
    # Each person counts in their departments and every department above them.
    above = {d: {found.id for found in departments.ancestry(tree, d)} for d in tree}
    under = {person.id: set().union(*(above.get(d, ()) for d in person.departments))
             for person in reach}  # fmt: skip
    sizes = Counter(d for ids in under.values() for d in ids)
    chosen = tree.get(department) if department in sizes else None
    # Worth offering: a department that holds some of the people but not all.
    offered = [d for d, size in sizes.items() if size < len(reach)]
    if chosen is not None:
        reach = [person for person in reach if chosen.id in under[person.id]]
    # A day finished before yesterday is no one's day today, in any zone: not read.
    days = await workdays.latest_of_all(conn, portal_id, unless_closed_before=now - OLD)
    states = await presence_store.all_of(conn, portal_id)
    rows = [
        row(person, days.get(person.id), states.get(person.id, Presence()), now)
        for person in reach
    ]  # fmt: skip
    rows.sort(key=_sort_key)
    counts = Counter(found.state for found in rows)
    return Board(
        rows,
        sorted((tree[d] for d in offered), key=lambda d: (d.name.lower(), d.id)),
        chosen,
        {state: counts.get(state, 0) for state in STATES},
    )
