"""``kill -9`` of a loaded server loses no acknowledged write and leaves no workday
in an impossible state. On SQLite and on PostgreSQL.

Thirty clients of five users (six each) change messenger statuses and walk workdays
through ``timeman.open/pause/open/close`` against a real ``b24local serve --tls --dev``
process. Mid-load the process is killed with SIGKILL, and a new one is started on
the same data directory and database. A request whose answer arrived is
acknowledged and must have been kept; one whose answer never came may or may not
have been committed, and the checks allow both.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx
import pytest

from b24local import admin
from b24local.store import workdays
from b24local.store.engine import sqlite_url

pytestmark = pytest.mark.process

#: The dev clock runs from here during the load, so no day crosses midnight.
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USERS = 5
CLIENTS_PER_USER = 6
#: How long the clients run before the kill.
LOAD_SECONDS = 2.5
STATUSES = ("online", "dnd", "away", "break")
#: What the clients call, and how often.
ACTIONS = (
    ["im.user.status.set"] * 4 + ["timeman.open"] * 2 + ["timeman.pause"] * 2 + ["timeman.close"]
)


@dataclass
class Sent:
    """One request of the load and what became of it."""

    user: int
    method: str
    status: str | None  # the status asked for (im.user.status.set)
    sent_at: float
    answered_at: float | None = None  # None: no answer (in flight at the kill)
    answer: dict[str, Any] | None = None

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None and "result" in self.answer

    @property
    def unknown(self) -> bool:
        return self.answered_at is None


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, new_pg_schema) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with new_pg_schema("b24local_crash") as url:
        yield url


def store_url(srv) -> str:
    return srv.db or sqlite_url(srv.data_dir)


async def _team(url: str) -> dict[int, str]:
    """Four users beside the administrator; every user's webhook path by user ID."""
    store = await admin.open_store(url)
    try:
        ids = [1]
        for n in range(USERS - 1):
            user = await admin.add_user(store, MORNING, name=f"Crash{n}", last_name="Test")
            ids.append(user.id)
        hooks = {}
        for user_id in ids:
            hook, code = await admin.add_webhook(
                store, MORNING, user_id=user_id, scopes=["im", "timeman"]
            )
            hooks[user_id] = f"/rest/{hook.user_id}/{code}/"
        return hooks
    finally:
        await store.close()


# --- the load ---------------------------------------------------------------------------


async def _client(
    http: httpx.AsyncClient,
    base: str,
    hook: str,
    user: int,
    rnd: random.Random,
    log: list[Sent],
    ready: asyncio.Queue[None],
) -> None:
    # A first call opens the connection (TLS handshake) before the load is timed.
    warm = await http.post(f"{base}{hook}im.user.status.get")
    assert warm.status_code == 200, warm.text
    ready.put_nowait(None)
    while True:
        method = rnd.choice(ACTIONS)
        status = rnd.choice(STATUSES) if method == "im.user.status.set" else None
        entry = Sent(user, method, status, time.monotonic())
        log.append(entry)
        response = await http.post(
            f"{base}{hook}{method}", json={"STATUS": status} if status else {}
        )
        entry.answered_at = time.monotonic()
        entry.answer = response.json()


async def _load_and_kill(srv, hooks: dict[int, str], seed: int) -> list[Sent]:
    """Run every client until the server is killed; return every request sent."""
    log: list[Sent] = []
    clients = USERS * CLIENTS_PER_USER
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        verify=srv.ssl_context(), trust_env=False, timeout=30, limits=limits
    ) as http:
        ready: asyncio.Queue[None] = asyncio.Queue()
        tasks = [
            asyncio.create_task(
                _client(http, srv.base_url, hook, user, random.Random(f"{seed}:{n}:{user}"), log,
                        ready)
            )
            for n in range(CLIENTS_PER_USER)
            for user, hook in hooks.items()
        ]  # fmt: skip
        for _ in tasks:
            await ready.get()
        await asyncio.sleep(LOAD_SECONDS)
        srv.process.kill()
        srv.process.wait(timeout=10)
        # Every client now fails on its connection; those requests stay unanswered.
        done = await asyncio.gather(*tasks, return_exceptions=True)
    unexpected = [e for e in done if not isinstance(e, httpx.TransportError)]
    assert not unexpected, unexpected
    return log


# --- what may be left --------------------------------------------------------------------


def possible_statuses(log: list[Sent], user: int) -> set[str]:
    """Statuses the user may have after the crash. An acknowledged set X may be the last
    one committed unless an acknowledged set Y was sent after X was answered (Y then
    committed after X); a set never answered may have committed at any moment."""
    sets = [e for e in log if e.user == user and e.method == "im.user.status.set"]
    acked = [e for e in sets if e.acknowledged]
    assert all(e.acknowledged or e.unknown for e in sets), [e.answer for e in sets]
    possible = {e.status for e in sets if e.unknown}
    for x in acked:
        assert x.answered_at is not None
        if not any(y.sent_at > x.answered_at for y in acked):
            possible.add(x.status)
    if not acked:
        possible.add("online")  # nothing chosen yet, or a set never answered
    return {s for s in possible if s is not None}


def moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def seconds(clock: str) -> int:
    """``HH:MM:SS`` (a sign allowed) in seconds."""
    sign = -1 if clock.startswith("-") else 1
    hours, minutes, secs = (int(part) for part in clock.lstrip("-").split(":"))
    return sign * (hours * 3600 + minutes * 60 + secs)


def state_of(snapshot: dict[str, Any]) -> str:
    if snapshot["finished_at"]:
        return "CLOSED"
    breaks = snapshot["breaks"]
    return "PAUSED" if breaks and breaks[-1][1] is None else "OPENED"


def leaks(snapshot: dict[str, Any]) -> str:
    """TIME_LEAKS of a day that is not paused: the sum of its finished breaks."""
    total = sum(
        ((moment(end) - moment(begin)) for begin, end in snapshot["breaks"] if end),
        timedelta(),
    )
    seconds = int(total.total_seconds())
    return f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"


def assert_possible_day(snapshot: dict[str, Any]) -> None:
    """Breaks in order, not overlapping, inside the day, only the last one running,
    and no negative duration anywhere."""
    start = moment(snapshot["started_at"])
    finish = moment(snapshot["finished_at"])
    assert start is not None
    if finish is not None:
        assert finish >= start, snapshot
    edge = start
    breaks = snapshot["breaks"]
    for index, (begin, end) in enumerate(breaks):
        began = moment(begin)
        assert began is not None and began >= edge, f"break {index} out of order: {snapshot}"
        if end is None:
            assert index == len(breaks) - 1 and finish is None, f"a break left open: {snapshot}"
            continue
        edge = moment(end)
        assert edge >= began, f"break {index} ends before it starts: {snapshot}"
    if finish is not None:
        assert edge <= finish, f"a break after the close: {snapshot}"


def assert_acknowledged_in(events: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
    """Every acknowledged answer shows a state some recorded event left behind: the
    transition (or the one before a no-op) survived the crash."""
    afters = [e["after"] for e in events]
    for answer in answers:
        if "TIME_START" not in answer:
            continue  # a pause before any day: nothing happened
        start = moment(answer["TIME_START"])
        matches = [
            a
            for a in afters
            if state_of(a) == answer["STATUS"] and moment(a["started_at"]) == start
        ]
        if answer["STATUS"] == "OPENED":
            matches = [a for a in matches if leaks(a) == answer["TIME_LEAKS"]]
        if answer["STATUS"] == "CLOSED":
            finish = moment(answer["TIME_FINISH"])
            matches = [a for a in matches if moment(a["finished_at"]) == finish]
        assert matches, f"an acknowledged answer left no trace in the history: {answer}"


async def _stored(url: str, users: list[int]) -> dict[int, tuple[dict | None, list[dict]]]:
    """Each user's current day (as the history pictures it) and its history."""
    store = await admin.open_store(url)
    try:
        found: dict[int, tuple[dict | None, list[dict]]] = {}
        async with store.transaction() as conn:
            portal = await admin.portal_for(conn)
            for user in users:
                day = await workdays.latest(conn, portal.id, user)
                if day is None:
                    found[user] = (None, [])
                    continue
                history = await workdays.history(conn, portal.id, day.id)
                found[user] = (workdays.snapshot(day.day), history)
        return found
    finally:
        await store.close()


def test_kill_9_under_load_keeps_every_acknowledged_write(database, launch_server) -> None:
    srv = launch_server(db=database)
    srv.dev("POST", "/_b24local/clock", {"now": MORNING.isoformat(), "freeze": False})
    hooks = asyncio.run(_team(store_url(srv)))

    log = asyncio.run(_load_and_kill(srv, hooks, seed=10))
    acked = [e for e in log if e.acknowledged]
    assert len(acked) > 30, f"only {len(acked)} of {len(log)} requests were answered"
    unknown = sum(1 for e in log if e.unknown)
    print(f"{len(log)} requests: {len(acked)} acknowledged, {unknown} unanswered at the kill")
    refused = [e.answer for e in log if e.answer is not None and not e.acknowledged]
    # Refusals are the workday's own (closing a closed day), never the server's.
    assert {a["error"] for a in refused} <= {"WD_NOT_OPEN"}, refused

    assert "Traceback" not in srv.stderr(), srv.stderr()

    again = launch_server(restart=srv)
    try:
        check_after_restart(again, hooks, log)
    finally:
        # Stopped before a PostgreSQL schema is dropped, and required to stop cleanly.
        status = again.stop()
    assert status == 0, again.stderr()
    assert "Traceback" not in again.stderr(), again.stderr()


def check_after_restart(again, hooks: dict[int, str], log: list[Sent]) -> None:
    # The new process has a clock of its own: put it after the load, on the same day.
    again.dev("POST", "/_b24local/clock", {"now": (MORNING + timedelta(minutes=10)).isoformat()})
    stored = asyncio.run(_stored(store_url(again), list(hooks)))

    with httpx.Client(verify=again.ssl_context(), trust_env=False, timeout=30) as http:
        for user, hook in hooks.items():
            status = http.post(f"{again.base_url}{hook}im.user.status.get").json()["result"]
            assert status in possible_statuses(log, user), (user, status)

            day, events = stored[user]
            mine = [e for e in log if e.user == user and e.method.startswith("timeman.")]
            answers = [e.answer["result"] for e in mine if e.acknowledged]
            workday = http.post(f"{again.base_url}{hook}timeman.status").json()["result"]
            if day is None:
                assert workday == {"STATUS": "CLOSED"}
                assert all(a == {"STATUS": "CLOSED"} for a in answers), answers
                continue
            # The stored day is what the last recorded transition left, and the chain
            # of transitions has no gap.
            assert events, f"user {user}: a day without history"
            assert events[-1]["after"] == day
            assert events[0]["before"] is None
            for earlier, later in pairwise(events):
                assert later["before"] == earlier["after"], (earlier, later)
            for event in events:
                assert_possible_day(event["after"])
            assert workday["STATUS"] == state_of(day)
            worked, leaked = seconds(workday["DURATION"]), seconds(workday["TIME_LEAKS"])
            assert worked >= 0 and leaked >= 0, workday
            if workday["STATUS"] == "CLOSED":
                span = moment(workday["TIME_FINISH"]) - moment(workday["TIME_START"])
                assert worked + leaked == span.total_seconds(), workday
            assert_acknowledged_in(events, answers)
            # No more transitions than calls that could have made them.
            assert len(events) <= sum(1 for e in mine if e.acknowledged or e.unknown)
            closes = sum(1 for e in events if e["action"] == "close")
            acked_closes = sum(1 for e in mine if e.method == "timeman.close" and e.acknowledged)
            unknown_closes = sum(1 for e in mine if e.method == "timeman.close" and e.unknown)
            assert acked_closes <= closes <= acked_closes + unknown_closes
