"""user.current, user.get, profile, server.time and the introspection methods."""

from __future__ import annotations

import pytest

from b24local.scopes import build_registry

GET_FIELDS = [
    "ID", "XML_ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "LAST_LOGIN",
    "DATE_REGISTER", "TIME_ZONE", "IS_ONLINE", "TIMESTAMP_X", "LAST_ACTIVITY_DATE",
    "PERSONAL_GENDER", "PERSONAL_WWW", "PERSONAL_BIRTHDAY", "PERSONAL_MOBILE", "PERSONAL_CITY",
    "WORK_PHONE", "WORK_POSITION", "UF_EMPLOYMENT_DATE", "UF_DEPARTMENT", "UF_PHONE_INNER",
    "USER_TYPE",
]  # fmt: skip


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def add_users(server, count: int) -> list[int]:
    return [server.add_user(f"User{i:03d}", f"Last{i % 7}") for i in range(count)]


# --- user.current ---------------------------------------------------------------------------


def test_user_current(server):
    user = ok(server.call("user.current"))["result"]
    assert user["ID"] == "1"
    assert user["ACTIVE"] is True
    assert user["NAME"] == "Admin"
    assert user["EMAIL"] == "admin@localhost"
    assert user["DATE_REGISTER"] == "2026-03-02T08:30:00+00:00"
    assert user["IS_ONLINE"] == "N"
    assert user["LAST_ACTIVITY_DATE"] == ""
    assert user["UF_DEPARTMENT"] == [1]
    server.call("im.user.status.set", {"STATUS": "online"})
    user = ok(server.call("user.current"))["result"]
    assert user["LAST_ACTIVITY_DATE"] == "2026-03-02 08:30:00"
    assert user["IS_ONLINE"] == "Y"


def test_user_current_through_a_brief_scope_hides_contacts(server):
    user_id = server.add_user("Jane", "Roe", email="jane@example.com")
    hook = server.add_webhook(user_id, ["user_brief"])
    user = ok(server.call("user.current", hook=hook))["result"]
    assert user["NAME"] == "Jane"
    assert "EMAIL" not in user
    basic = server.add_webhook(user_id, ["user_basic"])
    assert ok(server.call("user.current", hook=basic))["result"]["EMAIL"] == "jane@example.com"


@pytest.mark.parametrize(
    ("scope", "hidden"),
    [
        ("user", []),
        # user/user-scope.md's user_basic column lists WORK_WWW, not PERSONAL_WWW.
        ("user_basic", ["LAST_LOGIN", "PERSONAL_WWW", "USER_TYPE"]),
        ("user_brief", ["EMAIL", "LAST_LOGIN", "PERSONAL_WWW", "PERSONAL_MOBILE", "WORK_PHONE",
                        "USER_TYPE"]),
    ],
)  # fmt: skip
def test_fields_per_scope_follow_the_scope_page(server, scope, hidden):
    user_id = server.add_user("Jane", "Roe", email="jane@example.com")
    hook = server.add_webhook(user_id, [scope])
    shown = [name for name in GET_FIELDS if name not in hidden]
    assert list(ok(server.call("user.current", hook=hook))["result"]) == shown
    (user,) = ok(server.call("user.get", {"ID": user_id}, hook=hook))["result"]
    assert list(user) == shown
    selected = ok(server.call("user.get", {"ID": user_id, "select": ["*"]}, hook=hook))
    assert list(selected["result"][0]) == shown


def test_user_methods_need_a_user_scope(server):
    user_id = server.add_user()
    hook = server.add_webhook(user_id, ["im"])
    response = server.call("user.get", hook=hook)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


# --- user.get -------------------------------------------------------------------------------


def test_user_get_first_page(server):
    body = ok(server.call("user.get"))
    assert list(body) == ["result", "total", "time"]
    assert body["total"] == 1
    (user,) = body["result"]
    assert list(user) == GET_FIELDS
    assert user["ID"] == "1"
    # user.get hands these two out as PHP objects, rendered {} (as the reference shows).
    assert user["TIMESTAMP_X"] == {}
    assert user["LAST_ACTIVITY_DATE"] == {}


def test_user_get_pages_by_fifty(server):
    add_users(server, 119)
    first = ok(server.call("user.get"))
    assert list(first) == ["result", "next", "total", "time"]
    assert (len(first["result"]), first["next"], first["total"]) == (50, 50, 120)
    second = ok(server.call("user.get", {"start": 50}))
    assert (len(second["result"]), second["next"]) == (50, 100)
    third = ok(server.call("user.get", {"start": 100}))
    assert len(third["result"]) == 20
    assert "next" not in third
    ids = [int(u["ID"]) for page in (first, second, third) for u in page["result"]]
    assert ids == list(range(1, 121))


@pytest.mark.parametrize(
    ("start", "first_id", "count", "next_"),
    [(7, 1, 50, 50), (49, 1, 50, 50), (50, 51, 10, None), ("55", 51, 10, None), (99, 51, 10, None)],
)
def test_user_get_start_between_pages_means_the_page_it_falls_in(
    server, start, first_id, count, next_
):
    add_users(server, 59)
    body = ok(server.call("user.get", {"start": start}))
    assert int(body["result"][0]["ID"]) == first_id
    assert len(body["result"]) == count
    assert body.get("next") == next_
    assert body["total"] == 60


def test_a_start_past_the_end_gives_an_empty_page(server):
    body = ok(server.call("user.get", {"start": 120}))
    assert (body["result"], body["total"]) == ([], 1)
    assert "next" not in body


def test_department_get_start_between_pages(server):
    assert [d["ID"] for d in ok(server.call("department.get", {"start": 30}))["result"]] == ["1"]


def test_user_get_start_minus_one_skips_the_count(server):
    add_users(server, 60)
    body = ok(server.call("user.get", {"start": -1}))
    assert list(body) == ["result", "time"]
    assert len(body["result"]) == 50


def test_user_get_filter_by_id_comparisons(server):
    add_users(server, 9)
    ids = lambda body: [int(u["ID"]) for u in body["result"]]  # noqa: E731
    assert ids(ok(server.call("user.get", {"FILTER": {">=ID": 8}}))) == [8, 9, 10]
    assert ids(ok(server.call("user.get", {"FILTER": {"<ID": 3}}))) == [1, 2]
    assert ids(ok(server.call("user.get", {"FILTER": {"@ID": [2, 4]}}))) == [2, 4]
    assert ids(ok(server.call("user.get", {"FILTER": {"!@ID": [2, 4]}})))[:3] == [1, 3, 5]
    assert ids(ok(server.call("user.get", {"ID": 5}))) == [5]


def test_user_get_filter_patterns_on_numbers_and_order_on_flags(server):
    """A pattern matches an ID by its digits; flags order as Bitrix's N < Y."""
    add_users(server, 11)
    ids = lambda flt: [int(u["ID"]) for u in ok(server.call("user.get", {"FILTER": flt}))["result"]]  # noqa: E731
    assert ids({"%ID": 1}) == [1, 10, 11, 12]
    assert ids({"!%ID": 1})[:2] == [2, 3]
    assert ids({">ACTIVE": "N"}) == list(range(1, 13))
    assert ids({">ACTIVE": "Y"}) == []
    assert ids({"<ACTIVE": "Y"}) == []


def test_user_get_filter_text(server):
    server.add_user("John", "Johnson")
    server.add_user("Johanna", "Smith")
    server.add_user("Mary", "Dawson")
    names = lambda flt: [u["NAME"] for u in ok(server.call("user.get", {"FILTER": flt}))["result"]]  # noqa: E731
    assert names({"%NAME": "joh"}) == ["John", "Johanna"]
    assert names({"=%NAME": "Jo%"}) == ["John", "Johanna"]
    assert names({"!%LAST_NAME": "son"}) == ["Admin", "Johanna"]
    assert names({"LAST_NAME": "Smith"}) == ["Johanna"]
    assert names({"NAME_SEARCH": "daw"}) == ["Mary"]


def test_user_get_filter_as_form_encoded_brackets(server):
    server.add_user("John", "Johnson")
    response = server.http.get(
        f"{server.webhook}user.get.json?FILTER[%25NAME]=joh&select[]=ID&select[]=NAME"
    )
    body = ok(response)
    assert body["result"] == [{"ID": "2", "NAME": "John"}]


def test_user_get_filter_by_department_and_activity(server):
    add_users(server, 3)
    assert ok(server.call("user.get", {"FILTER": {"UF_DEPARTMENT": 1}}))["total"] == 4
    assert ok(server.call("user.get", {"FILTER": {"UF_DEPARTMENT": 2}}))["total"] == 0
    assert ok(server.call("user.get", {"FILTER": {"ACTIVE": True}}))["total"] == 4
    assert ok(server.call("user.get", {"FILTER": {"ACTIVE": "N"}}))["total"] == 0


def test_user_get_filter_by_date(server):
    server.clock.advance(86400)
    server.add_user("Late", "Comer")
    late = ok(server.call("user.get", {"FILTER": {">DATE_REGISTER": "2026-03-02T12:00:00+00:00"}}))
    assert [u["NAME"] for u in late["result"]] == ["Late"]
    nonsense = ok(server.call("user.get", {"FILTER": {">DATE_REGISTER": "yesterday-ish"}}))
    assert nonsense["total"] == 0


@pytest.mark.parametrize(
    ("key", "value", "total"),
    [
        # Offsets that would carry the moment past the calendar's ends in UTC.
        (">DATE_REGISTER", "9999-12-31T23:59:59-23:59", 0),
        ("<DATE_REGISTER", "9999-12-31T23:59:59-23:59", 1),
        (">DATE_REGISTER", "0001-01-01T00:00:00+23:59", 1),
        ("<=DATE_REGISTER", "0001-01-01T00:00:00+23:59", 0),
        ("TIMESTAMP_X", "9999-12-31T23:59:59-23:59", 0),
        ("!TIMESTAMP_X", "0001-01-01T00:00:00+23:59", 1),
        ("<LAST_LOGIN", "9999-12-31T23:59:59-23:59", 0),
        (">=PERSONAL_BIRTHDAY", "9999-12-31T23:59:59-23:59", 0),
    ],
)
def test_user_get_filter_by_dates_at_the_calendar_s_ends(server, key, value, total):
    assert ok(server.call("user.get", {"FILTER": {key: value}}))["total"] == total


def test_user_get_filter_by_last_activity(server):
    early = server.add_user("Early", "Bird")
    server.add_user("Never", "Seen")
    server.call("im.user.status.set", {"STATUS": "online"}, hook=server.add_webhook(early, ["im"]))
    server.clock.advance(3600)
    server.call("im.user.status.set", {"STATUS": "dnd"})
    names = lambda flt: [u["NAME"] for u in ok(server.call("user.get", {"FILTER": flt}))["result"]]  # noqa: E731
    assert names({">=LAST_ACTIVITY_DATE": "2026-03-02T09:00:00+00:00"}) == ["Admin"]
    assert names({"<LAST_ACTIVITY_DATE": "2026-03-02T09:00:00+00:00"}) == ["Early"]
    assert names({"LAST_ACTIVITY_DATE": "2026-03-02T10:30:00+01:00"}) == ["Admin"]
    assert names({"@LAST_ACTIVITY_DATE": ["2026-03-02T08:30:00", "2026-03-02T09:30:00"]}) == [
        "Admin",
        "Early",
    ]
    # Without activity there is nothing to compare: never-seen users match no condition.
    assert names({"!LAST_ACTIVITY_DATE": "2026-03-02T08:30:00+00:00"}) == ["Admin"]
    assert names({">LAST_ACTIVITY_DATE": "yesterday-ish"}) == []


@pytest.mark.parametrize(
    "key", ["UF_EMPLOYMENT_DATE", ">UF_EMPLOYMENT_DATE", "<=UF_EMPLOYMENT_DATE",
            "!UF_EMPLOYMENT_DATE", "@UF_EMPLOYMENT_DATE"],
)  # fmt: skip
def test_user_get_filter_by_the_employment_date_matches_nothing(server, key):
    # b24local keeps no employment date (the field is always ""), so no date compares.
    add_users(server, 2)
    assert ok(server.call("user.get", {"FILTER": {key: "2020-01-01"}}))["total"] == 0


def test_user_get_filter_by_a_long_id_list(server):
    add_users(server, 3)
    wanted = list(range(3, 40_003))
    ids = lambda flt: [u["ID"] for u in ok(server.call("user.get", {"FILTER": flt}))["result"]]  # noqa: E731
    assert ids({"@ID": wanted}) == ["3", "4"]
    assert ids({"!@ID": wanted}) == ["1", "2"]
    assert ids({"UF_DEPARTMENT": list(range(1, 40_001))}) == ["1", "2", "3", "4"]
    assert ids({"!UF_DEPARTMENT": list(range(2, 40_002))}) == ["1", "2", "3", "4"]


def test_user_get_json_integers_past_64_bits(server):
    add_users(server, 2)
    # PHP's json_decode reads them as floats, which intval wraps: 2**64 - 1 is 0.
    big = 18446744073709551615
    assert ok(server.call("user.get", {"FILTER": {"ID": big}}))["total"] == 0
    assert ok(server.call("user.get", {"ID": big}))["total"] == 0
    first = ok(server.call("user.get", {"start": big}))
    assert (first["total"], len(first["result"])) == (3, 3)
    # The same digits as a string saturate instead: a page far past the end.
    far = ok(server.call("user.get", {"start": str(big)}))
    assert (far["total"], far["result"]) == (3, [])


def test_user_get_filter_is_online(server):
    other = server.add_user()
    hook = server.add_webhook(other, ["im"])
    server.call("im.user.status.set", {"STATUS": "online"}, hook=hook)
    online = ok(server.call("user.get", {"FILTER": {"IS_ONLINE": "Y"}}))
    assert [u["ID"] for u in online["result"]] == [str(other)]
    offline = ok(server.call("user.get", {"FILTER": {"IS_ONLINE": "N"}}))
    assert [u["ID"] for u in offline["result"]] == ["1"]


def test_user_get_sort(server):
    server.add_user("Bob", "Zulu")
    server.add_user("Al", "Alpha")
    body = ok(server.call("user.get", {"sort": "LAST_NAME", "order": "DESC"}))
    assert [u["LAST_NAME"] for u in body["result"]] == ["Zulu", "Alpha", ""]
    body = ok(server.call("user.get", {"SORT": "ID", "ORDER": "desc"}))
    assert [u["ID"] for u in body["result"]] == ["3", "2", "1"]


def test_user_get_select(server):
    body = ok(server.call("user.get", {"select": ["ID", "NAME", "NOPE"]}))
    assert body["result"] == [{"ID": "1", "NAME": "Admin"}]
    body = ok(server.call("user.get", {"select": ["UF_*"]}))
    assert list(body["result"][0]) == ["UF_EMPLOYMENT_DATE", "UF_DEPARTMENT", "UF_PHONE_INNER"]


def test_user_get_under_user_brief_hides_contacts(server):
    user_id = server.add_user(email="x@example.com")
    hook = server.add_webhook(user_id, ["user_brief"])
    body = ok(server.call("user.get", {"ID": user_id}, hook=hook))
    assert "EMAIL" not in body["result"][0]
    assert ok(server.call("user.get", {"ID": user_id, "select": ["EMAIL"]}, hook=hook))[
        "result"
    ] == [{}]


@pytest.mark.parametrize("start", [-5, "abc", None])
def test_user_get_odd_start_means_the_first_page(server, start):
    body = ok(server.call("user.get", {"start": start}))
    assert body["total"] == 1


# --- common methods ---------------------------------------------------------------------------


def test_server_time(server):
    assert ok(server.call("server.time"))["result"] == "2026-03-02T08:30:00+00:00"
    server.clock.advance(61)
    assert ok(server.call("server.time"))["result"] == "2026-03-02T08:31:01+00:00"


def test_profile(server):
    assert ok(server.call("profile"))["result"] == {
        "ID": "1",
        "ADMIN": True,
        "NAME": "Admin",
        "LAST_NAME": "",
        "PERSONAL_GENDER": "",
        "TIME_ZONE": "",
    }
    other = server.add_user("Eve", "Doe", time_zone="Europe/Berlin")
    hook = server.add_webhook(other, ["im"])
    profile = ok(server.call("profile", hook=hook))["result"]
    assert (profile["ID"], profile["ADMIN"], profile["TIME_ZONE"]) == (
        str(other),
        False,
        "Europe/Berlin",
    )


def test_methods_lists_what_the_caller_may_call(server):
    registry = build_registry()
    # The old path's methods: REST 3.0-only ones are listed by its OpenAPI document.
    everything = [spec.name for spec in registry.v2_methods()]
    assert "timeman.record.list" not in everything
    assert ok(server.call("methods"))["result"] == everything
    assert ok(server.call("methods", {"full": True}))["result"] == everything
    other = server.add_user()
    hook = server.add_webhook(other, ["im"])
    mine = ok(server.call("methods", hook=hook))["result"]
    assert "im.user.get" in mine and "server.time" in mine and "user.get" not in mine
    im_only = ok(server.call("methods", {"scope": "im"}))["result"]
    assert im_only == sorted(n for n in everything if n.startswith("im."))
    common = ok(server.call("methods", {"scope": ""}))["result"]
    assert "server.time" in common and "im.user.get" not in common


def test_method_get(server):
    other = server.add_user()
    hook = server.add_webhook(other, ["im"])
    check = lambda name: ok(server.call("method.get", {"name": name}, hook=hook))["result"]  # noqa: E731
    assert check("im.user.get") == {"isExisting": True, "isAvailable": True}
    assert check("user.get") == {"isExisting": True, "isAvailable": False}
    assert check("crm.deal.add") == {"isExisting": False, "isAvailable": False}
    assert check("") == {"isExisting": False, "isAvailable": False}


def test_scope(server):
    assert ok(server.call("scope"))["result"] == build_registry().scopes()
    assert "im" in build_registry().scopes() and "user_brief" in build_registry().scopes()
    other = server.add_user()
    hook = server.add_webhook(other, ["im"])
    assert ok(server.call("scope", hook=hook))["result"] == ["im"]
    full = ok(server.call("scope", {"full": True}, hook=hook))["result"]
    # The platform's whole list, ours included, whatever the caller was granted.
    assert set(build_registry().scopes()) <= set(full)
    assert {"crm", "tasks", "sonet_group", "user.userfield", "sign.b2e"} <= set(full)
    assert len(full) == len(set(full)) == 51
    assert ok(server.call("scope", {"full": "N"}, hook=hook))["result"] == ["im"]
