"""Who may read and change whose workday: the user, an administrator, or the head of
a department the user belongs to (directly or through parent departments).

The structure built for every test::

    Company (1, head: admin)
    ├── Sales (2, head: Ann)
    │   └── Sales East (3, head: Bob; members Bob, Carl, Dave)
    └── Support (4, no head; member Sam)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from b24local import admin
from b24local.store.tables import workdays

METHODS = ["timeman.status", "timeman.open", "timeman.pause", "timeman.close", "timeman.settings"]
CHANGING = ["timeman.open", "timeman.pause", "timeman.close"]
# The real wrapper's AccessException, its message after "Access denied!".
ACCESS_DENIED = {
    "error": "ACCESS_DENIED",
    "error_description": (
        "Access denied! User does not have access to managing other users work time"
    ),
}
USER_NOT_FOUND = {"error": "", "error_description": "User not found"}


@dataclass
class Org:
    ids: dict[str, int]
    hooks: dict[str, str]


def result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def status_of(server, user_id: int) -> dict:
    """The user's day as the administrator sees it."""
    return result(server.call("timeman.status", {"USER_ID": user_id}))


def day_ids(server, user_id: int) -> list[int]:
    async def go():
        async with server.store.transaction() as conn:
            rows = await conn.execute(select(workdays.c.id).where(workdays.c.user_id == user_id))
            return sorted(row.id for row in rows)

    return server.run(go)


def events_of(server, user_id: int) -> list[dict]:
    return [
        event
        for workday_id in day_ids(server, user_id)
        for event in server.run(admin.workday_history, server.store, workday_id)
    ]


@pytest.fixture
def org(server) -> Org:
    ann = server.add_user("Ann", "Sales")
    sales = server.run(admin.add_department, server.store, name="Sales", parent_id=1, head_id=ann)
    server.run(admin.update_user, server.store, server.clock.now(), ann, department_ids=[sales.id])
    bob = server.add_user("Bob", "East")
    east = server.run(
        admin.add_department, server.store, name="Sales East", parent_id=sales.id, head_id=bob
    )
    server.run(admin.update_user, server.store, server.clock.now(), bob, department_ids=[east.id])
    support = server.run(admin.add_department, server.store, name="Support", parent_id=1)
    assert (sales.id, east.id, support.id) == (2, 3, 4)
    carl = server.add_user("Carl", "East", department_ids=[east.id])
    dave = server.add_user("Dave", "East", department_ids=[east.id])
    sam = server.add_user("Sam", "Support", department_ids=[support.id])
    ids = {"admin": 1, "ann": ann, "bob": bob, "carl": carl, "dave": dave, "sam": sam}
    hooks = {name: server.add_webhook(user_id, ["timeman"]) for name, user_id in ids.items()}
    hooks["admin"] = server.webhook
    return Org(ids, hooks)


def act(server, org: Org, actor: str, method: str, target: str):
    return act_on(server, org, actor, method, org.ids[target])


def act_on(server, org: Org, actor: str, method: str, user_id: int):
    return server.call(method, {"USER_ID": user_id}, hook=org.hooks[actor])


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["admin", "ann", "bob"])
def test_supervisors_run_a_members_day(server, org, actor):
    carl = org.ids["carl"]
    opened = result(act(server, org, actor, "timeman.open", "carl"))
    assert opened["STATUS"] == "OPENED"
    assert opened["TIME_START"] == "2026-03-02T08:30:00+00:00"
    server.clock.advance(3600)
    assert result(act(server, org, actor, "timeman.pause", "carl"))["STATUS"] == "PAUSED"
    server.clock.advance(600)
    assert result(act(server, org, actor, "timeman.open", "carl"))["STATUS"] == "OPENED"
    server.clock.advance(3000)
    closed = result(act(server, org, actor, "timeman.close", "carl"))
    assert closed["STATUS"] == "CLOSED"
    assert closed["DURATION"] == "01:50:00"
    assert closed["TIME_LEAKS"] == "00:10:00"
    assert result(act(server, org, actor, "timeman.status", "carl")) == closed
    # It is Carl's day, and Carl sees it too.
    assert result(server.call("timeman.status", hook=org.hooks["carl"])) == closed
    assert day_ids(server, org.ids[actor]) == []
    assert {e["actor_id"] for e in events_of(server, carl)} == {org.ids[actor]}
    assert {e["user_id"] for e in events_of(server, carl)} == {carl}


@pytest.mark.parametrize("actor", ["admin", "ann", "bob"])
def test_supervisors_read_a_members_settings_without_admin(server, org, actor):
    answer = result(act(server, org, actor, "timeman.settings", "carl"))
    assert "ADMIN" not in answer
    assert answer["UF_TIMEMAN"] is True


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("actor", ["carl", "ann", "bob", "dave", "sam"])
def test_anyone_may_name_themselves(server, org, actor, method):
    if method == "timeman.close":
        assert act(server, org, actor, "timeman.open", actor).status_code == 200
    assert act(server, org, actor, method, actor).status_code == 200


@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("admin", "sam"),
        ("admin", "ann"),
        ("ann", "bob"),
        ("ann", "dave"),
    ],
)
def test_rights_reach_down_the_tree(server, org, actor, target):
    assert result(act(server, org, actor, "timeman.open", target))["STATUS"] == "OPENED"


@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("dave", "carl"),  # a peer
        ("carl", "bob"),  # a member and their head
        ("bob", "ann"),  # a head and the head above
        ("ann", "sam"),  # a head and a sibling department's member
        ("bob", "sam"),
        ("sam", "carl"),
        ("carl", "admin"),
        ("ann", "admin"),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_no_right_is_denied_and_changes_nothing(server, org, actor, target, method):
    target_id = org.ids[target]
    result(server.call("timeman.open", {"USER_ID": target_id}))
    before = status_of(server, target_id)
    events = events_of(server, target_id)
    server.clock.advance(3600)
    response = act(server, org, actor, method, target)
    assert response.status_code == 403
    assert response.json() == ACCESS_DENIED
    assert status_of(server, target_id) == before
    assert events_of(server, target_id) == events


def test_denied_before_a_day_exists_creates_none(server, org):
    response = act(server, org, "dave", "timeman.open", "carl")
    assert response.json() == ACCESS_DENIED
    assert day_ids(server, org.ids["carl"]) == []
    assert status_of(server, org.ids["carl"])["STATUS"] == "CLOSED"


def test_denied_with_bad_parameters_too(server, org):
    response = server.call(
        "timeman.open",
        {"USER_ID": org.ids["carl"], "TIME": "2026-03-02T08:00:00+00:00", "REPORT": "r"},
        hook=org.hooks["dave"],
    )
    assert response.status_code == 403
    assert response.json() == ACCESS_DENIED
    assert day_ids(server, org.ids["carl"]) == []


def test_a_member_of_two_departments(server, org):
    eve = server.add_user("Eve", "Both", department_ids=[4, 2])
    assert result(act_on(server, org, "ann", "timeman.open", eve))["STATUS"] == "OPENED"
    assert act_on(server, org, "bob", "timeman.status", eve).json() == ACCESS_DENIED


def test_another_administrator_may_manage_anyone(server, org):
    boss = server.add_user("Bea", "Boss", admin=True, department_ids=[4])
    hook = server.add_webhook(boss, ["timeman"])
    for target in ("carl", "ann", "admin"):
        response = server.call("timeman.open", {"USER_ID": org.ids[target]}, hook=hook)
        assert result(response)["STATUS"] == "OPENED"


def test_rights_follow_the_structure(server, org):
    carl = org.ids["carl"]
    assert act(server, org, "bob", "timeman.status", "carl").status_code == 200
    server.run(admin.set_department_head, server.store, 3, None)
    assert act(server, org, "bob", "timeman.status", "carl").json() == ACCESS_DENIED
    assert act(server, org, "ann", "timeman.status", "carl").status_code == 200
    server.run(admin.update_user, server.store, server.clock.now(), carl, department_ids=[4])
    assert act(server, org, "ann", "timeman.status", "carl").json() == ACCESS_DENIED
    assert act(server, org, "admin", "timeman.status", "carl").status_code == 200


@pytest.mark.parametrize("actor", ["admin", "ann", "bob"])
def test_heads_are_admin_in_their_own_settings(server, org, actor):
    assert result(server.call("timeman.settings", hook=org.hooks[actor]))["ADMIN"] is True


@pytest.mark.parametrize("actor", ["carl", "dave", "sam"])
def test_members_are_not_admin_in_their_own_settings(server, org, actor):
    assert result(server.call("timeman.settings", hook=org.hooks[actor]))["ADMIN"] is False


# --- unknown users and scopes -------------------------------------------------------------------


@pytest.mark.parametrize("user_id", [999, "abc", 0])
@pytest.mark.parametrize("actor", ["admin", "ann", "bob"])
@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_user_is_not_found_for_a_supervisor(server, org, actor, method, user_id):
    response = server.call(method, {"USER_ID": user_id}, hook=org.hooks[actor])
    assert response.status_code == 400
    assert response.json() == USER_NOT_FOUND


@pytest.mark.parametrize("user_id", [999, "abc", 0])
@pytest.mark.parametrize("actor", ["carl", "sam"])
@pytest.mark.parametrize("method", METHODS)
def test_someone_who_manages_no_one_is_denied_before_the_lookup(
    server, org, actor, method, user_id
):
    # As the real wrapper checks the right first: no probing for who exists.
    response = server.call(method, {"USER_ID": user_id}, hook=org.hooks[actor])
    assert response.status_code == 403
    assert response.json() == ACCESS_DENIED


@pytest.mark.parametrize("method", METHODS)
def test_the_timeman_scope_is_required(server, org, method):
    hook = server.add_webhook(org.ids["carl"], ["im"])
    response = server.call(method, hook=hook)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert day_ids(server, org.ids["carl"]) == []


def test_the_timeman_scope_is_enough(server, org):
    assert result(server.call("timeman.open", hook=org.hooks["carl"]))["STATUS"] == "OPENED"
