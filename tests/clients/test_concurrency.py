"""Concurrent calls for the same user are serialised: the day ends in a valid state
and no transition is lost. On SQLite and on PostgreSQL, against a real
``b24local serve --tls --dev`` process hit by many simultaneous HTTPS requests.

PostgreSQL runs need ``B24LOCAL_TEST_PG_URL`` (for example
``postgresql://postgres@127.0.0.1:5432/test``); each run gets a throwaway schema
(``--db URL?schema=NAME``) that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from b24local import admin
from b24local.store.engine import sqlite_url

pytestmark = pytest.mark.process

PG_URL = os.environ.get("B24LOCAL_TEST_PG_URL")
#: The server clock is set here (and left running) so no run crosses midnight.
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATUSES = {"OPENED", "PAUSED", "CLOSED", "EXPIRED"}


# --- servers on both backends ----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, new_pg_schema) -> Iterator[str | None]:
    """``None`` for the embedded SQLite, or a URL to a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    with new_pg_schema("b24local_conc") as url:
        yield url


@pytest.fixture
def server(database: str | None, launch_server):
    """A fresh server (on ``database``) whose clock runs from ``MORNING``; stopped
    before the database is dropped, and required to stop cleanly. The cloud's rate
    limit is off: these bursts exceed its bucket of 50 on purpose."""
    srv = launch_server(db=database, args=["--limits", "off"])
    try:
        srv.dev("POST", "/_b24local/clock", {"now": MORNING.isoformat(), "freeze": False})
        yield srv
    finally:
        status = srv.stop()
    stderr = srv.stderr()
    assert status == 0, f"exit status {status}\nstderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr


def store_url(srv) -> str:
    return srv.db or sqlite_url(srv.data_dir)


# --- calls -----------------------------------------------------------------------------


async def fire(srv, calls: list[tuple[str, str]]) -> list[httpx.Response]:
    """Send every ``(webhook URL, method)`` at once, each on its own connection.

    The connections are opened (TLS handshakes done) by a first round of
    ``timeman.status`` calls, so the real round reaches the server together.
    """
    async with httpx.AsyncClient(
        verify=srv.ssl_context(),
        trust_env=False,
        timeout=60,
        limits=httpx.Limits(max_connections=len(calls), max_keepalive_connections=len(calls)),
    ) as client:
        warm = await asyncio.gather(
            *(client.post(f"{hook}timeman.status", json={}) for hook, _ in calls)
        )
        assert all(r.status_code == 200 for r in warm), [r.text for r in warm]
        return await asyncio.gather(
            *(client.post(f"{hook}{method}", json={}) for hook, method in calls)
        )


def call(srv, method: str, hook: str | None = None) -> dict[str, Any]:
    with httpx.Client(verify=srv.ssl_context(), trust_env=False, timeout=30) as client:
        response = client.post(f"{hook or srv.webhook_url}{method}", json={})
    assert response.status_code == 200, response.text
    return response.json()["result"]


def results(responses: list[httpx.Response]) -> list[dict[str, Any]]:
    bodies = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "error" not in body, body
        assert body["result"]["STATUS"] in STATUSES, body
        bodies.append(body["result"])
    return bodies


# --- the history -----------------------------------------------------------------------


def history(srv, workday_id: int) -> list[dict[str, Any]]:
    """``b24local timeman history ID --json`` against the server's database."""
    return json.loads(srv.cli("timeman", "history", str(workday_id), "--json"))


def cli_error(srv, *args: str) -> str:
    """Run a CLI command that must fail: exit 1, nothing on stdout; return stderr."""
    database = ["--db", srv.db] if srv.db else []
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "b24local"),
            *args,
            "--data-dir",
            str(srv.data_dir),
            *database,
        ],
        capture_output=True,
        text=True,
        env=srv.env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1, done
    assert done.stdout == ""
    return done.stderr


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def assert_valid_day(snapshot: dict[str, Any]) -> None:
    """A stored day: breaks sorted, not overlapping, inside the day, and only the
    last one may still be going on."""
    start = moment(snapshot["started_at"])
    previous_end = start
    breaks = snapshot["breaks"]
    for index, (begin, end) in enumerate(breaks):
        begin_at = moment(begin)
        assert begin_at >= previous_end, f"break {index} overlaps or precedes: {breaks}"
        if end is None:
            assert index == len(breaks) - 1, f"a pause before the last is unfinished: {breaks}"
            continue
        end_at = moment(end)
        assert end_at >= begin_at, f"break {index} ends before it starts: {breaks}"
        previous_end = end_at


def assert_chain(events: list[dict[str, Any]]) -> None:
    """Each event starts from the state the previous one left: no update was lost
    or applied to a stale day."""
    for earlier, later in pairwise(events):
        assert later["before"] == earlier["after"], (
            f"event {later['id']} ({later['action']}) did not start from the state event "
            f"{earlier['id']} ({earlier['action']}) left:\n"
            f"before={later['before']}\nafter={earlier['after']}"
        )


def assert_in_time(events: list[dict[str, Any]]) -> None:
    """Transitions are stamped in the order they were applied, and every state they
    leave is a valid day."""
    for earlier, later in pairwise(events):
        assert moment(later["at"]) >= moment(earlier["at"]), (
            f"event {later['id']} ({later['action']} at {later['at']}) was applied after "
            f"event {earlier['id']} ({earlier['action']} at {earlier['at']})"
        )
    for event in events:
        assert_valid_day(event["after"])


# --- one user, many simultaneous calls ---------------------------------------------------


def test_simultaneous_opens_start_exactly_one_day(server) -> None:
    assert call(server, "timeman.status")["STATUS"] == "CLOSED"

    answers = results(asyncio.run(fire(server, [(server.webhook_url, "timeman.open")] * 30)))

    assert [a["STATUS"] for a in answers] == ["OPENED"] * 30
    # Every caller sees the same day, started once.
    assert len({a["TIME_START"] for a in answers}) == 1
    events = history(server, 1)
    assert [e["action"] for e in events] == ["open"]
    assert events[0]["actor_id"] == events[0]["user_id"] == 1
    assert events[0]["before"] is None
    assert_in_time(events)
    status = call(server, "timeman.status")
    assert status["STATUS"] == "OPENED"
    assert status["TIME_START"] == answers[0]["TIME_START"]
    # No second day was created.
    assert "no workday 2" in cli_error(server, "timeman", "history", "2")


def test_mixed_opens_and_pauses_alternate_without_loss(server) -> None:
    assert call(server, "timeman.open")["STATUS"] == "OPENED"
    methods = ["timeman.open", "timeman.pause"] * 20
    random.Random(24).shuffle(methods)

    answers = results(asyncio.run(fire(server, [(server.webhook_url, m) for m in methods])))

    # Whatever the order, an open leaves the day running and a pause leaves it paused.
    for method, answer in zip(methods, answers, strict=True):
        assert answer["STATUS"] == ("OPENED" if method == "timeman.open" else "PAUSED"), (
            method,
            answer,
        )

    events = history(server, 1)
    actions = [e["action"] for e in events]
    assert actions[0] == "open"
    rest = actions[1:]
    assert rest, "twenty pauses of an open day changed nothing"
    # Strict alternation after the open: pause, resume, pause, resume, ...
    assert rest == ["pause", "resume"] * (len(rest) // 2) + ["pause"] * (len(rest) % 2), actions
    pauses, resumes = rest.count("pause"), rest.count("resume")
    assert pauses - resumes in (0, 1)
    # A transition needs a call that made it.
    assert pauses <= methods.count("timeman.pause")
    assert resumes <= methods.count("timeman.open")
    assert_chain(events)

    expected = "PAUSED" if actions[-1] == "pause" else "OPENED"
    status = call(server, "timeman.status")
    assert status["STATUS"] == expected
    assert status["STATUS"] in ("OPENED", "PAUSED")

    # Every transition is stamped after the one before it, and every pause left a
    # break unless it was resumed the very instant it began.
    assert_in_time(events)
    instant = sum(
        1
        for pause, resume in pairwise(events)
        if (pause["action"], resume["action"]) == ("pause", "resume")
        and moment(pause["at"]) == moment(resume["at"])
    )
    final = events[-1]["after"]
    assert len(final["breaks"]) == pauses - instant, (pauses, instant, final["breaks"])


# --- a call that waits for the user's lock ---------------------------------------------


async def _dev_clock(client: httpx.AsyncClient, srv, at: datetime) -> None:
    response = await client.post(
        f"{srv.base_url}/_b24local/clock",
        json={"now": at.isoformat(), "freeze": True},
        headers={"Authorization": f"Bearer {srv.dev_token}"},
    )
    assert response.status_code == 200, response.text


async def _post(client: httpx.AsyncClient, url: str, params: dict | None = None) -> dict:
    response = await client.post(url, json=params or {})
    assert response.status_code == 200, response.text
    return response.json()["result"]


class _Stall:
    """Holds the test's own lock so that server calls (and CLI commands) queue up.

    PostgreSQL: ``pg_lock`` (a statement with ``{schema}``) runs in an open
    transaction; :meth:`wait_for` returns once that many sessions wait behind it.
    SQLite: the test holds the database's write lock (``BEGIN IMMEDIATE``), so
    writers wait in their own ``BEGIN IMMEDIATE`` (or the server's writer queue);
    there is no way to see them waiting, so :meth:`wait_for` sleeps.
    """

    def __init__(self, srv, pg_lock: str) -> None:
        self.srv = srv
        self.pg_lock = pg_lock
        self.pg: Any = None
        self.sqlite: sqlite3.Connection | None = None

    async def hold(self) -> None:
        if self.srv.db:
            import asyncpg

            schema = parse_qs(urlsplit(self.srv.db).query)["schema"][0]
            self.pg = await asyncpg.connect(PG_URL)
            await self.pg.execute("BEGIN")
            await self.pg.execute(self.pg_lock.format(schema=schema))
        else:
            self.sqlite = sqlite3.connect(self.srv.data_dir / "b24local.db", isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")

    async def wait_for(self, sessions: int, *, sqlite_pause: float = 0.5) -> None:
        if self.pg is None:
            await asyncio.sleep(sqlite_pause)
            return
        me = await self.pg.fetchval("SELECT pg_backend_pid()")
        for _ in range(300):
            # Inside a transaction the activity view is a snapshot: refresh it.
            await self.pg.execute("SELECT pg_stat_clear_snapshot()")
            # Sessions blocked by this one, directly or behind another blocked one.
            waiting = await self.pg.fetchval(
                """
                WITH RECURSIVE blocked(pid) AS (
                    SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
                    UNION
                    SELECT a.pid FROM pg_stat_activity a
                    JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid))
                )
                SELECT count(*) FROM blocked
                """,
                me,
            )
            if waiting >= sessions:
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"{sessions} session(s) never waited for: {self.pg_lock}")

    async def release(self) -> None:
        if self.pg is not None:
            await self.pg.execute("ROLLBACK")
            await self.pg.close()
        if self.sqlite is not None:
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()


async def _waited_call(srv, boss_hook: str, own_hook: str, employee: int) -> dict[str, Any]:
    at = MORNING.replace
    async with httpx.AsyncClient(verify=srv.ssl_context(), trust_env=False, timeout=60) as client:
        await _dev_clock(client, srv, at(hour=9))
        assert (await _post(client, f"{own_hook}timeman.open"))["STATUS"] == "OPENED"
        await _dev_clock(client, srv, at(hour=9, minute=30))
        assert (await _post(client, f"{own_hook}timeman.pause"))["STATUS"] == "PAUSED"

        await _dev_clock(client, srv, at(hour=10))
        # PostgreSQL: only the supervisor's rights check reads ``departments``, after
        # the server has taken ``now``. SQLite: the supervisor's call waits in
        # BEGIN IMMEDIATE, the employee's behind it.
        stall = _Stall(srv, "LOCK TABLE {schema}.departments IN ACCESS EXCLUSIVE MODE")
        await stall.hold()
        try:
            # The supervisor pauses the employee's day at 10:00 ...
            boss = asyncio.create_task(
                _post(client, f"{boss_hook}timeman.pause", {"USER_ID": employee})
            )
            await stall.wait_for(1)
            # ... and while that call waits, the employee resumes at 10:30.
            await _dev_clock(client, srv, at(hour=10, minute=30))
            own = asyncio.create_task(_post(client, f"{own_hook}timeman.open"))
            await asyncio.wait([own], timeout=1.0)
        finally:
            await stall.release()
        answers = await asyncio.gather(boss, own)
        assert answers[0]["STATUS"] in ("OPENED", "PAUSED")
        assert answers[1]["STATUS"] in ("OPENED", "PAUSED")

        await _dev_clock(client, srv, at(hour=11))
        return await _post(client, f"{own_hook}timeman.status")


def test_a_call_that_waited_uses_the_moment_it_ran(server) -> None:
    """A supervisor's pause that had to wait while the employee resumed is applied at
    the moment it ran, after the resume: the day stays valid and the breaks between
    09:30 and 11:00 add up to no more than 01:30:00."""
    hooks = asyncio.run(_team(store_url(server), server.base_url))

    status = asyncio.run(_waited_call(server, hooks["boss"], hooks["employee"], hooks["id"]))

    assert status["STATUS"] in ("OPENED", "PAUSED")
    assert status["TIME_LEAKS"] <= "01:30:00", status
    events = history(server, 1)
    assert [e["action"] for e in events][:2] == ["open", "pause"]
    assert_chain(events)
    assert_in_time(events)


async def _team(url: str, base_url: str) -> dict[str, Any]:
    """A supervisor (not an administrator) heading a department with one employee,
    each with a ``timeman`` webhook."""
    store = await admin.open_store(url)
    try:
        boss = await admin.add_user(store, MORNING, name="Boss", last_name="Head")
        team = await admin.add_department(store, name="Team", head_id=boss.id)
        employee = await admin.add_user(
            store, MORNING, name="Worker", last_name="Bee", department_ids=[team.id]
        )
        hooks: dict[str, Any] = {"id": employee.id}
        for name, user in (("boss", boss), ("employee", employee)):
            hook, code = await admin.add_webhook(
                store, MORNING, user_id=user.id, scopes=["timeman"]
            )
            hooks[name] = f"{base_url}/rest/{hook.user_id}/{code}/"
        return hooks
    finally:
        await store.close()


# --- an approval that waits for the user's lock --------------------------------------------


async def _approval_meets_a_pause(srv) -> tuple[dict[str, Any], str]:
    """An edited day of the administrator's: a pause and ``timeman approve`` queue up
    behind the test's lock on the user, the pause first (on PostgreSQL)."""
    async with httpx.AsyncClient(verify=srv.ssl_context(), trust_env=False, timeout=60) as client:
        await _dev_clock(client, srv, MORNING.replace(hour=12))
        opened = await _post(
            client,
            f"{srv.webhook_url}timeman.open",
            {"TIME": "2026-03-02T08:00:00+00:00", "REPORT": "forgot to clock in"},
        )
        assert (opened["STATUS"], opened["ACTIVE"]) == ("OPENED", False)

        stall = _Stall(
            srv, "SELECT id FROM {schema}.users WHERE portal_id = 1 AND id = 1 FOR UPDATE"
        )
        await stall.hold()
        approve = None
        try:
            pause = asyncio.create_task(_post(client, f"{srv.webhook_url}timeman.pause"))
            await stall.wait_for(1)
            database = ["--db", srv.db] if srv.db else []
            approve = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "b24local"),
                *("timeman", "approve", "1", "--by", "1", "--data-dir", str(srv.data_dir)),
                *database,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=srv.env,
            )
            await stall.wait_for(2, sqlite_pause=1.5)
        finally:
            await stall.release()
            if approve is not None:
                out, err = await approve.communicate()
        assert approve.returncode == 0, err.decode()
        assert (await pause)["STATUS"] == "PAUSED"
        return await _post(client, f"{srv.webhook_url}timeman.status"), out.decode()


def test_an_approval_keeps_a_transition_made_while_it_waited(server) -> None:
    """Approving and pausing the same day at once: both take effect, whichever
    order they end up in; the history is one unbroken chain."""

    status, printed = asyncio.run(_approval_meets_a_pause(server))

    assert printed == "1\n"
    assert (status["STATUS"], status["ACTIVE"]) == ("PAUSED", True), status
    events = asyncio.run(_histories(store_url(server), range(1, 2)))[1]
    assert sorted(e["action"] for e in events) == ["approve", "open", "pause"]
    assert_chain(events)


# --- many users at once ----------------------------------------------------------------


async def _add_users(url: str, count: int) -> list[tuple[int, str]]:
    """Users with a ``timeman`` webhook each, through the same administration code the
    CLI runs (one process instead of 2 x ``count`` CLI start-ups)."""
    store = await admin.open_store(url)
    try:
        made = []
        for index in range(count):
            user = await admin.add_user(
                store, MORNING, name=f"Worker{index}", last_name="Concurrent"
            )
            hook, code = await admin.add_webhook(
                store, MORNING, user_id=user.id, scopes=["timeman"]
            )
            made.append((user.id, f"{hook.user_id}/{code}"))
        return made
    finally:
        await store.close()


async def _histories(url: str, ids: range) -> dict[int, list[dict[str, Any]]]:
    store = await admin.open_store(url)
    try:
        return {wid: await admin.workday_history(store, wid) for wid in ids}
    finally:
        await store.close()


def test_twenty_users_open_their_days_together(server) -> None:
    # One user through the CLI, as an administrator would; the rest in one go.
    first = int(server.cli("user", "add", "--name", "Cli", "--last-name", "Worker"))
    token = server.cli("webhook", "add", "--user", str(first), "--scope", "timeman")
    made = [(first, token), *asyncio.run(_add_users(store_url(server), 19))]
    users = [user_id for user_id, _ in made]
    assert len(set(users)) == 20
    hooks = {user_id: f"{server.base_url}/rest/{token}/" for user_id, token in made}

    answers = results(
        asyncio.run(fire(server, [(hooks[user_id], "timeman.open") for user_id in users]))
    )

    assert [a["STATUS"] for a in answers] == ["OPENED"] * 20
    for user_id in users:
        assert call(server, "timeman.status", hooks[user_id])["STATUS"] == "OPENED"
    # Exactly one day and one "open" per user: workdays 1..20, nothing more.
    found = asyncio.run(_histories(store_url(server), range(1, 21)))
    opens = [e for events in found.values() for e in events]
    assert [e["action"] for e in opens] == ["open"] * 20
    assert sorted(e["user_id"] for e in opens) == sorted(users)
    assert all(e["actor_id"] == e["user_id"] for e in opens)
    assert "no workday 21" in cli_error(server, "timeman", "history", "21")
    # The administrator opened nothing.
    assert call(server, "timeman.status")["STATUS"] == "CLOSED"
