"""The SQLite transaction layer: group commit, savepoints per call, prebuilt plans.

These run against a real SQLite file, through the same ``Store`` the server uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from b24local import admin
from b24local.app import create_app
from b24local.clock import AdjustableClock
from b24local.config import Settings
from b24local.scopes.im.presence import Presence
from b24local.store import presence
from b24local.store.engine import Store, sqlite_url
from b24local.store.tables import presence as presence_table

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


async def _store(tmp_path: Path) -> tuple[Store, list[int]]:
    store = await admin.open_store(sqlite_url(tmp_path))
    await admin.bootstrap(store, NOW)
    ids = [(await admin.add_user(store, NOW, name=f"U{i}", last_name="X")).id for i in range(6)]
    return store, ids


def _committed_statuses(tmp_path: Path) -> dict[int, str]:
    """What another connection sees: only what was committed."""
    with sqlite3.connect(tmp_path / "b24local.db") as other:
        return dict(other.execute("SELECT user_id, status FROM presence").fetchall())


def test_concurrent_writes_share_commits_and_a_failure_undoes_only_its_own(tmp_path):
    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        seen_committed: dict[int, dict[int, str]] = {}

        async def write(user_id: int, fail: bool) -> None:
            async with store.transaction(write=True) as conn:
                await presence.save(conn, 1, user_id, Presence("dnd", None, NOW))
                await asyncio.sleep(0)  # let the others queue up behind this one
                if fail:
                    raise RuntimeError("this call fails after writing")
            # Answered only once the change is on disk.
            seen_committed[user_id] = _committed_statuses(tmp_path)

        try:
            outcomes = await asyncio.gather(
                *(write(uid, fail=uid == ids[2]) for uid in ids), return_exceptions=True
            )
        finally:
            await store.close()
        failed = [uid for uid, outcome in zip(ids, outcomes, strict=True) if outcome is not None]
        assert failed == [ids[2]]
        for uid in ids:
            if uid != ids[2]:
                assert seen_committed[uid].get(uid) == "dnd"
        final = _committed_statuses(tmp_path)
        assert ids[2] not in final
        assert {uid for uid, status in final.items() if status == "dnd"} == set(ids) - {ids[2]}

    asyncio.run(scenario())


def test_a_cancelled_write_leaves_nothing_and_the_next_ones_proceed(tmp_path):
    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        entered = asyncio.Event()

        async def stuck() -> None:
            async with store.transaction(write=True) as conn:
                await presence.save(conn, 1, ids[0], Presence("away", None, NOW))
                entered.set()
                await asyncio.Event().wait()

        async def fine(user_id: int) -> None:
            async with store.transaction(write=True) as conn:
                await presence.save(conn, 1, user_id, Presence("dnd", None, NOW))

        try:
            task = asyncio.ensure_future(stuck())
            await entered.wait()
            others = [asyncio.ensure_future(fine(uid)) for uid in ids[1:3]]
            await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(*others)
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await store.close()
        assert _committed_statuses(tmp_path) == {ids[1]: "dnd", ids[2]: "dnd"}

    asyncio.run(scenario())


def test_prebuilt_plans_answer_exactly_as_sqlalchemy_does(tmp_path):
    """Every prebuilt lookup a real workload makes, run once more by its plan and by
    SQLAlchemy: the same rows, values and types."""
    clock = AdjustableClock(NOW, frozen=True)

    async def seed() -> tuple[str, str]:
        store, ids = await _store(tmp_path)
        try:
            issued = await admin.first_start_webhook(store, NOW)
            assert issued is not None
            team = await admin.add_department(store, name="Team", head_id=ids[0])
            await admin.update_user(store, NOW, ids[1], department_ids=[1, team.id])
            hook, code = await admin.add_webhook(
                store, NOW, user_id=ids[1], scopes=["im", "timeman", "user"]
            )
            await admin.timeman_settings(store, user_id=ids[1], max_start=9 * 3600 + 15 * 60)
            return f"/rest/{issued[0].user_id}/{issued[1]}/", f"/rest/{hook.user_id}/{code}/"
        finally:
            await store.close()

    admin_hook, user_hook = asyncio.run(seed())
    from starlette.testclient import TestClient

    app = create_app(
        Settings(data_dir=tmp_path, db=sqlite_url(tmp_path), limits=False), clock=clock
    )
    with TestClient(app, base_url="http://127.0.0.1:8024") as http:
        for hook in (admin_hook, user_hook):
            assert http.post(hook + "timeman.open", json={}).status_code == 200
        # Reads after the last commit: their lookups stay in the snapshot cache.
        for hook in (admin_hook, user_hook):
            for method in ("im.user.status.get", "im.user.get", "timeman.status", "profile"):
                assert http.post(hook + method, json={}).status_code == 200
        store: Store = app.state.runtime.store
        transactions = store._sqlite
        assert transactions is not None
        executed = transactions._rows.statement_keys()
        assert len(executed) >= 8

        async def compare() -> None:
            async with store.transaction(write=True) as conn:
                for statement, items in executed:
                    parameters = dict(items)
                    by_plan = conn._prebuilt(statement, parameters)().all()
                    by_sqlalchemy = conn._conn.execute(statement, parameters).all()
                    assert [tuple(row) for row in by_plan] == [tuple(row) for row in by_sqlalchemy]
                    assert [[type(value) for value in row] for row in by_plan] == [
                        [type(value) for value in row] for row in by_sqlalchemy
                    ]

        http.portal.call(compare)
        planned = [s for s, plan in transactions._plans.items() if plan is not None]
        assert len(planned) >= 6

    # The first day and event were written by SQLAlchemy (the run that builds the
    # plans), the second by the plans: stored alike, column by column.
    with sqlite3.connect(tmp_path / "b24local.db") as raw:
        for table in ("workdays", "workday_events"):
            rows = raw.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            assert len(rows) == 2
            shapes = [[(type(v).__name__, _shape(v)) for v in row[1:]] for row in rows]
            assert shapes[0] == shapes[1], table


def _shape(value: object) -> str:
    """Digits as 9: a stored value's format, whatever its contents."""
    return "".join("9" if c.isdigit() else c for c in str(value)) if value is not None else ""


def test_a_read_sees_the_last_commit_not_a_stale_snapshot(tmp_path):
    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        query = select(presence_table.c.status).where(presence_table.c.user_id == ids[0])
        try:
            for status in ("dnd", "away", "online"):
                async with store.transaction(write=True) as conn:
                    await presence.save(conn, 1, ids[0], Presence(status, None, NOW))
                async with store.transaction() as conn:
                    assert (await presence.get(conn, 1, ids[0])).status == status
                    assert (await conn.execute(query)).scalar() == status
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_commit_by_another_process_shows_in_the_next_call(tmp_path):
    """The data version is read once per turn of the event loop: a commit made
    elsewhere shows to every call that starts after that turn, cached rows included."""

    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        try:
            async with store.transaction(write=True) as conn:
                # A presence row is stored once the user first acts.
                await presence.save(conn, 1, ids[0], Presence("online", None, NOW))
            for status in ("dnd", "away", "online"):
                async with store.transaction() as conn:
                    # Read (and cache) the row as it is now.
                    before = (await presence.get(conn, 1, ids[0])).status
                assert before != status
                with sqlite3.connect(tmp_path / "b24local.db") as other:
                    other.execute(
                        "UPDATE presence SET status = ? WHERE user_id = ?", (status, ids[0])
                    )
                # A call that arrives now is handled on a later turn of the loop.
                await asyncio.sleep(0)
                async with store.transaction() as conn:
                    assert (await presence.get(conn, 1, ids[0])).status == status
        finally:
            await store.close()

    asyncio.run(scenario())


def test_writes_queued_behind_a_commit_are_all_admitted_in_one_turn_despite_reads(tmp_path):
    """Writers that queued while the write lock was taken (here by another process)
    run together in the first turn after it is free: none waits a turn of the event
    loop per writer ahead of it, however many reads fill each turn meanwhile."""
    writers, readers = 20, 300

    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        more = [
            (await admin.add_user(store, NOW, name=f"W{i}", last_name="X")).id
            for i in range(writers)
        ]
        turn = 0
        stop = False
        ran_in_turn: dict[int, int] = {}

        async def tick() -> None:
            nonlocal turn
            while not stop:
                turn += 1
                await asyncio.sleep(0)

        async def read() -> None:
            while not stop:
                async with store.transaction() as conn:
                    await presence.get(conn, 1, ids[0])
                await asyncio.sleep(0)

        async def write(user_id: int) -> None:
            async with store.transaction(write=True) as conn:
                ran_in_turn[user_id] = turn
                await presence.save(conn, 1, user_id, Presence("dnd", None, NOW))

        background = [asyncio.ensure_future(tick())]
        background += [asyncio.ensure_future(read()) for _ in range(readers)]
        other = sqlite3.connect(tmp_path / "b24local.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            calls = [asyncio.ensure_future(write(uid)) for uid in more]
            for _ in range(5):
                await asyncio.sleep(0)  # every writer is queued by now
            other.execute("ROLLBACK")
            await asyncio.gather(*calls)
        finally:
            stop = True
            await asyncio.gather(*background)
            other.close()
            await store.close()
        assert len(set(ran_in_turn.values())) == 1, sorted(ran_in_turn.values())
        assert {uid for uid, s in _committed_statuses(tmp_path).items() if s == "dnd"} == set(more)

    asyncio.run(scenario())


def test_a_write_queued_behind_a_committing_group_is_answered_turns_sooner(tmp_path):
    """While reads keep every turn of the event loop busy, a write that arrives as
    the group ahead of it commits runs in the first turn after that commit returns
    and is answered in the first turn after its own: two turns in all (one more
    allowed for a slow fsync), where handing off through a callback and then a
    future costs two more each time (five in all)."""
    readers = 50

    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        loop = asyncio.get_running_loop()
        turn = 0
        stop = False
        turns: dict[str, tuple[int, int]] = {}

        def tick() -> None:
            nonlocal turn
            turn += 1
            if not stop:
                loop.call_soon(tick)

        async def read() -> None:
            while not stop:
                async with store.transaction() as conn:
                    await presence.get(conn, 1, ids[0])
                time.sleep(0.0004)  # noqa: ASYNC251  # a busy server's work, GIL released
                await asyncio.sleep(0)

        async def write(name: str, user_id: int) -> None:
            start = turn
            async with store.transaction(write=True) as conn:
                await presence.save(conn, 1, user_id, Presence("dnd", None, NOW))
            turns[name] = (start, turn)

        tick()
        background = [asyncio.ensure_future(read()) for _ in range(readers)]
        try:
            for _ in range(3):
                await asyncio.sleep(0)  # the readers fill every turn
            # Both start in one turn: the first commits at once, the second queues.
            await asyncio.gather(write("ahead", ids[1]), write("queued", ids[2]))
        finally:
            stop = True
            await asyncio.gather(*background)
            await store.close()
        start, end = turns["queued"]
        assert end - start <= 3, turns
        assert _committed_statuses(tmp_path)[ids[2]] == "dnd"

    asyncio.run(scenario())


def test_what_a_group_saw_is_forgotten_when_its_commit_fails(tmp_path):
    """A write that joins a group sees the earlier members' changes before they are
    committed; a caller it builds from them is cached. If the group's ``COMMIT``
    then fails, the changes are gone, and so must be what was built from them."""
    from b24local.store import users

    async def scenario() -> None:
        store, ids = await _store(tmp_path)
        user = ids[0]
        cache = store.feed.cache(10)
        first_wrote, let_go = asyncio.Event(), asyncio.Event()

        async def renames() -> None:
            async with store.transaction(write=True) as conn:
                # Checked at COMMIT: a presence for no one fails the whole group.
                await conn.execute(text("PRAGMA defer_foreign_keys = ON"))
                await conn.execute(
                    text("INSERT INTO presence (portal_id, user_id, status) VALUES (1, 999, 'x')")
                )
                await conn.execute(text(f"UPDATE users SET name = 'Ghost' WHERE id = {user}"))
                first_wrote.set()
                await let_go.wait()

        async def builds_a_caller() -> None:
            await first_wrote.wait()
            joined = store.transaction(write=True)
            entering = asyncio.ensure_future(joined.__aenter__())
            await asyncio.sleep(0)  # in the group, waiting for its turn
            let_go.set()
            conn = await entering
            try:
                found = await users.get(conn, 1, user)
                tags = (("users", 1, user),)
                if store.feed.may_put(tags, conn.generation):  # as AuthCache.put does
                    cache.put("caller", found, tags)
            finally:
                await joined.__aexit__(None, None, None)

        try:
            outcomes = await asyncio.gather(renames(), builds_a_caller(), return_exceptions=True)
            assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
            async with store.transaction() as conn:
                assert (await users.get(conn, 1, user)).name != "Ghost"
            kept = cache.get("caller")
            assert kept is None or kept.name != "Ghost"
        finally:
            await store.close()

    asyncio.run(scenario())
