"""Whoever a call authenticates as is remembered between calls (on SQLite) only
until something is committed: changes made by another process — as the CLI
makes them, through a store of its own — take effect on the very next call."""

from __future__ import annotations

from b24local import admin


def elsewhere(server, db_url: str, work) -> None:
    """Run ``work(store)`` through a second store on the same database, as another
    process (the CLI) would."""

    async def go() -> None:
        store = await admin.open_store(db_url)
        try:
            await work(store)
        finally:
            await store.close()

    server.run(go)


def test_a_webhook_removed_elsewhere_stops_at_once(server, db_url):
    hook = server.add_webhook(server.add_user(), ["im"])
    for _ in range(3):
        assert server.call("im.user.status.get", hook=hook).status_code == 200
    webhook_id = int(server.run(admin.list_webhooks, server.store)[-1].id)
    elsewhere(server, db_url, lambda store: admin.remove_webhook(store, webhook_id))
    answer = server.call("im.user.status.get", hook=hook)
    assert (answer.status_code, answer.json()["error"]) == (401, "NO_AUTH_FOUND")


def test_a_user_deactivated_elsewhere_is_refused_at_once(server, db_url):
    user_id = server.add_user()
    hook = server.add_webhook(user_id, ["im"])
    assert server.call("im.user.get", hook=hook).json()["result"]["id"] == user_id
    elsewhere(
        server,
        db_url,
        lambda store: admin.update_user(store, server.clock.now(), user_id, active=False),
    )
    answer = server.call("im.user.get", hook=hook)
    assert (answer.status_code, answer.json()["error"]) == (403, "INVALID_CREDENTIALS")


def test_a_department_change_elsewhere_is_seen_at_once(server, db_url):
    user_id = server.add_user()
    hook = server.add_webhook(user_id, ["im"])
    assert server.call("im.user.get", hook=hook).json()["result"]["departments"] == [1]
    team = server.run(admin.add_department, server.store, name="Team").id
    elsewhere(
        server,
        db_url,
        lambda store: admin.update_user(store, server.clock.now(), user_id, department_ids=[team]),
    )
    assert server.call("im.user.get", hook=hook).json()["result"]["departments"] == [team]


def test_a_portal_blocked_elsewhere_is_refused_at_once(server, db_url):
    assert server.call("server.time").status_code == 200
    elsewhere(server, db_url, lambda store: admin.update_portal(store, None, status="blocked"))
    answer = server.call("server.time")
    assert (answer.status_code, answer.json()["error"]) == (503, "OVERLOAD_LIMIT")
    elsewhere(server, db_url, lambda store: admin.update_portal(store, None, status="active"))
    assert server.call("server.time").status_code == 200


def test_a_remembered_webhook_still_expires_on_the_clock(server):
    """Expiry is time, not a commit: a webhook that worked a moment ago stops when
    its time is up, with nothing written in between."""
    from datetime import timedelta

    from sqlalchemy import update

    from b24local.store.tables import webhooks

    hook = server.add_webhook(server.add_user(), ["im"])
    until = server.clock.now() + timedelta(seconds=10)

    async def expire() -> None:
        async with server.store.transaction(write=True) as conn:
            await conn.execute(update(webhooks).values(expires_at=until))

    server.run(expire)
    for _ in range(2):
        assert server.call("im.user.status.get", hook=hook).status_code == 200
    server.clock.advance(10)
    assert server.call("im.user.status.get", hook=hook).status_code == 401


def test_a_status_set_elsewhere_is_seen_at_once(server, db_url):
    """The rows of hot lookups are kept between calls too, under the same rule."""
    from b24local.scopes.im.presence import Presence
    from b24local.store import presence

    for _ in range(2):
        assert server.call("im.user.status.get").json()["result"] == "online"

    async def set_dnd(store) -> None:
        async with store.transaction(write=True) as conn:
            await presence.save(conn, 1, server.admin_id, Presence("dnd", None, None))

    elsewhere(server, db_url, set_dnd)
    assert server.call("im.user.status.get").json()["result"] == "dnd"


def test_timeman_settings_changed_elsewhere_apply_at_once(server, db_url):
    assert server.call("timeman.settings").json()["result"]["UF_TIMEMAN"] is True
    elsewhere(
        server,
        db_url,
        lambda store: admin.timeman_settings(store, user_id=server.admin_id, enabled=False),
    )
    assert server.call("timeman.settings").json()["result"]["UF_TIMEMAN"] is False
