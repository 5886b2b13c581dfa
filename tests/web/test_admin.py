"""The administration pages through HTTP: people, departments and webhooks, each
changed through the same code REST uses, with the same refusals (in words); only
administrators get in; CSRF and hostile forms are refused, never a 500."""

from __future__ import annotations

import re

import pytest

from adminforms import alert, log_in, post, rest
from b24local import admin
from loginform import token_in

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


# --- people -----------------------------------------------------------------------------------


def test_an_administrator_invites_and_changes_people(server):
    sales = server.run(admin.add_department, server.store, name="Sales").id
    log_in(server, server.admin_id)
    listed = server.http.get("/admin/people")
    assert listed.status_code == 200
    assert 'href="/admin"' in listed.text  # the nav link, for an administrator
    assert f'data-user="{server.admin_id}"' in listed.text and "data-admin" in listed.text

    answer = post(server, "/admin/people", [
        ("name", "Jane"), ("last_name", "Roe"), ("email", "jane@example.com"),
        ("department", "1"), ("department", str(sales)),
    ])  # fmt: skip
    assert answer.status_code == 303, answer.text
    jane = int(answer.headers["location"].rsplit("user-", 1)[1])
    # What user.get answers is what the page made: the same store, the same rules.
    (found,) = rest(server, "user.get", {"ID": jane})
    assert (found["NAME"], found["LAST_NAME"], found["EMAIL"]) == (
        "Jane",
        "Roe",
        "jane@example.com",
    )
    assert found["UF_DEPARTMENT"] == [1, sales] and found["ACTIVE"] is True
    page = server.http.get("/admin/people?done=invited").text
    assert "The person was invited." in page and "Sales" in page

    # Edit: name, e-mail, departments, and dismissal.
    hook = server.add_webhook(jane, ["user"])
    assert server.call("user.current", hook=hook).status_code == 200
    form = server.http.get(f"/admin/people/{jane}")
    assert form.status_code == 200 and 'value="jane@example.com"' in form.text
    answer = post(server, f"/admin/people/{jane}", {
        "name": "Janet", "last_name": "Roe", "email": "janet@example.com", "department": str(sales),
    })  # fmt: skip
    assert answer.status_code == 303, answer.text
    (found,) = rest(server, "user.get", {"ID": jane})
    assert (found["NAME"], found["EMAIL"], found["UF_DEPARTMENT"]) == (
        "Janet", "janet@example.com", [sales],
    )  # fmt: skip
    assert found["ACTIVE"] is False  # the box was not ticked: dismissed
    refused = server.call("user.current", hook=hook)  # her webhook stops, as REST says
    assert (refused.status_code, refused.json()["error"]) == (403, "INVALID_CREDENTIALS")
    page = server.http.get("/admin/people").text
    assert re.search(rf'data-user="{jane}">.*?data-active="N"', page, re.S)
    answer = post(server, f"/admin/people/{jane}", {
        "name": "Janet", "last_name": "Roe", "email": "janet@example.com", "department": "1",
        "active": "Y",
    })  # fmt: skip
    assert answer.status_code == 303
    (found,) = rest(server, "user.get", {"ID": jane})
    assert found["ACTIVE"] is True and found["UF_DEPARTMENT"] == [1]


def test_inviting_is_refused_as_user_add_refuses_it(server):
    server.add_user("Taken", "Mail", email="taken@example.com")
    log_in(server, server.admin_id)

    def invite(email: str, *departments: str):
        items = [("name", "N"), ("last_name", "L"), ("email", email)]
        return post(server, "/admin/people", [*items, *(("department", d) for d in departments)])

    taken = invite("taken@example.com", "1")
    assert taken.status_code == 400
    assert alert(taken.text) == "Another person of this Bitrix24 has this e-mail."
    assert 'value="taken@example.com"' in taken.text  # what was sent is kept
    assert alert(invite("not an address", "1").text).startswith("The e-mail is missing")
    assert alert(invite("free@example.com").text) == "Choose at least one department."
    missing = invite("free@example.com", "999")
    assert missing.status_code == 400
    assert alert(missing.text) == "A chosen department does not exist (any more)."
    # REST says the same of the same e-mail.
    answer = server.call("user.add", {"EMAIL": "taken@example.com", "UF_DEPARTMENT": [1]})
    assert answer.json()["error_description"] == "A user with this email already exists"

    # The plan's user limit: the administrator and 49 people fill Standard's 50.
    server.run(admin.update_portal, server.store, None, plan="standard")
    for number in range(48):
        server.add_user(f"Person{number}", "Staff")
    full = invite("one.more@example.com", "1")
    assert full.status_code == 400
    assert alert(full.text) == "The plan of this Bitrix24 has no room for another active person."

    # A change to an e-mail someone else has.
    person = server.add_user("Pat", "Doe", email="pat@example.com")
    answer = post(server, f"/admin/people/{person}", {
        "name": "Pat", "last_name": "Doe", "email": "taken@example.com", "department": "1",
        "active": "Y",
    })  # fmt: skip
    assert answer.status_code == 400
    assert alert(answer.text) == "Another person of this Bitrix24 has this e-mail."
    (found,) = rest(server, "user.get", {"ID": person})
    assert found["EMAIL"] == "pat@example.com"


ADMIN_PAGES = ["/admin", "/admin/people", "/admin/people/1"]


@sqlite_only
def test_only_administrators_get_in(server):
    plain = server.add_user("Plain", "User")
    log_in(server, plain)
    day = server.http.get("/day")
    assert 'href="/admin"' not in day.text
    for path in ADMIN_PAGES:
        answer = server.http.get(path)
        assert answer.status_code == 403, path
        assert "Only administrators" in answer.text
    token = token_in(day.text)
    answer = server.http.post(
        "/admin/people",
        data={"name": "X", "email": "x@example.com", "department": "1", "csrf_token": token},
    )
    assert answer.status_code == 403
    answer = server.http.post(
        f"/admin/people/{plain}",
        data={"name": "Me", "department": "1", "active": "Y", "csrf_token": token},
    )
    assert answer.status_code == 403
    (found,) = rest(server, "user.get", {"ID": plain})
    assert found["NAME"] == "Plain"
    # Strangers are sent to log in.
    server.http.cookies.clear()
    assert server.http.get("/admin/people", follow_redirects=False).status_code == 303


@sqlite_only
def test_hostile_people_forms_are_refused(server):
    log_in(server, server.admin_id)
    token = token_in(server.http.get("/admin/people").text)
    base = {"name": "N", "last_name": "L", "email": "n@example.com", "csrf_token": token}
    for department in ("abc", "-1", "0", "1e3", "99999999999999999999"):
        answer = server.http.post("/admin/people", data={**base, "department": department})
        assert answer.status_code == 400, department
    for path in ("/admin/people/abc", "/admin/people/0", "/admin/people/99999999999",
                 "/admin/people/424242"):  # fmt: skip
        assert server.http.get(path).status_code == 404, path
    long_name = {**base, "name": "x" * 150, "department": "1"}
    answer = server.http.post("/admin/people", data=long_name)
    assert answer.status_code == 400 and "NAME" in alert(answer.text)
    # No token, a wrong one, another site.
    no_token = {k: v for k, v in base.items() if k != "csrf_token"}
    assert (
        server.http.post("/admin/people", data={**no_token, "department": "1"}).status_code == 403
    )
    answer = server.http.post(
        "/admin/people", data={**base, "department": "1"},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert answer.status_code == 403
    too_many = [str(n) for n in range(1, 40)]
    answer = server.http.post("/admin/people", data={**base, "department": too_many})
    assert answer.status_code == 400
    assert [u.email for u in server.run(admin.list_users, server.store)].count("n@example.com") == 0


# --- departments ------------------------------------------------------------------------------


def departments_of(server) -> dict[int, dict]:
    return {int(d["ID"]): d for d in rest(server, "department.get")}


def test_an_administrator_changes_the_structure(server):
    hanna = server.add_user("Hanna", "Hale")
    log_in(server, server.admin_id)
    answer = post(server, "/admin/departments", {"name": "Sales", "parent": "1", "head": ""})
    assert answer.status_code == 303, answer.text
    sales = int(answer.headers["location"].rsplit("department-", 1)[1])
    answer = post(server, "/admin/departments", {"name": "North", "parent": str(sales),
                                                 "head": str(hanna)})  # fmt: skip
    north = int(answer.headers["location"].rsplit("department-", 1)[1])
    found = departments_of(server)
    assert found[sales]["NAME"] == "Sales" and found[sales]["PARENT"] == "1"
    assert found[north]["PARENT"] == str(sales) and found[north]["UF_HEAD"] == str(hanna)
    page = server.http.get("/admin/departments").text
    assert "The department was added." not in page  # only after the redirect asks
    assert re.search(
        rf'data-department="{north}" data-depth="2">.*?data-head="{hanna}"', page, re.S
    )

    # Rename and move North to the top department, with no head.
    form = server.http.get(f"/admin/departments/{north}")
    assert form.status_code == 200 and 'value="North"' in form.text
    answer = post(server, f"/admin/departments/{north}", {"name": "Nord", "parent": "1",
                                                          "head": ""})  # fmt: skip
    assert answer.status_code == 303, answer.text
    found = departments_of(server)
    assert (found[north]["NAME"], found[north]["PARENT"]) == ("Nord", "1")
    assert "UF_HEAD" not in found[north] or found[north]["UF_HEAD"] in ("", "0", None)
    # Delete Sales: its people move up to the top department, as department.delete does.
    pia = server.add_user("Pia", "Park", department_ids=[sales])
    answer = post(server, f"/admin/departments/{sales}/delete", {},
                  token_from=f"/admin/departments/{sales}")  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert sales not in departments_of(server)
    (found_pia,) = rest(server, "user.get", {"ID": pia})
    assert found_pia["UF_DEPARTMENT"] == [1]


def test_the_structure_refuses_as_department_methods_do(server):
    log_in(server, server.admin_id)
    sales = server.run(admin.add_department, server.store, name="Sales").id
    north = server.run(admin.add_department, server.store, name="North", parent_id=sales).id

    def refused(path: str, data: dict, token_from: str | None = None) -> str:
        answer = post(server, path, data, token_from=token_from)
        assert answer.status_code == 400, answer.text
        return alert(answer.text)

    assert refused("/admin/departments", {"name": "Second", "parent": "", "head": ""}) == (
        "There can be only one top-level department: choose one to put it within."
    )
    assert refused("/admin/departments", {"name": "", "parent": "1", "head": ""}) == (
        "A department needs a name."
    )
    assert refused("/admin/departments", {"name": "X", "parent": "4242", "head": ""}) == (
        "The department it should be within does not exist."
    )
    assert refused("/admin/departments", {"name": "X", "parent": "1", "head": "4242"}) == (
        "The chosen head is not a person of this Bitrix24."
    )
    assert refused(f"/admin/departments/{sales}", {"name": "Sales", "parent": str(north),
                                                   "head": ""}) == (
        "A department cannot be moved within itself or a department below it."
    )  # fmt: skip
    assert refused("/admin/departments/1/delete", {}, token_from="/admin/departments/1") == (
        "The top-level department cannot be deleted."
    )
    # A dismissed head is kept as the choice, so saving a rename keeps them.
    sam = server.add_user("Sam", "Stone")
    rest(server, "department.update", {"ID": north, "UF_HEAD": sam})
    rest(server, "user.update", {"ID": sam, "ACTIVE": "N"})
    assert f'<option value="{sam}" selected>' in server.http.get(f"/admin/departments/{north}").text
    # REST refuses the same move in its own words.
    answer = server.call("department.update", {"ID": sales, "PARENT": north})
    assert answer.json()["error_description"] == "Cannot move the section inside itself.<br>"
    assert departments_of(server)[sales]["PARENT"] == "1"
    assert len(departments_of(server)) == 3


@sqlite_only
def test_departments_are_for_administrators_and_hostile_forms_are_refused(server):
    plain = server.add_user("Plain", "User")
    sales = server.run(admin.add_department, server.store, name="Sales", head_id=plain).id
    log_in(server, plain)  # a head, but no administrator
    for path in ("/admin/departments", f"/admin/departments/{sales}"):
        assert server.http.get(path).status_code == 403, path
    token = token_in(server.http.get("/day").text)
    for path in ("/admin/departments", f"/admin/departments/{sales}",
                 f"/admin/departments/{sales}/delete"):  # fmt: skip
        answer = server.http.post(path, data={"name": "Mine", "parent": "1", "head": "",
                                              "csrf_token": token})  # fmt: skip
        assert answer.status_code == 403, path
    assert departments_of(server)[sales]["NAME"] == "Sales"

    log_in(server, server.admin_id)
    token = token_in(server.http.get("/admin/departments").text)
    for parent, head in (("x", ""), ("1", "-3"), ("1.5", ""), ("1", "99999999999999")):
        sent = {"name": "X", "parent": parent, "head": head, "csrf_token": token}
        answer = server.http.post("/admin/departments", data=sent)
        assert answer.status_code == 400, (parent, head)
    for path in ("/admin/departments/abc", "/admin/departments/99999999999",
                 "/admin/departments/4242"):  # fmt: skip
        assert server.http.get(path).status_code == 404, path
    answer = server.http.post("/admin/departments/4242/delete", data={"csrf_token": token})
    assert answer.status_code == 404
    answer = server.http.post(f"/admin/departments/{sales}/delete", data={"csrf_token": "x"})
    assert answer.status_code == 403
    answer = server.http.post(
        f"/admin/departments/{sales}/delete", data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert answer.status_code == 403
    assert sales in departments_of(server)


# --- webhooks ---------------------------------------------------------------------------------


def test_a_webhook_is_added_shown_once_and_removed(server):
    pia = server.add_user("Pia", "Park")
    log_in(server, server.admin_id)
    answer = post(server, "/admin/webhooks", {"user": str(pia), "scope": ["user", "timeman"],
                                              "title": "Payroll"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    url = re.search(r"<p class=\"secret\" data-webhook-url>(.*?)</p>", answer.text).group(1)
    assert url.startswith("http://127.0.0.1:8024/rest/") and url.endswith("/")
    code = url.rstrip("/").rsplit("/", 1)[1]
    # It calls REST as Pia, within its scopes.
    called = server.http.post(url + "user.current", json={})
    assert called.status_code == 200 and called.json()["result"]["ID"] == str(pia)
    refused = server.http.post(url + "department.get", json={})
    assert refused.json()["error"] == "insufficient_scope"
    # Listed, never again with its code.
    (hook,) = [h for h in server.run(admin.list_webhooks, server.store) if h.user_id == pia]
    assert (sorted(hook.scopes), hook.title) == (["timeman", "user"], "Payroll")
    listed = server.http.get("/admin/webhooks").text
    assert f'data-webhook="{hook.id}"' in listed and "Payroll" in listed
    assert code not in listed
    # Removed: the URL answers 401.
    answer = post(server, f"/admin/webhooks/{hook.id}/delete", {}, token_from="/admin/webhooks")
    assert answer.status_code == 303
    assert server.http.post(url + "user.current", json={}).status_code == 401
    assert f'data-webhook="{hook.id}"' not in server.http.get("/admin/webhooks").text


@sqlite_only
def test_webhooks_are_for_administrators_and_hostile_forms_are_refused(server):
    plain = server.add_user("Plain", "User")
    before = len(server.run(admin.list_webhooks, server.store))
    log_in(server, plain)
    assert server.http.get("/admin/webhooks").status_code == 403
    token = token_in(server.http.get("/day").text)
    answer = server.http.post("/admin/webhooks", data={"user": str(plain), "scope": "user",
                                                       "csrf_token": token})  # fmt: skip
    assert answer.status_code == 403
    assert (
        server.http.post("/admin/webhooks/1/delete", data={"csrf_token": token}).status_code == 403
    )
    assert server.call("user.current").status_code == 200  # the administrator's, still there

    log_in(server, server.admin_id)
    token = token_in(server.http.get("/admin/webhooks").text)

    def add(**fields) -> object:
        return server.http.post("/admin/webhooks", data={**fields, "csrf_token": token})

    answer = add(user=str(plain), scope=["user", "crm"])
    assert answer.status_code == 400
    assert alert(answer.text) == "A chosen scope is not one b24local serves."
    answer = add(user="4242", scope="user")
    assert alert(answer.text) == "Choose a person of this Bitrix24 for the webhook to act as."
    assert add(user="", scope="user").status_code == 400
    answer = add(user=str(plain), scope="user", title="t" * 300)
    assert answer.status_code == 400 and "too long" in alert(answer.text)
    for user in ("abc", "-1", "99999999999999"):
        assert add(user=user, scope="user").status_code == 400, user
    assert add(user=str(plain), scope="user\x00").status_code == 400
    assert server.http.post("/admin/webhooks", data={"user": str(plain)}).status_code == 403
    answer = server.http.post(
        "/admin/webhooks", data={"user": str(plain), "scope": "user", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert answer.status_code == 403
    for path in ("/admin/webhooks/4242/delete", "/admin/webhooks/abc/delete"):
        assert server.http.post(path, data={"csrf_token": token}).status_code == 404, path
    assert len(server.run(admin.list_webhooks, server.store)) == before


# --- review: what a demanding administrator tries ---------------------------------------------


@sqlite_only
def test_an_administrator_cannot_dismiss_themselves(server):
    # Saving one's own page with the box unticked would end the session and, for the
    # only administrator, leave the portal with none.
    boss = server.add_user("Bo", "Boss", email="bo@example.com", admin=True)
    log_in(server, boss)
    answer = post(server, f"/admin/people/{boss}", {
        "name": "Renamed", "last_name": "Boss", "email": "bo@example.com", "department": "1",
    })  # fmt: skip
    assert answer.status_code == 400
    assert alert(answer.text) == "You cannot dismiss yourself: ask another administrator to."
    assert 'value="Renamed"' in answer.text  # the form as sent, to correct
    (me,) = rest(server, "user.get", {"ID": boss})
    assert me["ACTIVE"] is True and me["NAME"] == "Bo"
    assert server.http.get("/admin/people").status_code == 200  # still logged in
    boss_cookies = dict(server.http.cookies)
    # Another administrator may dismiss them…
    log_in(server, server.admin_id)
    answer = post(server, f"/admin/people/{boss}", {
        "name": "Bo", "last_name": "Boss", "email": "bo@example.com", "department": "1",
    })  # fmt: skip
    assert answer.status_code == 303
    assert rest(server, "user.get", {"ID": boss})[0]["ACTIVE"] is False
    # …and the dismissed administrator's open session reaches no page of theirs.
    token = token_in(server.http.get("/admin/people").text)
    server.http.cookies.clear()
    server.http.cookies.update(boss_cookies)
    for path in [*ADMIN_PAGES, "/admin/departments", "/admin/departments/1", "/admin/webhooks"]:
        assert server.http.get(path, follow_redirects=False).headers["location"] == "/login"
    answer = server.http.post(
        "/admin/webhooks", data={"user": str(boss), "scope": "user", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


@sqlite_only
def test_the_first_administrator_saves_their_own_page(server):
    # Their admin@localhost is no address to invite, but it is theirs: a save that
    # leaves it alone is not refused for it.
    log_in(server, server.admin_id)
    (me,) = rest(server, "user.get", {"ID": server.admin_id})
    assert me["EMAIL"] == "admin@localhost"
    answer = post(server, f"/admin/people/{server.admin_id}", {
        "name": "Renamed", "last_name": me["LAST_NAME"], "email": me["EMAIL"], "department": "1",
        "active": "Y",
    })  # fmt: skip
    assert answer.status_code == 303, alert(answer.text)
    (me,) = rest(server, "user.get", {"ID": server.admin_id})
    assert (me["NAME"], me["EMAIL"]) == ("Renamed", "admin@localhost")
    # Changed to another address on no dotted host, it is refused as user.update does.
    answer = post(server, f"/admin/people/{server.admin_id}", {
        "name": "Renamed", "last_name": me["LAST_NAME"], "email": "root@localhost",
        "department": "1", "active": "Y",
    })  # fmt: skip
    assert answer.status_code == 400
    assert alert(answer.text) == "The e-mail is missing or is not an e-mail address."


@sqlite_only
def test_no_webhook_is_made_for_a_dismissed_person(server):
    gone = server.add_user("Gone", "Person")
    server.run(admin.update_user, server.store, server.clock.now(), user_id=gone, active=False)
    before = len(server.run(admin.list_webhooks, server.store))
    log_in(server, server.admin_id)
    page = server.http.get("/admin/webhooks").text
    assert f'<option value="{gone}"' not in page  # not offered…
    answer = post(server, "/admin/webhooks", {"user": str(gone), "scope": "user"})
    assert answer.status_code == 400  # …nor taken when sent anyway
    assert alert(answer.text) == (
        "A dismissed person&#39;s webhook would never answer: choose an active person."
    )
    assert "data-webhook-url" not in answer.text
    assert len(server.run(admin.list_webhooks, server.store)) == before


@sqlite_only
def test_a_person_in_many_departments_is_saved(server):
    many = [server.run(admin.add_department, server.store, name=f"Team {n}").id for n in range(30)]
    log_in(server, server.admin_id)
    fields = [("name", "Mo"), ("email", "mo@example.com")] + [("department", str(d)) for d in many]
    answer = post(server, "/admin/people", fields)
    assert answer.status_code == 303, alert(answer.text)
    mo = int(answer.headers["location"].rsplit("user-", 1)[1])
    assert rest(server, "user.get", {"ID": mo})[0]["UF_DEPARTMENT"] == many
    answer = post(server, f"/admin/people/{mo}", [*fields, ("active", "Y")])
    assert answer.status_code == 303, alert(answer.text)
    # Bounded all the same: a form of hundreds of values is none of ours.
    answer = post(server, f"/admin/people/{mo}", [("department", "1")] * 300)
    assert answer.status_code == 400


@sqlite_only
def test_names_are_shown_as_text_and_another_portal_is_out_of_reach(server):
    evil = "<script>alert(1)</script>\"'&"
    team = server.run(admin.add_department, server.store, name=evil).id
    eve = server.add_user(evil, evil, department_ids=[team])
    server.run(admin.add_webhook, server.store, server.clock.now(), user_id=eve, scopes=["user"],
               title=evil)  # fmt: skip
    log_in(server, server.admin_id)
    pages = ["/admin/people", f"/admin/people/{eve}", "/admin/departments",
             f"/admin/departments/{team}", "/admin/webhooks"]  # fmt: skip
    for path in pages:
        answer = server.http.get(path)
        assert answer.status_code == 200, path
        assert "<script>alert" not in answer.text and "&lt;script&gt;alert(1)" in answer.text, path
    # A refused form shows what was sent, as text too.
    answer = post(server, "/admin/webhooks", {"user": str(eve), "scope": "crm", "title": evil})
    assert answer.status_code == 400 and "<script>alert" not in answer.text

    # The same server, another portal: this administrator's session is no one there.
    server.run(admin.add_portal, server.store, server.clock.now(), domain="other.example")
    token = token_in(server.http.get("/admin/webhooks").text)
    other = {"host": "other.example"}
    for path in pages:
        answer = server.http.get(path, headers=other, follow_redirects=False)
        assert answer.headers.get("location") == "/login", path
    for path in ["/admin/people", "/admin/departments", "/admin/webhooks", "/admin/people/1",
                 "/admin/departments/1/delete"]:  # fmt: skip
        answer = server.http.post(path, headers=other, follow_redirects=False,
                                  data={"name": "X", "user": "1", "scope": "user",
                                        "csrf_token": token})  # fmt: skip
        assert answer.headers.get("location") == "/login", path
    assert server.run(admin.list_webhooks, server.store, "other.example") == []
    # Nothing was made there: its first administrator and root department only.
    assert len(server.run(admin.list_users, server.store, "other.example")) == 1
    assert len(server.run(admin.list_departments, server.store, "other.example")) == 1


@sqlite_only
def test_an_employee_saved_without_departments_stays_an_employee(server):
    kim = server.add_user("Kim", "Lee", email="kim@example.com")
    log_in(server, server.admin_id)
    sent = {"name": "Kim", "last_name": "Lee", "email": "kim@example.com", "active": "Y"}
    answer = post(server, f"/admin/people/{kim}", sent)
    assert answer.status_code == 400
    assert alert(answer.text) == "Choose at least one department."
    (found,) = rest(server, "user.get", {"ID": kim})
    assert (found["UF_DEPARTMENT"], found["USER_TYPE"]) == ([1], "employee")
    # One made extranet through REST keeps no department when saved here.
    rest(server, "user.update", {"ID": kim, "UF_DEPARTMENT": []})
    assert rest(server, "user.get", {"ID": kim})[0]["USER_TYPE"] == "extranet"
    answer = post(server, f"/admin/people/{kim}", {**sent, "name": "Kimberly"})
    assert answer.status_code == 303, alert(answer.text)
    (found,) = rest(server, "user.get", {"ID": kim})
    assert (found["NAME"], found["USER_TYPE"]) == ("Kimberly", "extranet")
