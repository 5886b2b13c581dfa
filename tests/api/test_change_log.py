"""Caches kept exact by the database's change log: two servers on one database,
each with caches of its own (as two processes or two hosts would have), see every
change the other makes, and every change made behind both their backs, on the next
call; a change retires only the entries that read what changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from b24local import admin
from b24local.app import create_app
from b24local.clock import AdjustableClock
from b24local.config import Settings
from b24local.store.engine import create_engine
from conftest import DEV_TOKEN, Server, make_server


@pytest.fixture
def pair(db_url: str, clock: AdjustableClock, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    http, first = make_server(db_url, clock, tmp_path)
    config = Settings(data_dir=tmp_path / "second", db=db_url, dev=True, limits=False)
    other = TestClient(
        create_app(config, clock=clock, dev_token=DEV_TOKEN),
        base_url="http://127.0.0.1:8024",
        raise_server_exceptions=False,
    )
    with http, other:
        yield first, Server(other, clock, first.webhook, first.admin_id)


def _status(server: Server, hook: str | None = None) -> str:
    answer = server.call("im.user.status.get", hook=hook)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def _sql(db_url: str, statement: str) -> None:
    """A change made behind b24local's back (psql, another tool)."""

    async def run() -> None:
        engine = create_engine(db_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    import asyncio

    asyncio.run(run())


def test_a_status_set_through_one_is_read_through_the_other(pair) -> None:
    first, second = pair
    assert _status(first) == _status(second) == "online"
    for writer, reader, status in ((second, first, "dnd"), (first, second, "away")):
        assert writer.call("im.user.status.set", {"STATUS": status}).status_code == 200
        assert _status(reader) == status
        assert _status(writer) == status


def test_workday_transitions_through_one_are_seen_by_the_other(pair) -> None:
    first, second = pair
    assert first.call("timeman.status").json()["result"]["STATUS"] == "CLOSED"
    assert second.call("timeman.open").status_code == 200
    assert first.call("timeman.status").json()["result"]["STATUS"] == "OPENED"
    assert first.call("timeman.pause").status_code == 200
    assert second.call("timeman.status").json()["result"]["STATUS"] == "PAUSED"


def test_a_webhook_removed_elsewhere_is_refused_at_once(pair) -> None:
    first, second = pair
    user = first.add_user("Ann")
    hook = first.add_webhook(user, ["im"])
    assert _status(first, hook) == _status(second, hook) == "online"
    hooks = second.run(admin.list_webhooks, second.store)
    (removed,) = [h for h in hooks if h.user_id == user]
    second.run(admin.remove_webhook, second.store, removed.id)
    for server in (first, second):
        answer = server.call("im.user.status.get", hook=hook)
        assert answer.status_code == 401
        assert answer.json()["error"] == "NO_AUTH_FOUND"


def test_changes_behind_the_servers_backs_are_seen(pair, db_url: str) -> None:
    first, second = pair
    user = first.add_user("Ann")
    hook = first.add_webhook(user, ["im"])
    assert first.call("im.user.status.set", {"STATUS": "away"}, hook=hook).status_code == 200
    assert _status(first, hook) == _status(second, hook) == "away"
    _sql(db_url, f"UPDATE presence SET status = 'dnd' WHERE user_id = {user}")
    assert _status(first, hook) == _status(second, hook) == "dnd"
    _sql(db_url, f"UPDATE users SET active = false WHERE id = {user}")
    for server in (first, second):
        answer = server.call("im.user.status.get", hook=hook)
        assert answer.json()["error"] == "INVALID_CREDENTIALS"


def test_a_status_change_retires_that_presence_only(pair) -> None:
    first, second = pair
    user = first.add_user("Ann")
    hook = first.add_webhook(user, ["im"])
    assert _status(first, hook) == "online"
    assert _status(first) == "online"
    caches = first.store.feed.caches
    kept = [set(cache) for cache in caches]
    assert second.call("im.user.status.set", {"STATUS": "dnd"}).status_code == 200
    assert _status(first, hook) == "online"  # reads the log, retires the admin's presence
    now = [set(cache) for cache in caches]
    lost = set().union(*kept) - set().union(*now)
    # Every caller stays, and so does the other person's presence.
    assert lost, "the admin's presence was retired"
    assert all(_reads(key) == {("presence", 1, first.admin_id)} for key in lost), lost
    assert _status(first) == "dnd"


def _reads(key) -> set[tuple]:
    from b24local.store.snapshot import tags_of

    statement_key = key[1][0] if key[0] == "made" else key
    statement, items = statement_key
    return set(tags_of(statement, dict(items)))


def test_a_reset_through_one_is_seen_by_the_other(pair) -> None:
    first, second = pair
    user = first.add_user("Ann")
    hook = first.add_webhook(user, ["im"])
    assert first.call("im.user.status.set", {"STATUS": "dnd"}).status_code == 200
    assert _status(second) == "dnd" and _status(second, hook) == "online"
    auth = {"Authorization": f"Bearer {DEV_TOKEN}"}
    assert first.http.post("/_b24local/reset", headers=auth).status_code == 200
    # The other server's cached status and caller go with the rows they were read from.
    assert _status(second) == "online"
    assert second.call("im.user.status.get", hook=hook).json()["error"] == "NO_AUTH_FOUND"
