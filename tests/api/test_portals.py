"""Several portals in one server: nothing of one is visible from another, through HTTP.

Two portals share the server: the default one ("localhost", reached by any unknown
host or a bare IP) and "acme.localhost" (Europe/Berlin). User and department IDs
are per portal, so the same number names a different person or department on each;
the tests tell them apart by name.

    localhost                              acme.localhost
    1 Admin (head of Company, Sales)        1 Admin (head of Company)
    2 Alice Local, in Sales                 2 Bob Acme, head of Engineering
    3 Dan Local, in Sales                   3 Cleo Acme, in Research
    departments 1 Company, 2 Sales          4 Eve Acme, in Company
                                            departments 1 Company, 2 Engineering,
                                            3 Research (under Engineering)

Alice and Bob share an e-mail address and have different passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from b24local import admin
from loginform import post_login

ACME = "acme.localhost"
ACME_HOST = "acme.localhost:8024"
LOCAL_HOST = "127.0.0.1:8024"  # the TestClient's own host: the default portal
SCOPES = ["department", "im", "timeman", "user"]
REDIRECT = "https://acme-app.example/callback"
LOCAL_REDIRECT = "https://local-app.example/callback"
SHARED_EMAIL = "same.person@example.com"
ALICE_PASSWORD = "alice-local-pw"
BOB_PASSWORD = "bob-acme-pw"
ADMIN_PASSWORD = "local-admin-pw"
NO_AUTH = {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}


@dataclass
class AppCreds:
    client_id: str
    secret: str


@dataclass
class World:
    local_hook: str  # localhost, Admin (1)
    alice_hook: str  # localhost, Alice (2)
    acme_admin_hook: str  # acme, Admin (1)
    bob_hook: str  # acme, Bob (2)
    acme_app: AppCreds
    local_app: AppCreds
    bob_token: str  # acme app, Bob
    bob_refresh: str
    local_token: str  # localhost app, Admin
    acme_member_id: str
    local_member_id: str


def build(server) -> World:
    """Both portals, their people, departments, webhooks, apps and tokens."""
    now = server.clock.now()
    store = server.store

    def user(name, last_name, domain=None, **fields) -> int:
        return server.run(
            admin.add_user, store, now, name=name, last_name=last_name, domain=domain, **fields
        ).id

    def department(name, domain=None, **fields) -> int:
        return server.run(admin.add_department, store, name=name, domain=domain, **fields).id

    def hook(user_id, domain=None) -> str:
        made, code = server.run(
            admin.add_webhook, store, now, user_id=user_id, scopes=SCOPES, domain=domain
        )
        return f"/rest/{made.user_id}/{code}/"

    def app(name, redirect, domain=None) -> AppCreds:
        made, secret = server.run(
            admin.add_app,
            store,
            now,
            name=name,
            scopes=SCOPES,
            redirect_uri=redirect,
            domain=domain,
        )
        return AppCreds(made.client_id, secret)

    # The default portal.
    sales = department("Sales", head_id=1)
    alice = user("Alice", "Local", email=SHARED_EMAIL, department_ids=[sales])
    dan = user("Dan", "Local", department_ids=[sales])
    assert (sales, alice, dan) == (2, 2, 3)

    # acme.localhost, its own IDs from 1 again.
    made = server.run(admin.add_portal, store, now, domain=ACME, time_zone="Europe/Berlin")
    assert made.admin.id == 1
    bob = user("Bob", "Acme", ACME, email=SHARED_EMAIL)
    engineering = department("Engineering", ACME, head_id=bob)
    research = department("Research", ACME, parent_id=engineering)
    server.run(admin.update_user, store, now, bob, department_ids=[engineering], domain=ACME)
    cleo = user("Cleo", "Acme", ACME, department_ids=[research])
    eve = user("Eve", "Acme", ACME)
    assert (bob, engineering, research, cleo, eve) == (2, 2, 3, 3, 4)

    server.run(admin.set_password, store, alice, ALICE_PASSWORD)
    server.run(admin.set_password, store, 1, ADMIN_PASSWORD)
    server.run(admin.set_password, store, bob, BOB_PASSWORD, ACME)

    acme_app = app("Acme Sync", REDIRECT, ACME)
    local_app = app("Local Sync", LOCAL_REDIRECT)
    bob_pair, _ = server.run(
        admin.issue_app_token, store, now, client_id=acme_app.client_id, user_id=bob, domain=ACME
    )
    local_pair, _ = server.run(
        admin.issue_app_token, store, now, client_id=local_app.client_id, user_id=1
    )
    portals = {p.domain: p for p in server.run(admin.list_portals, store)}
    return World(
        local_hook=server.webhook,
        alice_hook=hook(alice),
        acme_admin_hook=hook(1, ACME),
        bob_hook=hook(bob, ACME),
        acme_app=acme_app,
        local_app=local_app,
        bob_token=bob_pair.access_token,
        bob_refresh=bob_pair.refresh_token,
        local_token=local_pair.access_token,
        acme_member_id=portals[ACME].member_id,
        local_member_id=portals["localhost"].member_id,
    )


@pytest.fixture
def world(server) -> World:
    return build(server)


# --- helpers -------------------------------------------------------------------------------


def call(server, hook: str, method: str, params: dict | None = None, *, host: str = LOCAL_HOST):
    return server.http.post(f"{hook}{method}", json=params or {}, headers={"Host": host})


def with_token(server, token: str, method: str, params: dict | None = None, *, host: str):
    return server.http.post(
        f"/rest/{method}", json={"auth": token, **(params or {})}, headers={"Host": host}
    )


def result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


def names(users: list[dict]) -> list[tuple[str, str]]:
    return [(u["ID"], f"{u['NAME']} {u['LAST_NAME']}") for u in users]


def authorize(server, client_id: str, *, host: str, login=None, password=None, **query):
    """The log-in page; with ``login`` the form is posted."""
    params = {"client_id": client_id, "state": "st", **query}
    headers = {"Host": host}
    if login is None:
        return server.http.get(
            "/oauth/authorize/", params=params, headers=headers, follow_redirects=False
        )
    return post_login(server.http, params, login, password or "", headers)


def redirect_query(response, redirect: str) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def token_endpoint(server, creds: AppCreds, *, host: str = LOCAL_HOST, **params):
    return server.http.get(
        "/oauth/token/",
        params={"client_id": creds.client_id, "client_secret": creds.secret, **params},
        headers={"Host": host},
    )


def local_refresh_token(server, world: World) -> str:
    """A fresh refresh token of the default portal's app, issued to the admin."""
    issued = server.run(
        admin.issue_app_token,
        server.store,
        server.clock.now(),
        client_id=world.local_app.client_id,
        user_id=1,
    )
    return issued[0].refresh_token


def acme_code(server, world: World) -> str:
    """Bob logs in on acme and authorises the acme app; the session is forgotten."""
    server.http.cookies.clear()
    answer = authorize(
        server, world.acme_app.client_id, host=ACME_HOST, login="2", password=BOB_PASSWORD
    )
    server.http.cookies.clear()
    return redirect_query(answer, REDIRECT)["code"]


# --- credentials of one portal on another --------------------------------------------------


def test_a_webhook_works_only_on_its_own_portal(server, world):
    # Each on its own host: the caller is that portal's user 2.
    assert result(call(server, world.alice_hook, "user.current"))["NAME"] == "Alice"
    assert result(call(server, world.bob_hook, "user.current", host=ACME_HOST))["NAME"] == "Bob"
    # Bob's webhook (user 2 exists on both portals) on the default portal's hosts.
    for host in (LOCAL_HOST, "localhost:8024", "unknown.example:8024"):
        refused = call(server, world.bob_hook, "user.current", host=host)
        assert refused.status_code == 401, host
        assert refused.json() == NO_AUTH
    # And the default portal's webhooks on acme.
    for hook in (world.alice_hook, world.local_hook):
        refused = call(server, hook, "user.current", host=ACME_HOST)
        assert refused.status_code == 401
        assert refused.json() == NO_AUTH


def test_a_token_works_only_on_its_own_portal(server, world):
    me = result(with_token(server, world.bob_token, "user.current", host=ACME_HOST))
    assert (me["ID"], me["NAME"]) == ("2", "Bob")
    info = result(with_token(server, world.bob_token, "app.info", host=ACME_HOST))
    assert info["CODE"] == world.acme_app.client_id

    for host in (LOCAL_HOST, "localhost:8024"):
        refused = with_token(server, world.bob_token, "user.current", host=host)
        assert refused.status_code == 401
        assert refused.json() == NO_AUTH
    refused = with_token(server, world.local_token, "user.current", host=ACME_HOST)
    assert refused.status_code == 401
    assert refused.json() == NO_AUTH
    # The refusals did not spoil the tokens at home.
    assert result(with_token(server, world.local_token, "user.current", host=LOCAL_HOST))[
        "NAME"
    ] == ("Admin")


# --- users, cards, departments -------------------------------------------------------------


def test_user_get_lists_only_the_portals_own_people(server, world):
    local = server.call("user.get").json()
    assert (local["total"], names(local["result"])) == (
        3,
        [("1", "Admin "), ("2", "Alice Local"), ("3", "Dan Local")],
    )
    acme = call(server, world.acme_admin_hook, "user.get", host=ACME_HOST).json()
    assert (acme["total"], names(acme["result"])) == (
        4,
        [("1", "Admin "), ("2", "Bob Acme"), ("3", "Cleo Acme"), ("4", "Eve Acme")],
    )
    assert result(server.call("user.get"))[0]["EMAIL"] == "admin@localhost"
    acme_admin = result(call(server, world.acme_admin_hook, "user.get", {"ID": 1}, host=ACME_HOST))
    assert acme_admin[0]["EMAIL"] == "admin@acme.localhost"


def test_user_get_by_id_names_the_local_person(server, world):
    for user_id, local, acme in ((2, "Alice Local", "Bob Acme"), (3, "Dan Local", "Cleo Acme")):
        assert names(result(server.call("user.get", {"ID": user_id}))) == [(str(user_id), local)]
        found = result(call(server, world.bob_hook, "user.get", {"ID": user_id}, host=ACME_HOST))
        assert names(found) == [(str(user_id), acme)]
    # Eve (4) is acme's only.
    missing = server.call("user.get", {"FILTER": {"ID": 4}}).json()
    assert (missing["result"], missing["total"]) == ([], 0)
    # Filters run within the portal: a name and an e-mail of the other portal find nobody.
    assert result(server.call("user.get", {"FILTER": {"NAME": "Bob"}})) == []
    by_email = result(server.call("user.get", {"FILTER": {"EMAIL": SHARED_EMAIL}}))
    assert names(by_email) == [("2", "Alice Local")]
    by_search = result(
        call(
            server, world.bob_hook, "user.get", {"FILTER": {"NAME_SEARCH": "alice"}}, host=ACME_HOST
        )
    )
    assert by_search == []


def test_user_get_by_department_uses_the_portals_structure(server, world):
    def members(hook, department_id, host=LOCAL_HOST):
        filter_ = {"FILTER": {"UF_DEPARTMENT": department_id}}
        return names(result(call(server, hook, "user.get", filter_, host=host)))

    assert members(world.local_hook, 2) == [("2", "Alice Local"), ("3", "Dan Local")]
    assert members(world.bob_hook, 2, ACME_HOST) == [("2", "Bob Acme")]
    assert members(world.local_hook, 3) == []
    assert members(world.bob_hook, 3, ACME_HOST) == [("3", "Cleo Acme")]
    assert members(world.bob_hook, 1, ACME_HOST) == [("1", "Admin "), ("4", "Eve Acme")]
    assert result(server.call("user.get", {"ID": 2}))[0]["UF_DEPARTMENT"] == [2]
    cleo = result(call(server, world.bob_hook, "user.get", {"ID": 3}, host=ACME_HOST))
    assert cleo[0]["UF_DEPARTMENT"] == [3]


def test_im_user_get_is_the_local_persons_card(server, world):
    alice = result(server.call("im.user.get", {"ID": 2}))
    assert (alice["id"], alice["name"], alice["departments"]) == (2, "Alice Local", [2])
    bob = result(call(server, world.alice_hook, "im.user.get", {"ID": 2}, host=LOCAL_HOST))
    assert bob["name"] == "Alice Local"
    bob = result(call(server, world.acme_admin_hook, "im.user.get", {"ID": 2}, host=ACME_HOST))
    assert (bob["id"], bob["name"], bob["departments"]) == (2, "Bob Acme", [2])
    # The caller's own card, by default.
    assert result(call(server, world.bob_hook, "im.user.get", host=ACME_HOST))["name"] == (
        "Bob Acme"
    )
    missing = server.call("im.user.get", {"ID": 4})
    assert missing.status_code == 400
    assert missing.json()["error"] == "USER_NOT_EXISTS"
    eve = result(call(server, world.bob_hook, "im.user.get", {"ID": 4}, host=ACME_HOST))
    assert eve["name"] == "Eve Acme"


def test_im_user_list_get_leaves_the_other_portals_people_out(server, world):
    local = result(server.call("im.user.list.get", {"ID": [1, 2, 3, 4]}))
    assert list(local) == ["1", "2", "3", "4"]
    assert [local[k]["name"] for k in ("1", "2", "3")] == ["Admin", "Alice Local", "Dan Local"]
    assert local["4"] is None
    acme = result(
        call(server, world.bob_hook, "im.user.list.get", {"ID": [2, 3, 4, 5]}, host=ACME_HOST)
    )
    assert [acme[k]["name"] for k in ("2", "3", "4")] == ["Bob Acme", "Cleo Acme", "Eve Acme"]
    assert acme["5"] is None


def test_statuses_are_per_portal(server, world):
    assert result(call(server, world.bob_hook, "im.user.status.set", {"STATUS": "dnd"},
                       host=ACME_HOST)) is True  # fmt: skip
    assert result(call(server, world.alice_hook, "im.user.status.get")) == "online"
    assert result(server.call("im.user.get", {"ID": 2}))["status"] == "online"
    bob = result(call(server, world.acme_admin_hook, "im.user.get", {"ID": 2}, host=ACME_HOST))
    assert bob["status"] == "dnd"
    # The default admin going away leaves acme's admin online.
    assert result(server.call("im.user.status.set", {"STATUS": "away"})) is True
    acme_admin = call(server, world.acme_admin_hook, "im.user.status.get", host=ACME_HOST)
    assert result(acme_admin) == "online"


def test_departments_are_per_portal(server, world):
    local = server.call("department.get").json()
    assert local["total"] == 2
    assert [(d["ID"], d["NAME"], d.get("UF_HEAD")) for d in local["result"]] == [
        ("1", "Company", "1"),
        ("2", "Sales", "1"),
    ]
    acme = call(server, world.bob_hook, "department.get", host=ACME_HOST).json()
    assert acme["total"] == 3
    assert [(d["ID"], d["NAME"], d.get("PARENT"), d.get("UF_HEAD")) for d in acme["result"]] == [
        ("1", "Company", None, "1"),
        ("2", "Engineering", "1", "2"),
        ("3", "Research", "2", None),
    ]
    assert result(server.call("department.get", {"ID": 3})) == []
    assert result(server.call("department.get", {"NAME": "Engineering"})) == []
    assert result(server.call("department.get", {"UF_HEAD": 2})) == []
    headed = result(call(server, world.bob_hook, "department.get", {"UF_HEAD": 2}, host=ACME_HOST))
    assert [d["NAME"] for d in headed] == ["Engineering"]
    assert result(call(server, world.bob_hook, "department.get", {"PARENT": 2},
                       host=ACME_HOST))[0]["NAME"] == "Research"  # fmt: skip
    assert result(server.call("department.get", {"PARENT": 2})) == []


# --- time tracking ---------------------------------------------------------------------------


def test_workdays_are_per_portal(server, world):
    opened = result(call(server, world.bob_hook, "timeman.open", host=ACME_HOST))
    assert opened["STATUS"] == "OPENED"
    # In acme's zone.
    assert opened["TIME_START"] == "2026-03-02T09:30:00+01:00"

    # The default portal's user 2 (Alice) never opened a day.
    alice = result(server.call("timeman.status", {"USER_ID": 2}))
    assert alice == {"STATUS": "CLOSED"}
    assert result(call(server, world.alice_hook, "timeman.status"))["STATUS"] == "CLOSED"
    # Closing Alice's (absent) day is refused and does not close Bob's.
    server.clock.advance(3600)
    assert call(server, world.alice_hook, "timeman.close").json()["error"] == "WD_NOT_OPEN"
    bob = result(call(server, world.acme_admin_hook, "timeman.status", {"USER_ID": 2},
                      host=ACME_HOST))  # fmt: skip
    assert (bob["STATUS"], bob["TIME_START"]) == ("OPENED", "2026-03-02T09:30:00+01:00")

    # Alice opens hers an hour later; Bob's stays as it was.
    alice = result(call(server, world.alice_hook, "timeman.open"))
    assert alice["TIME_START"] == "2026-03-02T09:30:00+00:00"
    bob = result(call(server, world.bob_hook, "timeman.status", host=ACME_HOST))
    assert bob["TIME_START"] == "2026-03-02T09:30:00+01:00"
    assert result(call(server, world.acme_admin_hook, "timeman.status", {"USER_ID": 3},
                       host=ACME_HOST))["STATUS"] == "CLOSED"  # fmt: skip


def test_timeman_user_id_of_the_other_portal(server, world):
    # Eve (4) is no one on the default portal.
    missing = server.call("timeman.status", {"USER_ID": 4})
    assert missing.status_code == 400
    assert missing.json()["error_description"] == "User not found"
    # Bob heads Engineering, above Research where Cleo (3) is: he may see her day...
    assert result(call(server, world.bob_hook, "timeman.status", {"USER_ID": 3},
                       host=ACME_HOST))["STATUS"] == "CLOSED"  # fmt: skip
    # ...but Alice, also user 2, heads nothing on her portal: Dan (3) is not hers.
    denied = call(server, world.alice_hook, "timeman.status", {"USER_ID": 3})
    assert error_of(denied) == (403, "ACCESS_DENIED")
    # And Bob may not manage acme's admin.
    denied = call(server, world.bob_hook, "timeman.status", {"USER_ID": 1}, host=ACME_HOST)
    assert error_of(denied) == (403, "ACCESS_DENIED")
    # timeman.settings' ADMIN follows the portal's structure too.
    assert result(call(server, world.bob_hook, "timeman.settings", host=ACME_HOST))["ADMIN"] is True
    assert result(call(server, world.alice_hook, "timeman.settings"))["ADMIN"] is False


def test_timeman_settings_are_per_portal(server, world):
    server.run(admin.timeman_settings, server.store, domain=ACME, max_start=10 * 3600)
    acme = result(call(server, world.bob_hook, "timeman.settings", host=ACME_HOST))
    assert acme["UF_TM_MAX_START"] == "10:00:00"
    local = result(call(server, world.alice_hook, "timeman.settings"))
    assert local["UF_TM_MAX_START"] == "09:15:00"
    server.run(admin.timeman_settings, server.store, user_id=2, free=True)
    assert result(call(server, world.alice_hook, "timeman.settings"))["UF_TM_FREE"] is True
    assert (
        result(call(server, world.bob_hook, "timeman.settings", host=ACME_HOST))["UF_TM_FREE"]
        is False
    )


def test_an_acme_workday_is_not_the_default_portals(server, world):
    call(server, world.bob_hook, "timeman.open", host=ACME_HOST)
    server.clock.advance(3600)
    edited = call(
        server,
        world.bob_hook,
        "timeman.close",
        {"TIME": "2026-03-02T10:00:00+01:00", "REPORT": "late entry"},
        host=ACME_HOST,
    )
    assert result(edited)["STATUS"] == "CLOSED"
    (day,) = server.run(admin.pending_workdays, server.store, ACME)
    assert server.run(admin.pending_workdays, server.store) == []
    with pytest.raises(admin.AdminError, match="no workday"):
        server.run(admin.workday_history, server.store, day.id)
    with pytest.raises(admin.AdminError):
        server.run(
            admin.decide_workday,
            server.store,
            server.clock.now(),
            workday_id=day.id,
            supervisor_id=1,
            approved=True,
        )
    assert [d.id for d in server.run(admin.pending_workdays, server.store, ACME)] == [day.id]


def test_time_blocks_use_each_portals_zone(server, world):
    assert result(server.call("server.time")) == "2026-03-02T08:30:00+00:00"
    acme = call(server, world.bob_hook, "server.time", host=ACME_HOST).json()
    assert acme["result"] == "2026-03-02T09:30:00+01:00"
    assert acme["time"]["date_start"] == "2026-03-02T09:30:00+01:00"
    assert server.call("server.time").json()["time"]["date_start"] == "2026-03-02T08:30:00+00:00"


# --- the OAuth pages -----------------------------------------------------------------------


def test_the_login_page_refuses_another_portals_app(server, world):
    for login, password in ((None, None), ("2", BOB_PASSWORD), ("2", ALICE_PASSWORD)):
        page = authorize(
            server, world.acme_app.client_id, host=LOCAL_HOST, login=login, password=password
        )
        assert page.status_code == 400, page.text
        assert "not installed" in page.text
        assert "location" not in page.headers
        assert 'name="password"' not in page.text
        assert "set-cookie" not in page.headers
    page = authorize(server, world.local_app.client_id, host=ACME_HOST)
    assert page.status_code == 400
    assert "not installed" in page.text
    # On its own host each shows the log-in form naming its portal.
    own = authorize(server, world.acme_app.client_id, host=ACME_HOST)
    assert own.status_code == 200
    assert "Acme Sync" in own.text and "access to acme.localhost" in own.text
    local = authorize(server, world.local_app.client_id, host=LOCAL_HOST)
    assert local.status_code == 200
    assert "access to localhost" in local.text


def test_passwords_are_checked_against_the_portals_own_user(server, world):
    client = world.acme_app.client_id
    for login in ("2", SHARED_EMAIL):
        # Alice's password is no good for acme's user 2 / the shared address (Bob).
        wrong = authorize(server, client, host=ACME_HOST, login=login, password=ALICE_PASSWORD)
        assert wrong.status_code == 401
        assert "location" not in wrong.headers
        assert "set-cookie" not in wrong.headers
    right = authorize(server, client, host=ACME_HOST, login=SHARED_EMAIL, password=BOB_PASSWORD)
    query = redirect_query(right, REDIRECT)
    assert query["member_id"] == world.acme_member_id
    assert query["domain"] == ACME_HOST
    pair = token_endpoint(
        server, world.acme_app, grant_type="authorization_code", code=query["code"]
    ).json()
    assert pair["user_id"] == 2
    me = result(with_token(server, pair["access_token"], "user.current", host=ACME_HOST))
    assert (me["NAME"], me["LAST_NAME"]) == ("Bob", "Acme")
    # On the default portal the shared address is Alice's.
    server.http.cookies.clear()
    local = authorize(
        server,
        world.local_app.client_id,
        host=LOCAL_HOST,
        login=SHARED_EMAIL,
        password=ALICE_PASSWORD,
    )
    code = redirect_query(local, LOCAL_REDIRECT)["code"]
    pair = token_endpoint(server, world.local_app, grant_type="authorization_code", code=code)
    me = result(with_token(server, pair.json()["access_token"], "user.current", host=LOCAL_HOST))
    assert me["NAME"] == "Alice"


def test_acme_admin_has_no_password_from_the_default_portal(server, world):
    answer = authorize(
        server, world.acme_app.client_id, host=ACME_HOST, login="1", password=ADMIN_PASSWORD
    )
    assert answer.status_code == 401
    assert "Wrong login or password" in answer.text


def test_a_session_is_one_portals(server, world):
    """The test client sends every cookie to every host name: the server itself must
    not take a log-in on one portal for a log-in on another."""
    logged_in = authorize(
        server, world.local_app.client_id, host=LOCAL_HOST, login="1", password=ADMIN_PASSWORD
    )
    redirect_query(logged_in, LOCAL_REDIRECT)
    assert "B24LOCAL_SESSION" in server.http.cookies
    # The default portal remembers the log-in...
    again = authorize(server, world.local_app.client_id, host=LOCAL_HOST)
    assert redirect_query(again, LOCAL_REDIRECT)["member_id"] == world.local_member_id
    # ...acme does not: its own user 1 has to log in.
    acme = authorize(server, world.acme_app.client_id, host=ACME_HOST)
    assert acme.status_code == 200
    assert 'name="password"' in acme.text
    assert "location" not in acme.headers


# --- the token endpoint --------------------------------------------------------------------


def test_a_code_is_exchanged_only_by_its_own_app(server, world):
    code = acme_code(server, world)
    stolen = token_endpoint(server, world.local_app, grant_type="authorization_code", code=code)
    assert error_of(stolen) == (400, "invalid_grant")
    assert "access_token" not in stolen.json()
    mixed = token_endpoint(
        server,
        AppCreds(world.acme_app.client_id, world.local_app.secret),
        grant_type="authorization_code",
        code=code,
    )
    assert error_of(mixed) == (401, "invalid_client")
    # Neither refusal spent the code; reached on the default portal's host, the
    # answer still points at acme.
    answer = token_endpoint(server, world.acme_app, grant_type="authorization_code", code=code)
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    assert pair["member_id"] == world.acme_member_id
    assert pair["client_endpoint"] == f"http://{ACME_HOST}/rest/"
    assert pair["user_id"] == 2
    me = result(with_token(server, pair["access_token"], "user.current", host=ACME_HOST))
    assert me["NAME"] == "Bob"
    assert error_of(with_token(server, pair["access_token"], "user.current", host=LOCAL_HOST)) == (
        401,
        "NO_AUTH_FOUND",
    )


def test_the_token_endpoint_on_the_apps_own_host(server, world):
    code = acme_code(server, world)
    pair = token_endpoint(
        server, world.acme_app, host=ACME_HOST, grant_type="authorization_code", code=code
    ).json()
    assert pair["client_endpoint"] == f"http://{ACME_HOST}/rest/"
    assert pair["domain"] == ACME_HOST
    assert pair["member_id"] == world.acme_member_id
    # The default portal's app asked on acme's host points home.
    local = token_endpoint(
        server,
        world.local_app,
        host=ACME_HOST,
        grant_type="refresh_token",
        refresh_token=local_refresh_token(server, world),
    ).json()
    assert local["member_id"] == world.local_member_id
    assert local["client_endpoint"] == "http://localhost:8024/rest/"


def test_a_refresh_token_is_renewed_only_by_its_own_app(server, world):
    stolen = token_endpoint(
        server, world.local_app, grant_type="refresh_token", refresh_token=world.bob_refresh
    )
    assert error_of(stolen) == (400, "invalid_grant")
    renewed = token_endpoint(
        server, world.acme_app, grant_type="refresh_token", refresh_token=world.bob_refresh
    )
    assert renewed.status_code == 200, renewed.text
    access = renewed.json()["access_token"]
    assert result(with_token(server, access, "user.current", host=ACME_HOST))["NAME"] == "Bob"
    assert error_of(with_token(server, access, "user.current", host=LOCAL_HOST))[1] == (
        "NO_AUTH_FOUND"
    )


def test_removing_an_app_is_one_portals_business(server, world):
    with pytest.raises(admin.AdminError, match="no application"):
        server.run(admin.remove_app, server.store, world.acme_app.client_id, now=server.clock.now())
    assert result(with_token(server, world.bob_token, "user.current", host=ACME_HOST))
    assert [a.client_id for a in server.run(admin.list_apps, server.store)] == [
        world.local_app.client_id
    ]
    assert [a.client_id for a in server.run(admin.list_apps, server.store, ACME)] == [
        world.acme_app.client_id
    ]
    with pytest.raises(admin.AdminError, match="no application"):
        server.run(
            admin.issue_app_token,
            server.store,
            server.clock.now(),
            client_id=world.acme_app.client_id,
            user_id=1,
        )
    now = server.clock.now()
    server.run(admin.remove_app, server.store, world.acme_app.client_id, ACME, now=now)
    assert error_of(with_token(server, world.bob_token, "user.current", host=ACME_HOST)) == (
        401,
        "NO_AUTH_FOUND",
    )
    assert result(with_token(server, world.local_token, "user.current", host=LOCAL_HOST))


# --- limits --------------------------------------------------------------------------------


def test_exhausting_one_portals_bucket_leaves_the_other(server_with):
    with server_with(limits=True, rate_threshold=3, rate_drain=1) as srv:
        world = build(srv)
        local = [call(srv, world.local_hook, "server.time").status_code for _ in range(4)]
        assert local == [200, 200, 200, 503]
        # acme's admin, with the same user ID, and its app: full buckets of their own.
        acme = [
            call(srv, world.acme_admin_hook, "server.time", host=ACME_HOST).status_code
            for _ in range(4)
        ]
        assert acme == [200, 200, 200, 503]
        token = [
            with_token(srv, world.bob_token, "server.time", host=ACME_HOST).status_code
            for _ in range(4)
        ]
        assert token == [200, 200, 200, 503]
        assert error_of(call(srv, world.local_hook, "server.time")) == (
            503,
            "QUERY_LIMIT_EXCEEDED",
        )
        srv.clock.advance(1)
        assert call(srv, world.local_hook, "server.time").status_code == 200
        assert call(srv, world.local_hook, "server.time").status_code == 503


def test_a_portals_own_rate_applies_to_it_alone(server_with):
    with server_with(limits=True, rate_threshold=3, rate_drain=1) as srv:
        world = build(srv)
        srv.run(admin.update_portal, srv.store, ACME, rate_threshold=1, rate_drain=1)
        acme = [
            call(srv, world.bob_hook, "server.time", host=ACME_HOST).status_code for _ in range(2)
        ]
        assert acme == [200, 503]
        local = [call(srv, world.alice_hook, "server.time").status_code for _ in range(4)]
        assert local == [200, 200, 200, 503]


# --- portal states -------------------------------------------------------------------------


STATES = [
    ({"status": "blocked"}, (503, "OVERLOAD_LIMIT")),
    ({"status": "deleted"}, (500, "PORTAL_DELETED")),
    ({"plan": "free"}, (403, "ACCESS_DENIED")),
]
ACTIVE = {"status": "active", "plan": "professional"}


@pytest.mark.parametrize(("change", "refusal"), STATES)
def test_a_portal_state_affects_that_portal_only(server, world, change, refusal):
    server.run(admin.update_portal, server.store, ACME, **change)
    assert error_of(call(server, world.bob_hook, "server.time", host=ACME_HOST)) == refusal
    assert error_of(with_token(server, world.bob_token, "server.time", host=ACME_HOST)) == refusal
    page = authorize(server, world.acme_app.client_id, host=ACME_HOST)
    assert page.status_code == 403
    assert "location" not in page.headers and 'name="password"' not in page.text
    # The default portal goes on, by any host that reaches it.
    for host in (LOCAL_HOST, "localhost:8024", "unknown.example"):
        assert result(call(server, world.alice_hook, "user.current", host=host))["NAME"] == "Alice"
    assert result(with_token(server, world.local_token, "user.current", host=LOCAL_HOST))
    assert authorize(server, world.local_app.client_id, host=LOCAL_HOST).status_code == 200
    # No new tokens for a closed portal, and the refresh token is not spent by trying.
    refresh = {"grant_type": "refresh_token", "refresh_token": world.bob_refresh}
    assert error_of(token_endpoint(server, world.acme_app, host=ACME_HOST, **refresh)) == (
        400,
        "invalid_grant",
    )

    # The other way round.
    server.run(admin.update_portal, server.store, ACME, **ACTIVE)
    server.run(admin.update_portal, server.store, None, **change)
    assert error_of(call(server, world.alice_hook, "server.time")) == refusal
    assert error_of(call(server, world.alice_hook, "server.time", host="unknown.example")) == (
        refusal
    )
    assert result(call(server, world.bob_hook, "user.current", host=ACME_HOST))["NAME"] == "Bob"
    assert result(with_token(server, world.bob_token, "user.current", host=ACME_HOST))
    assert authorize(server, world.acme_app.client_id, host=ACME_HOST).status_code == 200
    assert token_endpoint(server, world.acme_app, host=ACME_HOST, **refresh).status_code == 200


# --- which portal a host reaches -----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "is_acme"),
    [
        ("acme.localhost:8024", True),
        ("acme.localhost", True),
        ("ACME.LocalHost:8024", True),
        ("Acme.Localhost", True),
        ("acme.localhost:9999", True),
        ("acme.localhost.:8024", True),
        ("localhost:8024", False),
        ("LOCALHOST", False),
        ("127.0.0.1:8024", False),
        ("127.0.0.1", False),
        ("[::1]:8024", False),
        ("unknown.example:8024", False),
        ("www.acme.localhost:8024", False),
        ("notacme.localhost:8024", False),
        ("acme.localhost.example:8024", False),
        ("acme:8024", False),
    ],
)
def test_the_host_chooses_the_portal(server, world, host, is_acme):
    acme = call(server, world.bob_hook, "user.current", host=host)
    local = call(server, world.alice_hook, "user.current", host=host)
    if is_acme:
        assert result(acme)["NAME"] == "Bob"
        assert local.status_code == 401
        assert result(call(server, world.bob_hook, "server.time", host=host)).endswith("+01:00")
    else:
        assert result(local)["NAME"] == "Alice"
        assert acme.status_code == 401
        assert result(call(server, world.alice_hook, "server.time", host=host)).endswith("+00:00")
    page = authorize(server, world.acme_app.client_id, host=host)
    assert page.status_code == (200 if is_acme else 400)


def test_a_portal_added_in_capitals_is_reached_in_any_case(server):
    made = server.run(admin.add_portal, server.store, server.clock.now(), domain="Shop.LOCALHOST")
    assert made.portal.domain == "shop.localhost"
    with pytest.raises(admin.AdminError, match="exists already"):
        server.run(admin.add_portal, server.store, server.clock.now(), domain="SHOP.localhost")
    _hook, code = server.run(
        admin.add_webhook,
        server.store,
        server.clock.now(),
        user_id=1,
        scopes=["user"],
        domain="SHOP.LocalHost",
    )
    path = f"/rest/1/{code}/"
    me = result(call(server, path, "user.current", host="shop.localhost:8024"))
    assert (me["ID"], me["NAME"]) == ("1", "Admin")
    assert result(call(server, path, "user.current", host="SHOP.LOCALHOST"))["ID"] == "1"
    assert call(server, path, "user.current", host=LOCAL_HOST).status_code == 401


@pytest.mark.parametrize(
    "typed",
    ["shop.localhost:8024", " shop.localhost ", "Shop.Localhost.", "http://shop.localhost/"],
)
def test_a_domain_no_host_can_reach_is_refused_or_normalised(server, typed):
    try:
        made = server.run(admin.add_portal, server.store, server.clock.now(), domain=typed)
    except admin.AdminError:
        return  # refused: fine
    _hook, code = server.run(
        admin.add_webhook,
        server.store,
        server.clock.now(),
        user_id=1,
        scopes=["user"],
        domain=made.portal.domain,
    )
    # The host the user meant reaches the new portal, not the default one.
    me = call(server, f"/rest/1/{code}/", "user.current", host="shop.localhost:8024")
    assert result(me)["EMAIL"].startswith("admin@")


@pytest.mark.parametrize(
    "typed", ["shop.localhost:8024", "http://shop.localhost/", "shop localhost", "-shop.x", ""]
)
def test_a_domain_that_is_no_host_name_is_refused(server, typed):
    with pytest.raises(admin.AdminError, match="not a host name"):
        server.run(admin.add_portal, server.store, server.clock.now(), domain=typed)
    assert [p.domain for p in server.run(admin.list_portals, server.store)] == ["localhost"]


# --- public URLs -----------------------------------------------------------------------------

ACME_PUBLIC = "https://acme.example.com:8443/b24"


def test_a_portals_public_url_names_it_in_every_answer(server, world):
    changed = server.run(
        admin.update_portal, server.store, ACME, public_url="HTTPS://Acme.Example.com:8443/b24/"
    )
    assert changed.public_url == ACME_PUBLIC
    origin = {"Origin": "https://acme.example.com:8443"}
    # The page's cookies are Secure now: a client keeps them for https only.
    server.http.base_url = f"https://{LOCAL_HOST}"
    server.http.cookies.clear()
    answer = authorize(
        server, world.acme_app.client_id, host=ACME_HOST, login="2", password=BOB_PASSWORD
    )
    query = redirect_query(answer, REDIRECT)
    assert (query["domain"], query["server_domain"]) == ("acme.example.com:8443",) * 2
    server.http.cookies.clear()
    # From the public origin the form is accepted too.
    answer = post_login(
        server.http,
        {"client_id": world.acme_app.client_id},
        "2",
        BOB_PASSWORD,
        {"Host": ACME_HOST, **origin},
    )
    code = redirect_query(answer, REDIRECT)["code"]
    # Asked on the default portal's host, the portal's own address still wins.
    pair = token_endpoint(server, world.acme_app, grant_type="authorization_code", code=code).json()
    assert pair["client_endpoint"] == f"{ACME_PUBLIC}/rest/"
    assert pair["server_endpoint"] == f"https://{LOCAL_HOST}/oauth/rest/"
    # On acme's host the authorization server is acme's public address.
    renewed = token_endpoint(
        server,
        world.acme_app,
        host=ACME_HOST,
        grant_type="refresh_token",
        refresh_token=pair["refresh_token"],
    ).json()
    assert renewed["server_endpoint"] == f"{ACME_PUBLIC}/oauth/rest/"
    assert renewed["domain"] == "acme.example.com:8443"
    install = server.http.get(
        "/oauth/rest/app.info", params={"auth": renewed["access_token"]}
    ).json()["result"]["install"]
    assert (install["domain"], install["uri"]) == ("acme.example.com", ACME_PUBLIC)
    # The default portal is untouched; "" goes back to the Host header.
    local = token_endpoint(
        server,
        world.local_app,
        grant_type="refresh_token",
        refresh_token=local_refresh_token(server, world),
    ).json()
    assert local["client_endpoint"] == f"https://{LOCAL_HOST}/rest/"
    assert server.run(admin.update_portal, server.store, ACME, public_url="").public_url is None
    code = acme_code(server, world)
    pair = token_endpoint(
        server, world.acme_app, host=ACME_HOST, grant_type="authorization_code", code=code
    ).json()
    assert pair["client_endpoint"] == f"https://{ACME_HOST}/rest/"


@pytest.mark.parametrize(
    "url", ["acme.example.com", "ftp://acme.example.com", "https://a.example/?x=1", "https://"]
)
def test_a_public_url_must_be_an_http_address(server, world, url):
    with pytest.raises(admin.AdminError):
        server.run(admin.update_portal, server.store, ACME, public_url=url)
