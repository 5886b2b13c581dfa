"""Reset, named snapshots and health under --dev, through HTTP, on both databases."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from b24local import admin, devstate
from b24local.store.engine import Store, create_engine

AUTH = {"Authorization": "Bearer test-dev-token"}


def user_ids(server) -> list[int]:
    return sorted(int(u["ID"]) for u in server.call("user.get").json()["result"])


def new_webhook_id(server) -> int:
    hook, _ = server.run(
        admin.add_webhook, server.store, server.clock.now(), user_id=1, scopes=["user"]
    )
    return hook.id


def test_reset_goes_back_to_the_state_after_start(server):
    first_user = server.add_user("Ada", "Lovelace")
    first_hook = new_webhook_id(server)
    assert server.call("im.user.status.set", {"STATUS": "dnd"}).json()["result"] is True
    assert user_ids(server) == [1, first_user]

    answer = server.http.post("/_b24local/reset", headers=AUTH)
    assert answer.status_code == 200
    body = answer.json()
    assert body["reset"] is True
    assert isinstance(body["ms"], float)

    assert user_ids(server) == [1]
    assert server.call("im.user.status.get").json()["result"] == "online"
    # IDs start over where they stood: a test's fixtures get the same IDs every time.
    assert server.add_user("Ada", "Lovelace") == first_user
    assert new_webhook_id(server) == first_hook


def test_reset_clears_forced_faults(server):
    added = server.http.post(
        "/_b24local/faults", headers=AUTH, json={"error": "QUERY_LIMIT_EXCEEDED", "times": 5}
    )
    assert added.status_code == 200
    assert server.call("user.current").status_code == 503
    server.http.post("/_b24local/reset", headers=AUTH)
    assert server.http.get("/_b24local/faults", headers=AUTH).json()["faults"] == []
    assert server.call("user.current").status_code == 200


def test_reset_empties_the_rate_buckets(server_with):
    with server_with(limits=True, rate_threshold=2, rate_drain=0.001) as server:
        assert server.call("user.current").status_code == 200
        assert server.call("user.current").status_code == 200
        refused = server.call("user.current")
        assert refused.json()["error"] == "QUERY_LIMIT_EXCEEDED"
        server.http.post("/_b24local/reset", headers=AUTH)
        assert server.call("user.current").status_code == 200


def test_reset_runs_registered_hooks(server):
    seen: list[str] = []

    async def later() -> None:
        seen.append("async")

    runtime = server.http.app.state.runtime
    runtime.reset_hooks.extend([lambda: seen.append("plain"), later])
    server.http.post("/_b24local/reset", headers=AUTH)
    assert seen == ["plain", "async"]


def test_a_snapshot_saved_and_restored(server):
    ada = server.add_user("Ada", "Lovelace")
    saved = server.http.put("/_b24local/snapshots/with-ada", headers=AUTH)
    assert saved.status_code == 200
    assert saved.json()["name"] == "with-ada"
    assert saved.json()["taken_at"] == "2026-03-02T08:30:00+00:00"
    assert saved.json()["rows"] > 0

    grace = server.add_user("Grace", "Hopper")
    server.call("im.user.status.set", {"STATUS": "away"})
    assert user_ids(server) == [1, ada, grace]

    restored = server.http.post("/_b24local/snapshots/with-ada/restore", headers=AUTH)
    assert restored.status_code == 200
    assert restored.json()["restored"] == "with-ada"
    assert user_ids(server) == [1, ada]
    assert server.call("im.user.status.get").json()["result"] == "online"
    # The snapshot stays: it can be restored again.
    server.add_user("Linus", "Torvalds")
    server.http.post("/_b24local/snapshots/with-ada/restore", headers=AUTH)
    assert user_ids(server) == [1, ada]
    # A reset still goes back to the start, not to the snapshot.
    server.http.post("/_b24local/reset", headers=AUTH)
    assert user_ids(server) == [1]


def test_snapshots_listed_shown_and_deleted(server):
    for name in ("b", "a.1_x-Y"):
        assert server.http.put(f"/_b24local/snapshots/{name}", headers=AUTH).status_code == 200
    listed = server.http.get("/_b24local/snapshots", headers=AUTH).json()["snapshots"]
    assert [s["name"] for s in listed] == ["a.1_x-Y", "b"]
    assert server.http.get("/_b24local/snapshots/b", headers=AUTH).json()["name"] == "b"

    dropped = server.http.delete("/_b24local/snapshots/b", headers=AUTH)
    assert [s["name"] for s in dropped.json()["snapshots"]] == ["a.1_x-Y"]
    for response in (
        server.http.get("/_b24local/snapshots/b", headers=AUTH),
        server.http.delete("/_b24local/snapshots/b", headers=AUTH),
        server.http.post("/_b24local/snapshots/b/restore", headers=AUTH),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "NOT_FOUND"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "name", ["x" * 65, "a b", "%2e%2e", ".hidden", "-x", "semi;colon", "%C3%A9", "a%00"]
)
def test_bad_snapshot_names(server, name):
    response = server.http.put(f"/_b24local/snapshots/{name}", headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] in ("ERROR_ARGUMENT", "ERROR_BAD_ENCODING")
    assert server.http.get("/_b24local/snapshots", headers=AUTH).json() == {"snapshots": []}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_snapshots_are_bounded(server, monkeypatch):
    monkeypatch.setattr(devstate, "MAX_SNAPSHOTS", 2)
    for name in ("one", "two"):
        assert server.http.put(f"/_b24local/snapshots/{name}", headers=AUTH).status_code == 200
    refused = server.http.put("/_b24local/snapshots/three", headers=AUTH)
    assert refused.status_code == 400
    assert "at most 2" in refused.json()["error_description"]
    # Saving again under a name already kept replaces it.
    assert server.http.put("/_b24local/snapshots/two", headers=AUTH).status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_b24local/reset"),
        ("GET", "/_b24local/snapshots"),
        ("PUT", "/_b24local/snapshots/a"),
        ("POST", "/_b24local/snapshots/a/restore"),
        ("DELETE", "/_b24local/snapshots/a"),
    ],
)
def test_state_controls_need_the_token(server, method, path):
    server.add_user("Ada", "Lovelace")
    response = server.http.request(method, path, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert user_ids(server) == [1, 2]


def test_health_answers_without_a_token(server):
    response = server.http.get("/_b24local/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_health_is_503_when_the_store_fails(server, tmp_path):
    runtime = server.http.app.state.runtime
    working = runtime.store
    # A database without the schema: the probe fails as a lost one would.
    broken = Store(create_engine(f"sqlite:///{tmp_path}/empty.db"))
    runtime.store = broken
    try:
        response = server.http.get("/_b24local/health")
    finally:
        runtime.store = working
        server.run(broken.close)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_state_controls_without_dev(server_with):
    with server_with(dev=False) as server:
        assert server.http.post("/_b24local/reset", headers=AUTH).status_code == 404
        # The health check stays: a load balancer in front of a team's server asks it.
        health = server.http.get("/_b24local/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_reset_outlasts_a_transaction_that_takes_tables_in_another_order(server, db_url):
    """A call in flight (of this process or another) holds a table the reset has
    yet to lock, then reads one the reset locked already: PostgreSQL breaks the
    deadlock by failing one of them. The reset tries again once the call is over,
    and the call is not the one that fails."""
    from sqlalchemy import func, select, text

    from b24local.store.capture import _TABLES

    added = server.add_user("Ada", "Lovelace")
    other = Store(create_engine(db_url))
    held: dict = {}

    async def begin() -> None:
        held["conn"] = conn = await other.engine.connect()
        await conn.begin()
        await conn.execute(select(func.count()).select_from(_TABLES[-1]))

    async def waiting_locks() -> int:
        async with other.engine.connect() as conn:
            found = await conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            return found.scalar_one()

    async def read_first_then_commit() -> None:
        conn = held["conn"]
        await conn.execute(select(func.count()).select_from(_TABLES[0]))
        await conn.commit()
        await conn.close()

    server.run(begin)
    try:
        with ThreadPoolExecutor(1) as pool:
            reset = pool.submit(server.http.post, "/_b24local/reset", headers=AUTH)
            deadline = time.monotonic() + 10
            while server.run(waiting_locks) == 0:  # the reset waits for our table
                assert time.monotonic() < deadline and not reset.done()
                time.sleep(0.02)
            server.run(read_first_then_commit)  # the call in flight goes on
            answer = reset.result(timeout=30)
        assert answer.status_code == 200, answer.text
        assert added not in user_ids(server)
    finally:
        server.run(other.close)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_store_that_fails_a_reset_or_snapshot_is_a_clear_503(server, tmp_path):
    assert server.http.put("/_b24local/snapshots/kept", headers=AUTH).status_code == 200
    runtime = server.http.app.state.runtime
    working = runtime.store
    # A database without the schema: every table's statement fails.
    broken = Store(create_engine(f"sqlite:///{tmp_path}/empty.db"))
    runtime.store = broken
    try:
        answers = [
            server.http.post("/_b24local/reset", headers=AUTH),
            server.http.put("/_b24local/snapshots/new", headers=AUTH),
            server.http.post("/_b24local/snapshots/kept/restore", headers=AUTH),
        ]
    finally:
        runtime.store = working
        server.run(broken.close)
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "STORE_UNAVAILABLE"
    assert [
        s["name"] for s in server.http.get("/_b24local/snapshots", headers=AUTH).json()["snapshots"]
    ] == ["kept"]
