"""The platform's own methods: user.admin, user.access, access.name, feature.get."""

from __future__ import annotations

import pytest

from b24local import admin

# Where the store plays no part, SQLite alone.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def result(response):
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"result", "time"}
    return response.json()["result"]


def hook_of(server, **fields) -> tuple[int, str]:
    user_id = server.run(
        admin.add_user, server.store, server.clock.now(), name="Ann", last_name="Lee", **fields
    )
    user_id = user_id.id
    return user_id, server.add_webhook(user_id, ["im"])


# --- user.admin -----------------------------------------------------------------------------


@sqlite_only
def test_user_admin_answers_for_the_caller(server):
    assert result(server.call("user.admin")) is True
    _, hook = hook_of(server)
    assert result(server.call("user.admin", hook=hook)) is False
    # Parameters change nothing: it is always about the caller.
    assert result(server.call("user.admin", {"ID": 1, "ADMIN": "Y"}, hook=hook)) is False
    _, admin_hook = hook_of(server, admin=True)
    assert result(server.call("USER.ADMIN", hook=admin_hook)) is True


# --- feature.get ----------------------------------------------------------------------------


def feature(server, params):
    return server.call("feature.get", params)


def test_feature_get_follows_the_portal_plan(server):
    for code in ("rest_offline_extended", "rest_auth_connector"):
        assert result(feature(server, {"CODE": code})) == {"value": "Y"}
        assert result(feature(server, {"code": code})) == {"value": "Y"}
    assert result(feature(server, {"CODE": "no_such_feature"})) == {"value": "N"}
    # Codes are matched exactly; an array is PHP's "Array", no feature.
    assert result(feature(server, {"CODE": "REST_AUTH_CONNECTOR"})) == {"value": "N"}
    assert result(feature(server, {"CODE": ["rest_auth_connector"]})) == {"value": "N"}
    server.run(admin.update_portal, server.store, None, plan="standard")
    assert result(feature(server, {"CODE": "rest_auth_connector"})) == {"value": "N"}
    server.run(admin.update_portal, server.store, None, plan="enterprise")
    assert result(feature(server, {"CODE": "rest_offline_extended"})) == {"value": "Y"}


@pytest.mark.parametrize("params", [{}, {"CODE": ""}, {"CODE": "0"}, {"CODE": None}, {"CODE": []}])
def test_feature_get_without_a_code(server, params):
    answer = feature(server, params)
    assert answer.status_code == 400
    assert answer.json() == {"error": "CODE_EMPTY", "error_description": "CODE can't be empty"}


# --- access.name ----------------------------------------------------------------------------


def add_department(server, name: str, parent_id: int | None = None) -> int:
    department = server.run(admin.add_department, server.store, name=name, parent_id=parent_id)
    return department.id


@sqlite_only
def test_access_name_as_the_page_shows(server):
    assert result(server.call("access.name", {"ACCESS": ["G2", "AU"]})) == {
        "G2": {"provider": "", "name": "All visitors", "provider_id": "other"},
        "AU": {"provider": "", "name": "All authorized users", "provider_id": "other"},
    }


def test_access_name_of_users_departments_and_groups(server):
    ann = server.add_user("Ann", "Lee")
    sales = add_department(server, "Sales")
    named = result(
        server.call("access.name", {"access": [f"U{ann}", f"D{sales}", f"DR{sales}", "G1"]})
    )
    assert named == {
        f"U{ann}": {"provider": "Users", "name": "Ann Lee", "provider_id": "user"},
        f"D{sales}": {"provider": "Departments", "name": "Sales", "provider_id": "intranet"},
        f"DR{sales}": {
            "provider": "Departments",
            "name": "Sales (with subdepartments)",
            "provider_id": "intranet",
        },
        "G1": {"provider": "User groups", "name": "Administrators", "provider_id": "group"},
    }
    # One code alone is a list of one.
    assert list(result(server.call("access.name", {"ACCESS": "AU"}))) == ["AU"]


def test_access_name_leaves_out_what_names_nothing(server):
    nothing = ["U999999", "D999", "G77", "XX", "u1", "U" + "9" * 40, "DR", "U" + "9" * 5000]
    nothing += ["D" + "0" * 5000 + "7", "DR" + "9" * 4301, "U2147483648"]
    assert result(server.call("access.name", {"ACCESS": nothing})) == []
    assert result(server.call("access.name", {"ACCESS": [["AU"], {"a": 1}, 5, None]})) == []
    for empty in ({}, {"ACCESS": []}, {"ACCESS": ""}, {"ACCESS": None}):
        assert result(server.call("access.name", empty)) is False


# --- user.access ----------------------------------------------------------------------------


def test_user_access_with_numbers_no_row_can_hold(server):
    codes = ["U" + "9" * 5000, "DR" + "1" * 5000, "U2147483648"]
    assert result(server.call("user.access", {"ACCESS": codes}, hook=server.add_webhook(
        server.add_user("Plain"), ["user"]))) is False  # fmt: skip


def test_user_access_reads_the_callers_codes(server):
    company = add_department(server, "Company")
    sales = add_department(server, "Sales", company)
    east = add_department(server, "Sales East", sales)
    support = add_department(server, "Support", company)
    carl, hook = hook_of(server, department_ids=[east])

    def holds(*codes) -> bool:
        return result(server.call("user.access", {"ACCESS": list(codes)}, hook=hook))

    for code in ("G2", "AU", f"U{carl}", f"D{east}", f"DR{east}", f"DR{sales}", f"DR{company}"):
        assert holds(code) is True, code
    for code in ("G1", "U1", f"D{sales}", f"D{company}", f"DR{support}", f"D{support}", "G3"):
        assert holds(code) is False, code
    # Any one of them is enough; codes are compared as written.
    assert holds("G1", f"D{sales}", f"DR{sales}") is True
    assert holds(f"u{carl}", f"U0{carl}", "au") is False
    assert holds() is False
    assert result(server.call("user.access", {"access": "AU"}, hook=hook)) is True
    assert result(server.call("user.access", {}, hook=hook)) is False
    assert result(server.call("user.access", {"ACCESS": [["AU"], 7]}, hook=hook)) is False


def test_an_administrator_holds_every_code(server):
    for params in ({"ACCESS": ["G77"]}, {"ACCESS": []}, {}, {"ACCESS": "XX"}):
        assert result(server.call("user.access", params)) is True


# --- introspection --------------------------------------------------------------------------


@sqlite_only
def test_the_new_methods_are_basic_and_listed(server):
    _, hook = hook_of(server)
    listed = result(server.call("methods", hook=hook))
    basic = result(server.call("methods", {"scope": ""}, hook=hook))
    for name in ("user.admin", "user.access", "access.name", "feature.get"):
        assert name in listed and name in basic
        found = result(server.call("method.get", {"name": name}, hook=hook))
        assert found == {"isExisting": True, "isAvailable": True}
