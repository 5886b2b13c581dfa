"""What each scenario sends: lists of calls built from the seeded data."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .seed import Seeded
from .wrk import Call

BATCH_SIZE = 50
PAGE = 50
#: How many distinct users a rotating scenario cycles through.
ROTATION = 1_000
STATUSES = ("online", "dnd", "away")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    calls: list[Call]
    #: A wrk script of its own, from the wrk run's name (unique per run), for calls
    #: that cannot repeat; ``calls[0]`` is still the one checked by hand first.
    lua: Callable[[str], str] | None = None
    #: Whether the methods' own refusals (4xx) are part of the load: then only 5xx
    #: answers and socket errors count as errors.
    refusals_ok: bool = False


def _hook(seeded: Seeded, user_id: int) -> str:
    code = seeded.admin_code if user_id == 1 else seeded.codes[user_id]
    return f"/rest/{user_id}/{code}"


def spread(seeded: Seeded, count: int = ROTATION) -> list[int]:
    """Up to ``count`` bulk-seeded users spread evenly over the whole ID range,
    so a rotation touches old and new rows alike."""
    ids = sorted(seeded.codes)
    if len(ids) <= count:
        return ids
    step = len(ids) / count
    return [ids[int(i * step)] for i in range(count)]


def read(seeded: Seeded) -> Scenario:
    path = f"{_hook(seeded, 1)}/im.user.status.get"
    return Scenario("read", "im.user.status.get (webhook)", [Call("GET", path)])


def read_oauth(seeded: Seeded) -> Scenario:
    path = f"/rest/im.user.status.get?auth={seeded.token}"
    return Scenario("oauth", "im.user.status.get (OAuth token)", [Call("GET", path)])


def read_rotating(seeded: Seeded) -> Scenario:
    calls = [Call("GET", f"{_hook(seeded, u)}/im.user.status.get") for u in spread(seeded)]
    return Scenario("read_many", "im.user.status.get, 1,000 users' webhooks", calls)


def timeman_status(seeded: Seeded) -> Scenario:
    calls = [Call("GET", f"{_hook(seeded, u)}/timeman.status") for u in spread(seeded)]
    return Scenario("timeman_status", "timeman.status, 1,000 users' webhooks", calls)


def status_set(seeded: Seeded) -> Scenario:
    # Every user in turn, then again with the next status: each call changes a row.
    users = spread(seeded)
    calls = [
        Call("GET", f"{_hook(seeded, u)}/im.user.status.set?STATUS={status}")
        for status in STATUSES
        for u in users
    ]
    return Scenario("write", "im.user.status.set", calls)


#: Users in the workday cycle: enough that one user's calls never overlap, few
#: enough that a 10 s run goes round the whole cycle several times (not only opens).
WORKDAY_USERS = 100


def workday_cycle(seeded: Seeded) -> Scenario:
    """open → pause → open → close for many users, each by their own webhook.

    Step k goes to every user before step k+1 starts, so one user's calls are
    ``len(users)`` requests apart and never overtake each other on the 16
    connections. From the second round on, open reopens the day closed earlier.
    """
    users = spread(seeded, WORKDAY_USERS)
    steps = ("timeman.open", "timeman.pause", "timeman.open", "timeman.close")
    calls = [Call("GET", f"{_hook(seeded, u)}/{step}") for step in steps for u in users]
    title = f"timeman open/pause/open/close, {len(users)} users"
    return Scenario("workday", title, calls)


def networkrange_check(seeded: Seeded) -> Scenario:
    """``timeman.networkrange.check`` by the administrator for addresses inside the
    seeded office networks (first, middle and last range), outside them, and IPv6."""
    addresses = [
        *(f"10.{i % 16}.{i % 7}.{i % 250}" for i in range(400)),
        *(f"192.168.{i % 256}.1" for i in range(200)),
        *(f"203.0.113.{i % 256}" for i in range(300)),
        *(f"2001:db8::{i:x}" for i in range(100)),
    ]
    calls = [
        Call("GET", f"{_hook(seeded, 1)}/timeman.networkrange.check?IP={ip}") for ip in addresses
    ]
    return Scenario("networkrange", "timeman.networkrange.check, 19 ranges", calls)


def schedule_get(seeded: Seeded) -> Scenario:
    """``timeman.schedule.get`` by the administrator over the seeded schedules, and
    an ID that names none."""
    calls = [Call("GET", f"{_hook(seeded, 1)}/timeman.schedule.get?id={i}") for i in range(1, 7)]
    return Scenario("schedule_get", "timeman.schedule.get, 5 schedules", calls)


def timecontrol_report(seeded: Seeded) -> Scenario:
    """``timeman.timecontrol.reports.get`` by the administrator for this month of
    the workday-cycle users (their days and workday marks, run just before)."""
    month = datetime.now(UTC)
    query = f"MONTH={month.month}&YEAR={month.year}"
    calls = [
        Call("GET", f"{_hook(seeded, 1)}/timeman.timecontrol.reports.get?USER_ID={u}&{query}")
        for u in spread(seeded, WORKDAY_USERS)
    ]
    return Scenario("timecontrol", "timeman.timecontrol.reports.get, this month", calls)


def record_list(seeded: Seeded) -> Scenario:
    """REST 3.0 ``timeman.record.list`` over one user's 10,000 days: pages of 50
    newest first, pages of a month's range, and pages sorted by duration, each
    filtered, sorted and cut in SQL."""
    path = f"/rest/api/{seeded.records_user}/{seeded.records_code}/timeman.record.list"
    user = ["userId", "=", seeded.records_user]
    bodies = []
    for page in range(1, 201):
        bodies.append(
            {"filter": [user], "order": {"startTime": "DESC"}, "pagination": {"page": page}}
        )
    for month in range(100):
        year, index = 2000 + month // 12, month % 12 + 1
        since = f"{year}-{index:02d}-01"
        bodies.append(
            {
                "filter": [user, ["startTime", ">=", since]],
                "select": ["id", "startTime", "endTime", "duration"],
                "order": {"startTime": "ASC"},
                "pagination": {"limit": 31},
            }
        )
    for page in range(1, 101):
        bodies.append(
            {"filter": [user], "order": {"duration": "DESC"}, "pagination": {"page": page}}
        )
    calls = [Call("POST", path, json.dumps(body)) for body in bodies]
    return Scenario("record_list", "timeman.record.list (REST 3.0), 10,000 records", calls)


def user_get_single(seeded: Seeded) -> Scenario:
    calls = [Call("GET", f"{_hook(seeded, 1)}/im.user.get?ID={u}") for u in spread(seeded)]
    return Scenario("im_user_get", "im.user.get (single)", calls)


def batch(seeded: Seeded) -> Scenario:
    """``batch`` of 50 ``im.user.get``, different users in each batch."""
    users = spread(seeded)
    calls = []
    for start in range(0, len(users) - BATCH_SIZE + 1, BATCH_SIZE):
        cmd = {f"u{u}": f"im.user.get?ID={u}" for u in users[start : start + BATCH_SIZE]}
        body = json.dumps({"halt": 0, "cmd": cmd})
        calls.append(Call("POST", f"{_hook(seeded, 1)}/batch", body))
    return Scenario("batch", f"batch of {BATCH_SIZE} im.user.get", calls)


def paging(seeded: Seeded) -> Scenario:
    calls = [
        Call("GET", f"{_hook(seeded, 1)}/user.get?start={start}")
        for start in range(0, seeded.users, PAGE)
    ]
    return Scenario("paging", f"user.get paging {seeded.users:,} users", calls)


#: The mixed load: this many connections reading beside this many writing.
MIXED_READERS = 300
MIXED_WRITERS = 20


def mixed(seeded: Seeded) -> list[tuple[Scenario, int]]:
    """The read path and status changes at once, each with its own connections:
    whether a write still gets its turn when hundreds of reads compete for the
    event loop."""
    title = "mixed: im.user.status.get, {} connections beside {} writing"
    reads = Scenario("mixed_read", title.format(MIXED_READERS, MIXED_WRITERS), read(seeded).calls)
    title = "mixed: im.user.status.set, {} connections beside {} reading"
    writes = Scenario(
        "mixed_write", title.format(MIXED_WRITERS, MIXED_READERS), status_set(seeded).calls
    )
    return [(reads, MIXED_READERS), (writes, MIXED_WRITERS)]


def after_read(seeded: Seeded) -> list[Scenario]:
    """The scenarios run against the main store after the read path, in order
    (OAuth first: its token lives an hour)."""
    return [
        read_oauth(seeded),
        status_set(seeded),
        workday_cycle(seeded),
        networkrange_check(seeded),
        schedule_get(seeded),
        timecontrol_report(seeded),
        record_list(seeded),
        user_get_single(seeded),
        batch(seeded),
        paging(seeded),
    ]


#: Many clients: this many connections on this many users' workdays.
MANY_CLIENTS = 1_000
MANY_USERS = 20


def many_clients(seeded: Seeded, rate: float) -> Scenario:
    """Fifty clients per user on twenty users, each user's calls a mix of workday
    transitions, reads of the day and status changes; the clients of one user
    overlap, so its writes queue behind each other. ``timeman.close`` on a day
    another client closed first is refused (``WD_NOT_OPEN``): an answer, not an
    error; only 5xx answers and socket errors count."""
    users = spread(seeded, MANY_USERS)
    steps = (
        "timeman.open",
        "timeman.status",
        "im.user.status.set?STATUS=dnd",
        "timeman.pause",
        "timeman.status",
        "timeman.open",
        "im.user.status.set?STATUS=online",
        "timeman.close",
    )
    calls = [Call("GET", f"{_hook(seeded, u)}/{step}") for step in steps for u in users]
    title = (
        f"many clients: {MANY_CLIENTS:,} on {len(users)} users' workdays "
        f"and statuses, paced to ~{rate:,.0f} req/s"
    )
    return Scenario("manyclients", title, calls, refusals_ok=True)
