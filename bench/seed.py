"""Filling a store before the server starts, in-process and in bulk.

Single rows go through ``b24local.admin`` (the code the CLI uses). Users, their
webhooks and presence, and workday history are bulk-inserted with SQLAlchemy
Core in chunks: admin.add_user one at a time would take minutes for 100,000
users. The rows are the ones the server itself writes (see store/users.py and
store/workdays.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update

from b24local import admin, schedule_admin
from b24local.entities import User
from b24local.scopes.timeman.workday import Break, Place, Workday, break_length, duration
from b24local.store import credentials
from b24local.store import tables as t
from b24local.store.engine import Store
from b24local.store.workdays import snapshot

CHUNK = 5_000
#: Events one stored workday leaves behind: open, pause, resume, close.
EVENTS_PER_DAY = 4
LOOPBACK = "127.0.0.1"


@dataclass
class Seeded:
    """What the scenarios need to address the seeded data."""

    admin_code: str = ""
    token: str = ""
    #: Webhook code of each bulk-seeded user, by user ID.
    codes: dict[int, str] = field(default_factory=dict)
    users: int = 1
    transitions: int = 0
    #: The user whose past workdays the record_list scenario reads, and their webhook.
    records_user: int = 0
    records_code: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


async def base(store: Store, seeded: Seeded) -> None:
    """Portal, admin (user 1) with an all-scopes webhook, and an OAuth app token."""
    now = _now()
    await admin.bootstrap(store, now)
    scopes = admin.implemented_scopes()
    _, code = await admin.add_webhook(store, now, user_id=1, scopes=scopes, title="bench")
    app, _secret = await admin.add_app(store, now, name="bench", scopes=scopes)
    # Access tokens live one hour: the OAuth scenario runs early in the run.
    pair, _ = await admin.issue_app_token(store, now, client_id=app.client_id, user_id=1)
    seeded.admin_code, seeded.token = code, pair.access_token
    await admin.set_network_ranges(store, OFFICE_NETWORKS)
    for definition in WORK_SCHEDULES:
        await schedule_admin.add_schedule(store, definition, now)
    # Time control on, as a team using its reports runs it: every presence and
    # workday change then takes the absence-recording path.
    await admin.timecontrol_settings(store, now, {"ACTIVE": 1, "REGISTER_IDLE": 1})


#: Office networks for the networkrange.check scenario: a realistic handful, the
#: last one IPv6, so most checked addresses walk past several ranges.
OFFICE_NETWORKS = [
    *((f"10.{i}.0.0-10.{i}.255.255", f"site {i}") for i in range(16)),
    ("192.168.0.0-192.168.255.255", "LAN"),
    ("172.16.0.1", "gateway"),
    ("2001:db8::-2001:db8::ffff", "v6"),
]


#: Work schedules for the schedule_get scenario; the first applies to everyone, so
#: every timeman.* call also finds its user's schedule.
WORK_SCHEDULES = [
    {
        "NAME": "For all employees",
        "IS_FOR_ALL_USERS": True,
        "SHIFTS": [{"WORK_TIME_START": "09:00", "WORK_TIME_END": "18:00", "BREAK_DURATION": 3600}],
        "CALENDAR": {"EXCLUSIONS": {f"2026-{m:02d}-01": 0 for m in range(1, 13)}},
        "SCHEDULE_VIOLATION_RULES": {"MAX_EXACT_START": "09:00:59", "MIN_DAY_DURATION": 28800},
    },
    *(
        {
            "NAME": f"Shift {i}",
            "SCHEDULE_TYPE": "SHIFT",
            "SHIFTS": [
                {"WORK_TIME_START": "06:00", "WORK_TIME_END": "14:00", "WORK_DAYS": "135"},
                {"WORK_TIME_START": "14:00", "WORK_TIME_END": "22:00", "WORK_DAYS": "246"},
            ],
        }
        for i in range(1, 5)
    ),
]


def _user_rows(portal_id: int, ids: Sequence[int], now: datetime) -> dict[str, list[dict]]:
    scopes = credentials.scopes_text(admin.implemented_scopes())
    rows: dict[str, list[dict]] = {"users": [], "deps": [], "presence": [], "hooks": []}
    for uid in ids:
        user = asdict(
            User(portal_id=portal_id, id=uid, active=True, is_admin=False, name="", last_name="")
        )
        user.pop("departments")
        user.update(
            name=f"User{uid}",
            last_name=f"Bench{uid}",
            email=f"user{uid}@bench.local",
            date_register=now,
            timestamp_x=now,
        )
        rows["users"].append(user)
        rows["deps"].append(
            {"portal_id": portal_id, "user_id": uid, "department_id": admin.ROOT_DEPARTMENT_ID}
        )
        rows["presence"].append(
            {
                "portal_id": portal_id,
                "user_id": uid,
                "status": "online",
                "idle_since": None,
                "last_activity": now,
            }
        )
        rows["hooks"].append(
            {
                "portal_id": portal_id,
                "user_id": uid,
                # Filled in by add_users, which keeps the plain code.
                "code_hash": "",
                "scopes": scopes,
                "title": "bench",
                "active": True,
                "created_at": now,
                "expires_at": None,
            }
        )
    return rows


async def add_users(store: Store, seeded: Seeded, total: int) -> None:
    """Grow the default portal to ``total`` users, each with a webhook and presence."""
    now = _now()
    async with store.transaction() as conn:
        portal = await admin.portal_for(conn)
        last = (
            await conn.execute(select(t.portals.c.last_user_id).where(t.portals.c.id == portal.id))
        ).scalar_one()
    for start in range(last + 1, total + 1, CHUNK):
        ids = range(start, min(start + CHUNK, total + 1))
        rows = _user_rows(portal.id, ids, now)
        for uid, hook in zip(ids, rows["hooks"], strict=True):
            # 16 lowercase hex characters: the shape of a real webhook code.
            code = secrets.token_hex(8)
            seeded.codes[uid] = code
            hook["code_hash"] = credentials.digest(code)
        async with store.transaction(write=True) as conn:
            await conn.execute(insert(t.users), rows["users"])
            await conn.execute(insert(t.user_departments), rows["deps"])
            await conn.execute(insert(t.presence), rows["presence"])
            await conn.execute(insert(t.webhooks), rows["hooks"])
            # users.add allocates IDs from this counter; keep it in step.
            await conn.execute(
                update(t.portals).where(t.portals.c.id == portal.id).values(last_user_id=ids[-1])
            )
    seeded.users = max(seeded.users, total)


def _day_states(day: date) -> list[Workday]:
    """The four states of one ordinary day: opened 9:00, paused 12:00, resumed
    13:00, closed 18:00 (UTC)."""

    def at(hour: int) -> datetime:
        return datetime.combine(day, time(hour), UTC)

    opened = Workday(start=at(9), tz_offset=0, zone="UTC", opened_from=Place(LOOPBACK))
    paused = replace(opened, breaks=(Break(at(12)),))
    resumed = replace(opened, breaks=(Break(at(12), at(13)),))
    closed = replace(resumed, finish=at(18), closed_from=Place(LOOPBACK))
    return [opened, paused, resumed, closed]


def _workday_row(portal_id: int, user_id: int, day: Workday) -> dict[str, Any]:
    assert day.finish is not None
    return {
        "portal_id": portal_id,
        "user_id": user_id,
        "started_at": day.start,
        "tz_offset": day.tz_offset,
        "zone": day.zone,
        "finished_at": day.finish,
        "breaks": snapshot(day)["breaks"],  # type: ignore[index]
        "active": True,
        "ip_open": LOOPBACK,
        "ip_close": LOOPBACK,
        "lat_open": None,
        "lon_open": None,
        "lat_close": None,
        "lon_close": None,
        "updated_at": day.finish,
        "duration": int(duration(day).total_seconds()),
        "break_length": int(break_length(day).total_seconds()),
    }


def _event_rows(
    portal_id: int, workday_id: int, user_id: int, states: list[Workday]
) -> list[dict[str, Any]]:
    snaps = [snapshot(s) for s in states]
    moments = [
        states[0].start,
        states[1].breaks[0].start,
        states[2].breaks[0].end,
        states[3].finish,
    ]
    befores = [None, *snaps[:-1]]
    return [
        {
            "portal_id": portal_id,
            "workday_id": workday_id,
            "user_id": user_id,
            "actor_id": user_id,
            "action": action,
            "at": moment,
            "claimed_at": None,
            "needs_approval": False,
            "report": "",
            "ip": LOOPBACK,
            "before": before,
            "after": after,
        }
        for action, moment, before, after in zip(
            ("open", "pause", "resume", "close"), moments, befores, snaps, strict=True
        )
    ]


async def add_transitions(store: Store, seeded: Seeded, count: int) -> None:
    """Store ``count`` workday transitions: past days of every user in turn, each
    day four transitions, the latest day yesterday."""
    today = _now().date()
    async with store.transaction() as conn:
        portal = await admin.portal_for(conn)
        stored = (await conn.execute(select(func.count()).select_from(t.workday_events))).scalar()
    first_day = (stored or 0) // EVENTS_PER_DAY
    days = count // EVENTS_PER_DAY
    for start in range(first_day, first_day + days, CHUNK):
        batch = range(start, min(start + CHUNK, first_day + days))
        owners = [1 + n % seeded.users for n in batch]
        states = [_day_states(today - timedelta(days=1 + n // seeded.users)) for n in batch]
        rows = [_workday_row(portal.id, uid, s[-1]) for uid, s in zip(owners, states, strict=True)]
        async with store.transaction(write=True) as conn:
            # RETURNING in input order: the events need each new day's ID.
            result = await conn.execute(
                insert(t.workdays).returning(t.workdays.c.id, sort_by_parameter_order=True), rows
            )
            ids = result.scalars().all()
            events = [
                event
                for wid, uid, s in zip(ids, owners, states, strict=True)
                for event in _event_rows(portal.id, wid, uid, s)
            ]
            await conn.execute(insert(t.workday_events), events)
    seeded.transitions += days * EVENTS_PER_DAY


#: Workday records of the record_list scenario's user (one a day, going back).
RECORDS = 10_000


async def add_records(store: Store, seeded: Seeded, count: int = RECORDS) -> None:
    """A user of their own with ``count`` closed days (one a day, the latest
    yesterday) and a webhook, for REST 3.0's ``timeman.record.list``: apart from
    the bulk users, so no other scenario reads these days."""
    now = _now()
    user = await admin.add_user(store, now, name="Records", last_name="Bench")
    _, code = await admin.add_webhook(store, now, user_id=user.id, scopes=["timeman"])
    seeded.records_user, seeded.records_code = user.id, code
    today = now.date()
    for start in range(0, count, CHUNK):
        days = [
            _day_states(today - timedelta(days=1 + n))[-1]
            for n in range(start, min(start + CHUNK, count))
        ]
        rows = [_workday_row(user.portal_id, user.id, day) for day in days]
        async with store.transaction(write=True) as conn:
            await conn.execute(insert(t.workdays), rows)


async def analyze(store: Store) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load, as autovacuum would
    within a minute on a live server: with the row counts of an emptier table the
    planner may scan where it should look up. (SQLite plans without statistics, and
    b24local never gathers any there.)"""
    async with store.transaction(write=True) as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(table.name for table in t.metadata.sorted_tables)
            await conn.execute(text(f"ANALYZE {names}"))
