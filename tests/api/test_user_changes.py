"""user.add, user.update, user.fields and user.search through HTTP."""

from __future__ import annotations

import pytest
from tests.restcalls import call, error_of, result

from b24local import admin

#: Refusal cases: the answer does not depend on the store, so SQLite only (the flows
#: around them run on both databases).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ACME_HOST = "acme.localhost:8024"

#: user.fields' answer on the page, key for key.
PAGE_FIELDS = {
    "ID": "ID",
    "XML_ID": "External code",
    "ACTIVE": "Activity",
    "NAME": "First Name",
    "LAST_NAME": "Last Name",
    "SECOND_NAME": "Middle Name",
    "TITLE": "User List",
    "EMAIL": "E-Mail",
    "LAST_LOGIN": "Last Authorization",
    "DATE_REGISTER": "Registration Date",
    "TIME_ZONE": "TIME_ZONE",
    "IS_ONLINE": "IS_ONLINE",
    "TIMESTAMP_X": "TIMESTAMP_X",
    "LAST_ACTIVITY_DATE": "LAST_ACTIVITY_DATE",
    "PERSONAL_GENDER": "Gender",
    "PERSONAL_PROFESSION": "Profession",
    "PERSONAL_WWW": "Homepage",
    "PERSONAL_BIRTHDAY": "Date of Birth",
    "PERSONAL_PHOTO": "Photo",
    "PERSONAL_ICQ": "ICQ",
    "PERSONAL_PHONE": "Personal Phone",
    "PERSONAL_FAX": "Fax",
    "PERSONAL_MOBILE": "Personal Mobile",
    "PERSONAL_PAGER": "Pager",
    "PERSONAL_STREET": "Residential Street",
    "PERSONAL_CITY": "Residential City",
    "PERSONAL_STATE": "State / Region",
    "PERSONAL_ZIP": "Zip Code",
    "PERSONAL_COUNTRY": "Country",
    "PERSONAL_MAILBOX": "P.O. Box",
    "PERSONAL_NOTES": "Additional Notes",
    "WORK_PHONE": "Company Phone",
    "WORK_COMPANY": "Company",
    "WORK_POSITION": "Job Title",
    "WORK_DEPARTMENT": "Department",
    "WORK_WWW": "Company Website",
    "WORK_FAX": "WORK_FAX",
    "WORK_PAGER": "WORK_PAGER",
    "WORK_STREET": "WORK_STREET",
    "WORK_MAILBOX": "WORK_MAILBOX",
    "WORK_CITY": "Work City",
    "WORK_STATE": "WORK_STATE",
    "WORK_ZIP": "WORK_ZIP",
    "WORK_COUNTRY": "WORK_COUNTRY",
    "WORK_PROFILE": "WORK_PROFILE",
    "WORK_LOGO": "WORK_LOGO",
    "WORK_NOTES": "WORK_NOTES",
    "UF_SKYPE_LINK": "Skype Chat Link",
    "UF_ZOOM": "Zoom",
    "UF_EMPLOYMENT_DATE": "Hire Date",
    "UF_TIMEMAN": "Time Tracking",
    "UF_DEPARTMENT": "Units",
    "UF_INTERESTS": "Interests",
    "UF_SKILLS": "Skills",
    "UF_WEB_SITES": "Other Websites",
    "UF_XING": "Xing",
    "UF_LINKEDIN": "LinkedIn",
    "UF_TWITTER": "Twitter",
    "UF_SKYPE": "Skype",
    "UF_DISTRICT": "District",
    "UF_PHONE_INNER": "Extension",
    "USER_TYPE": "USER_TYPE",
}


def add(server, hook=None, **fields):
    return server.call("user.add", fields, hook=hook)


def admin_added(server, **fields) -> int:
    fields = {"EMAIL": "new@example.com", "UF_DEPARTMENT": [1], **fields}
    new_id = result(add(server, **fields))
    assert isinstance(new_id, int)
    return new_id


def user_of(server, user_id: int, hook=None) -> dict:
    (found,) = call(server, "user.get", hook, ID=user_id)
    return found


def argument_error(description: str, argument: str = "") -> tuple[int, dict]:
    return 400, {"error": "ERROR_ARGUMENT", "error_description": description, "argument": argument}


def core_error(description: str) -> tuple[int, dict]:
    return 400, {"error": "ERROR_CORE", "error_description": description}


# --- user.add ---------------------------------------------------------------------------------


def test_user_add_answers_the_new_id_and_the_user_is_everywhere_at_once(server):
    new_id = admin_added(
        server,
        EMAIL="jane@example.com",
        NAME="Jane",
        LAST_NAME="Roe",
        WORK_POSITION="Engineer",
        WORK_COMPANY="Acme",
        PERSONAL_BIRTHDAY="1990-05-17",
        UF_DEPARTMENT=1,
    )
    assert new_id == 2
    found = user_of(server, new_id)
    assert found["NAME"] == "Jane"
    assert found["EMAIL"] == "jane@example.com"
    assert found["ACTIVE"] is True
    assert found["USER_TYPE"] == "employee"
    assert found["UF_DEPARTMENT"] == [1]
    assert found["WORK_COMPANY"] == "Acme"
    assert found["PERSONAL_BIRTHDAY"] == "1990-05-17T00:00:00+00:00"
    assert found["DATE_REGISTER"] == "2026-03-02T08:30:00+00:00"
    # A profile field never given is left out, as the real user.get leaves out NULLs.
    assert "PERSONAL_PROFESSION" not in found
    (im_user,) = call(server, "im.user.list.get", ID=[new_id]).values()
    assert im_user["name"] == "Jane Roe"
    assert call(server, "timeman.status", USER_ID=new_id)["STATUS"] == "CLOSED"


def test_user_add_an_extranet_user_needs_a_group_and_belongs_to_no_department(server):
    response = add(server, EMAIL="guest@example.com", EXTRANET="Y")
    assert error_of(response) == argument_error("no_sonet_group_for_extranet")
    new_id = result(add(server, EMAIL="guest@example.com", EXTRANET="Y", SONET_GROUP_ID=[7]))
    found = user_of(server, new_id)
    assert found["USER_TYPE"] == "extranet"
    assert found["UF_DEPARTMENT"] == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"UF_DEPARTMENT": [1]}, argument_error("wrong_email")),
        ({"EMAIL": "not an address", "UF_DEPARTMENT": [1]}, argument_error("wrong_email")),
        (
            {"EMAIL": ["a@example.com"], "UF_DEPARTMENT": [1]},
            argument_error("invalid_type_field", "EMAIL"),
        ),
        ({"EMAIL": "new@example.com"}, argument_error("no_extranet_field")),
        ({"EMAIL": "new@example.com", "UF_DEPARTMENT": []}, argument_error("no_extranet_field")),
        (
            {"EMAIL": "new@example.com", "UF_DEPARTMENT": [999]},
            core_error("Department 999 not found.<br>"),
        ),
        (
            {"EMAIL": "new@example.com", "UF_DEPARTMENT": [1], "PERSONAL_MOBILE": 5551234},
            argument_error("invalid_type_field", "PERSONAL_MOBILE"),
        ),
        (
            {"EMAIL": "new@example.com", "UF_DEPARTMENT": [1], "WORK_CITY": ["Berlin"]},
            argument_error("invalid_type_field", "WORK_CITY"),
        ),
        (
            {"EMAIL": "new@example.com", "UF_DEPARTMENT": [1], "TIME_ZONE": "Mars/Olympus"},
            core_error("Unknown time zone 'Mars/Olympus'.<br>"),
        ),
        (
            {"EMAIL": "new@example.com", "UF_DEPARTMENT": [1], "NAME": "x" * 101},
            core_error("NAME is longer than 100 characters.<br>"),
        ),
        (
            {"EMAIL": "new@example.com", "UF_DEPARTMENT": [1], "PERSONAL_GENDER": "X"},
            core_error("PERSONAL_GENDER must be M, F or empty.<br>"),
        ),
    ],
)
@sqlite_only
def test_user_add_refusals(server, fields, expected):
    assert error_of(add(server, **fields)) == expected
    assert [u["ID"] for u in call(server, "user.get")] == ["1"]


def test_user_add_refuses_an_email_someone_has_in_any_case(server):
    admin_added(server, EMAIL="Jane@Example.com")
    response = add(server, EMAIL="jane@example.COM", UF_DEPARTMENT=[1])
    assert error_of(response) == argument_error("A user with this email already exists")


def test_user_add_is_for_administrators_and_the_full_user_scope(server):
    alice = server.add_user("Alice", "Local")
    response = add(server, server.add_webhook(alice, ["user"]), EMAIL="x@example.com",
                   UF_DEPARTMENT=[1])  # fmt: skip
    assert error_of(response) == core_error("access_denied")
    basic = server.add_webhook(server.admin_id, ["user_basic"])
    response = add(server, basic, EMAIL="x@example.com", UF_DEPARTMENT=[1])
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_user_add_stops_at_the_plans_number_of_employees(server):
    server.run(admin.update_portal, server.store, None, plan="standard")
    for number in range(48):
        server.add_user(f"Person{number}", "Staff")
    # The administrator and 48 people: one seat left of Standard's 50.
    admin_added(server, EMAIL="last@example.com")
    response = add(server, EMAIL="one.more@example.com", UF_DEPARTMENT=[1])
    assert error_of(response) == argument_error("user_count_exceeded")
    # An extranet user takes no seat, and a dismissed employee frees one.
    result(add(server, EMAIL="guest@example.com", EXTRANET="Y", SONET_GROUP_ID=3))
    result(server.call("user.update", {"ID": 2, "ACTIVE": "N"}))
    admin_added(server, EMAIL="one.more@example.com")


# --- user.update ------------------------------------------------------------------------------


def test_user_update_changes_what_is_given_and_leaves_the_rest(server):
    new_id = admin_added(server, NAME="Jane", LAST_NAME="Roe", WORK_COMPANY="Acme")
    assert result(server.call("user.update", {
        "ID": new_id, "LAST_NAME": "Doe", "PERSONAL_PROFESSION": "Pilot", "UF_SKILLS": "flying",
        "TIME_ZONE": "Europe/Berlin", "PERSONAL_BIRTHDAY": "2000-02-29T00:00:00+03:00",
        "DATE_REGISTER": "2001-01-01T00:00:00+00:00",
    })) is True  # fmt: skip
    found = user_of(server, new_id)
    assert (found["NAME"], found["LAST_NAME"]) == ("Jane", "Doe")
    assert found["WORK_COMPANY"] == "Acme"
    assert found["PERSONAL_PROFESSION"] == "Pilot"
    assert found["UF_SKILLS"] == "flying"
    assert found["TIME_ZONE"] == "Europe/Berlin"
    assert found["PERSONAL_BIRTHDAY"] == "2000-02-29T00:00:00+00:00"
    # DATE_REGISTER is not a field a call may set.
    assert found["DATE_REGISTER"] == "2026-03-02T08:30:00+00:00"
    # A birthday that is no date clears it, as CRestUtil::unConvertDate's false does.
    result(server.call("user.update", {"ID": new_id, "PERSONAL_BIRTHDAY": "someday"}))
    assert user_of(server, new_id)["PERSONAL_BIRTHDAY"] == ""


def test_deactivating_a_user_stops_their_webhooks_at_once(server):
    alice = server.add_user("Alice", "Local")
    hook = server.add_webhook(alice, ["user"])
    assert call(server, "user.current", hook)["ID"] == str(alice)
    assert result(server.call("user.update", {"ID": alice, "ACTIVE": "N"})) is True
    assert server.call("user.current", hook=hook).status_code == 403
    assert user_of(server, alice)["ACTIVE"] is False
    result(server.call("user.update", {"ID": alice, "ACTIVE": "Y"}))
    assert call(server, "user.current", hook)["ID"] == str(alice)


def test_a_user_edits_their_own_profile_but_not_their_standing(server):
    alice = server.add_user("Alice", "Local")
    hook = server.add_webhook(alice, ["user"])
    sales = server.run(admin.add_department, server.store, name="Sales")
    response = server.call("user.update", {
        "ID": alice, "WORK_POSITION": "Lead", "ACTIVE": "N", "UF_DEPARTMENT": [sales.id],
    }, hook=hook)  # fmt: skip
    assert result(response) is True
    found = user_of(server, alice)
    assert found["WORK_POSITION"] == "Lead"
    # What only an administrator may change is passed over without a word.
    assert found["ACTIVE"] is True
    assert found["UF_DEPARTMENT"] == [1]
    bob = server.add_user("Bob", "Local")
    response = server.call("user.update", {"ID": bob, "NAME": "Robert"}, hook=hook)
    assert error_of(response) == core_error("access_denied")
    assert user_of(server, bob)["NAME"] == "Bob"


@pytest.mark.parametrize("user_id", [None, 0, -3, "abc", [2]])
@sqlite_only
def test_user_update_without_a_positive_id_is_access_denied(server, user_id):
    params = {} if user_id is None else {"ID": user_id}
    assert error_of(server.call("user.update", {**params, "NAME": "X"})) == core_error(
        "access_denied"
    )


def test_user_update_of_no_such_user_is_an_empty_core_error(server):
    for user_id in (77, 10**30):
        response = server.call("user.update", {"ID": user_id, "NAME": "X"})
        assert error_of(response) == core_error("")


def test_user_update_refuses_an_email_another_user_has(server):
    admin_added(server, EMAIL="jane@example.com")
    bob = admin_added(server, EMAIL="bob@example.com")
    response = server.call("user.update", {"ID": bob, "EMAIL": "JANE@example.com"})
    assert error_of(response) == core_error("A user with this email already exists.<br>")
    response = server.call("user.update", {"ID": bob, "EMAIL": "no-at-sign"})
    assert error_of(response) == core_error("Incorrect e-mail address.<br>")
    # One's own address, in another case, is no conflict.
    result(server.call("user.update", {"ID": bob, "EMAIL": "Bob@example.com"}))
    assert user_of(server, bob)["EMAIL"] == "Bob@example.com"


def test_moving_a_user_between_departments_moves_who_manages_their_day(server):
    head_of_sales = server.add_user("Sam", "Head")
    head_of_ops = server.add_user("Olga", "Head")
    sales = server.run(admin.add_department, server.store, name="Sales", head_id=head_of_sales)
    ops = server.run(admin.add_department, server.store, name="Ops", head_id=head_of_ops)
    worker = admin_added(server, EMAIL="w@example.com", UF_DEPARTMENT=[sales.id])
    sam = server.add_webhook(head_of_sales, ["timeman"])
    olga = server.add_webhook(head_of_ops, ["timeman"])
    assert server.call("timeman.status", {"USER_ID": worker}, hook=sam).status_code == 200
    assert server.call("timeman.status", {"USER_ID": worker}, hook=olga).status_code != 200
    result(server.call("user.update", {"ID": worker, "UF_DEPARTMENT": ops.id}))
    assert server.call("timeman.status", {"USER_ID": worker}, hook=olga).status_code == 200
    assert server.call("timeman.status", {"USER_ID": worker}, hook=sam).status_code != 200


def test_another_portals_administrator_reaches_none_of_this_portals_people(server):
    local = [server.add_user(f"Local{n}", "Person") for n in range(3)]
    now = server.clock.now()
    server.run(admin.add_portal, server.store, now, domain="acme.localhost")
    made, code = server.run(
        admin.add_webhook, server.store, now, user_id=1, scopes=["user"], domain="acme.localhost"
    )
    hook = f"/rest/{made.user_id}/{code}/"

    def acme(method: str, params: dict):
        return server.http.post(f"{hook}{method}", json=params, headers={"Host": ACME_HOST})

    # The ID of a person here is nobody there: no change, and no hint that it exists.
    response = acme("user.update", {"ID": local[-1], "NAME": "X"})
    assert error_of(response) == core_error("")
    assert user_of(server, local[-1])["NAME"] == "Local2"
    # Invitations land in the caller's portal; e-mails are per portal.
    admin_added(server, EMAIL="shared@example.com")
    response = acme("user.add", {"EMAIL": "shared@example.com", "UF_DEPARTMENT": [1]})
    assert result(response) == 2
    assert ids(result(acme("user.get", {}))) == {1, 2}
    assert result(acme("user.get", {"ID": 2}))[0]["EMAIL"] == "shared@example.com"


# --- user.fields ------------------------------------------------------------------------------


def test_user_fields_is_the_pages_answer(server):
    assert call(server, "user.fields") == PAGE_FIELDS
    assert list(call(server, "user.fields")) == list(PAGE_FIELDS)


@pytest.mark.parametrize("scope", ["user_basic", "user_brief"])
def test_user_fields_of_a_narrow_scope_names_what_it_reads(server, scope):
    hook = server.add_webhook(server.admin_id, [scope])
    titles = call(server, "user.fields", hook)
    assert set(titles) < set(PAGE_FIELDS)
    assert all(titles[name] == PAGE_FIELDS[name] for name in titles)
    assert ("EMAIL" in titles) == (scope == "user_basic")
    assert "LAST_LOGIN" not in titles


# --- user.search ------------------------------------------------------------------------------


@pytest.fixture
def staff(server):
    sales = server.run(admin.add_department, server.store, name="Field Sales")
    people = {
        "john": server.add_user("John", "Smith", position="Sales manager"),
        "johanna": server.add_user("Johanna", "Berg", position="Accountant"),
        "mary": server.add_user("Mary", "Johnson", position="Engineer",
                                department_ids=[sales.id]),
    }  # fmt: skip
    return people


def ids(found) -> set[int]:
    return {int(u["ID"]) for u in found}


def test_user_search_find_matches_how_words_begin(server, staff):
    assert ids(call(server, "user.search", FILTER={"FIND": "joh"})) == set(staff.values())
    assert ids(call(server, "user.search", FILTER={"FIND": "john sm"})) == {staff["john"]}
    # A department's name counts, and a word inside a name: "Field Sales".
    assert ids(call(server, "user.search", FIND="sales")) == {staff["john"], staff["mary"]}
    # Not the middle of a word.
    assert ids(call(server, "user.search", FIND="ohn")) == set()


def test_user_search_matches_name_fields_by_their_start(server, staff):
    found = call(server, "user.search", FILTER={"NAME": "Joh"})
    assert ids(found) == {staff["john"], staff["johanna"]}
    assert ids(call(server, "user.search", FILTER={"LAST_NAME": "john"})) == {staff["mary"]}
    assert ids(call(server, "user.search", FILTER={"UF_DEPARTMENT_NAME": "field"})) == {
        staff["mary"]
    }
    # user.get compares the same filter exactly, and knows no UF_DEPARTMENT_NAME.
    assert call(server, "user.get", FILTER={"NAME": "Joh"}) == []
    assert len(call(server, "user.get", FILTER={"UF_DEPARTMENT_NAME": "field"})) == 4


def test_user_search_pages_and_counts_like_user_get(server):
    for number in range(55):
        server.add_user(f"Tester{number:02d}", "Paged")
    first = server.call("user.search", {"FIND": "tester"}).json()
    assert (len(first["result"]), first["next"], first["total"]) == (50, 50, 55)
    second = server.call("user.search", {"FIND": "tester", "start": 50}).json()
    assert len(second["result"]) == 5
    assert "next" not in second


def test_filters_on_fields_the_scope_hides_are_ignored(server):
    jane = server.add_user("Jane", "Roe", email="jane@example.com")
    brief = server.add_webhook(server.admin_id, ["user_brief"])
    # user_brief cannot read e-mails, so it cannot probe them with a filter either.
    assert len(call(server, "user.get", brief, FILTER={"EMAIL": "jane@example.com"})) == 2
    assert ids(call(server, "user.get", FILTER={"EMAIL": "jane@example.com"})) == {jane}


def test_a_profile_field_filters_and_sorts(server):
    a = admin_added(server, EMAIL="a@example.com", WORK_COMPANY="Zeta")
    b = admin_added(server, EMAIL="b@example.com", WORK_COMPANY="Alpha")
    assert ids(call(server, "user.get", FILTER={"WORK_COMPANY": "Zeta"})) == {a}
    assert ids(call(server, "user.get", FILTER={"%WORK_COMPANY": "lph"})) == {b}
    ordered = call(server, "user.get", SORT="WORK_COMPANY", ORDER="DESC")
    assert [int(u["ID"]) for u in ordered] == [a, b, 1]


# --- what a review found ------------------------------------------------------------------------


def test_user_search_keeps_the_meaning_of_prefixed_name_keys(server, staff):
    everyone_else = {1, staff["johanna"], staff["mary"]}
    assert ids(call(server, "user.search", FILTER={"!NAME": "John"})) == everyone_else
    assert ids(call(server, "user.search", FILTER={">=NAME": "Jo"})) == {
        staff["john"], staff["johanna"], staff["mary"]
    }  # fmt: skip


def test_find_does_not_look_at_e_mails(server):
    server.add_user("Jane", "Roe", email="zebra@example.com")
    brief = server.add_webhook(server.admin_id, ["user_brief"])
    for hook in (None, brief):
        assert call(server, "user.search", hook, FIND="zebra") == []
        assert call(server, "user.get", hook, NAME_SEARCH="zebra") == []


def test_search_folds_case_beyond_ascii_and_takes_wildcards_literally(server):
    ivan = server.add_user("Иван", "Élodie")
    server.add_user("Percent", "User")
    assert ids(call(server, "user.search", FIND="иван")) == {ivan}
    assert ids(call(server, "user.search", FILTER={"LAST_NAME": "élo"})) == {ivan}
    assert ids(call(server, "user.get", FILTER={"%NAME": "иВа"})) == {ivan}
    assert call(server, "user.search", FIND="%") == []
    assert call(server, "user.search", FIND="_") == []


def test_huge_searches_answer_and_never_fail(server):
    words = " ".join(f"w{number}" for number in range(3000))
    assert call(server, "user.search", FIND=words) == []
    assert call(server, "user.search", FILTER={"UF_DEPARTMENT_NAME": "x" * 60_000}) == []
    assert call(server, "user.get", FILTER={"%WORK_COMPANY": "x" * 60_000}) == []
    shallow = call(server, "user.get", FILTER={"!%NAME": [f"b{n}" for n in range(900)]})
    assert ids(shallow) == {1}
    response = server.call("user.get", {"FILTER": {"%NAME": [f"a{n}" for n in range(1001)]}})
    assert response.status_code == 400
    assert response.json()["error"] == "ERROR_ARGUMENT"


def test_user_type_follows_the_departments(server):
    guest = result(add(server, EMAIL="guest@example.com", EXTRANET="Y", SONET_GROUP_ID=1))
    result(server.call("user.update", {"ID": guest, "UF_DEPARTMENT": [1]}))
    assert user_of(server, guest)["USER_TYPE"] == "employee"
    result(server.call("user.update", {"ID": guest, "UF_DEPARTMENT": []}))
    assert user_of(server, guest)["USER_TYPE"] == "extranet"


def test_type_rules_differ_between_add_and_update(server):
    # user.add's checkTypeFields: WORK_LOGO too must be text; user.update has no such check.
    response = add(server, EMAIL="n@example.com", UF_DEPARTMENT=[1], WORK_LOGO=5)
    assert error_of(response) == argument_error("invalid_type_field", "WORK_LOGO")
    assert result(server.call("user.update", {"ID": 1, "WORK_PHONE": 5551234})) is True
    assert user_of(server, 1)["WORK_PHONE"] == "5551234"
    # A non-empty list is true to PHP, so ACTIVE=["Y"] leaves the user active.
    new_id = admin_added(server, ACTIVE=["Y"])
    assert user_of(server, new_id)["ACTIVE"] is True


def test_user_add_checks_in_the_real_order(server):
    # The invitation's own checks come before what CUser would refuse.
    response = add(server, UF_DEPARTMENT=[1], PERSONAL_GENDER="X")
    assert error_of(response) == argument_error("wrong_email")
    response = add(server, EMAIL="n@example.com", TIME_ZONE="Nope/Zone")
    assert error_of(response) == argument_error("no_extranet_field")
