"""department.get: the company structure, filtered, sorted and paged, through HTTP."""

from __future__ import annotations

import pytest

from b24local import admin

#: Refusal cases: the answer does not depend on the store, so SQLite only (the flows
#: around them run on both databases).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ROOT = {"ID": "1", "NAME": "Company", "SORT": 500, "UF_HEAD": "1"}


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def departments(server, params: dict | None = None, hook: str | None = None) -> list[dict]:
    return ok(server.call("department.get", params, hook=hook))["result"]


def ids(items: list[dict]) -> list[int]:
    return [int(item["ID"]) for item in items]


def add(server, name: str, parent_id: int = 1, head_id: int | None = None, sort: int = 500):
    return server.run(
        admin.add_department,
        server.store,
        name=name,
        parent_id=parent_id,
        head_id=head_id,
        sort=sort,
    ).id


@pytest.fixture
def tree(server) -> dict[str, int]:
    """Company(1) → Sales(2, head Ann) → Sales East(3, head Bob); Support(4, sort 100);
    Accounting(5, sort 900)."""
    ann = server.add_user("Ann", "Sales")
    bob = server.add_user("Bob", "East")
    sales = add(server, "Sales", head_id=ann)
    east = add(server, "Sales East", parent_id=sales, head_id=bob)
    support = add(server, "Support", sort=100)
    accounting = add(server, "Accounting", sort=900)
    assert (sales, east, support, accounting) == (2, 3, 4, 5)
    return {"ann": ann, "bob": bob}


# --- the items ----------------------------------------------------------------------------------


def test_only_the_root_at_first(server):
    body = ok(server.call("department.get"))
    assert list(body) == ["result", "total", "time"]
    assert body["result"] == [ROOT]
    assert body["total"] == 1
    assert list(body["result"][0]) == ["ID", "NAME", "SORT", "UF_HEAD"]


def test_items(server, tree):
    found = departments(server)
    assert found == [
        ROOT,
        {"ID": "2", "NAME": "Sales", "SORT": 500, "PARENT": "1", "UF_HEAD": str(tree["ann"])},
        {"ID": "3", "NAME": "Sales East", "SORT": 500, "PARENT": "2", "UF_HEAD": str(tree["bob"])},
        {"ID": "4", "NAME": "Support", "SORT": 100, "PARENT": "1"},
        {"ID": "5", "NAME": "Accounting", "SORT": 900, "PARENT": "1"},
    ]
    assert list(found[1]) == ["ID", "NAME", "SORT", "PARENT", "UF_HEAD"]
    assert list(found[3]) == ["ID", "NAME", "SORT", "PARENT"]


def test_a_head_removed_drops_uf_head(server, tree):
    server.run(admin.set_department_head, server.store, 2, None)
    assert departments(server, {"ID": 2}) == [
        {"ID": "2", "NAME": "Sales", "SORT": 500, "PARENT": "1"}
    ]


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ID": 3}, [3]),
        ({"ID": "3"}, [3]),
        ({"ID": [2, 4]}, [2, 4]),
        ({"ID": 99}, []),
        ({"NAME": "Sales"}, [2]),
        ({"NAME": "Sales East"}, [3]),
        ({"NAME": "Sale"}, []),  # the full name, not a part of it
        ({"PARENT": 1}, [2, 4, 5]),
        ({"PARENT": "2"}, [3]),
        ({"PARENT": 3}, []),
        ({"SORT": 100}, [4]),
        ({"SORT": "900"}, [5]),
        ({"PARENT": 1, "SORT": 500}, [2]),
        ({"PARENT": 1, "NAME": "Sales East"}, []),
    ],
)
@sqlite_only
def test_filters(server, tree, params, expected):
    assert ids(departments(server, params)) == expected


def test_filter_by_head(server, tree):
    assert ids(departments(server, {"UF_HEAD": tree["ann"]})) == [2]
    assert ids(departments(server, {"UF_HEAD": str(tree["bob"])})) == [3]
    assert ids(departments(server, {"UF_HEAD": 1})) == [1]
    assert departments(server, {"UF_HEAD": 999}) == []


def test_filter_names_are_case_blind(server, tree):
    assert ids(departments(server, {"parent": 2})) == [3]
    assert ids(departments(server, {"name": "Support"})) == [4]


def test_total_counts_the_filtered(server, tree):
    body = ok(server.call("department.get", {"PARENT": 1}))
    assert body["total"] == 3


# --- sort and order ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [1, 2, 3, 4, 5]),
        ({"sort": "ID", "order": "DESC"}, [5, 4, 3, 2, 1]),
        ({"sort": "ID", "order": "ASC"}, [1, 2, 3, 4, 5]),
        ({"sort": "NAME"}, [5, 1, 2, 3, 4]),
        ({"sort": "NAME", "order": "DESC"}, [4, 3, 2, 1, 5]),
        ({"sort": "name", "order": "desc"}, [4, 3, 2, 1, 5]),
        ({"sort": "SORT"}, [4, 1, 2, 3, 5]),
        ({"sort": "SORT", "order": "DESC"}, [5, 1, 2, 3, 4]),
        ({"sort": "PARENT", "order": "DESC"}, [3, 2, 4, 5, 1]),
        ({"sort": "UF_HEAD", "order": "DESC"}, [3, 2, 1, 4, 5]),
    ],
)
@sqlite_only
def test_sort(server, tree, params, expected):
    found = ids(departments(server, params))
    if params.get("sort") in ("PARENT", "UF_HEAD"):
        # Where NULLs fall differs between databases; compare the non-NULL part.
        key = "PARENT" if params["sort"] == "PARENT" else "UF_HEAD"
        by_id = {int(d["ID"]): d for d in departments(server)}
        found = [i for i in found if key in by_id[i]]
        expected = [i for i in expected if key in by_id[i]]
    assert found == expected


def test_sort_with_a_filter(server, tree):
    assert ids(departments(server, {"PARENT": 1, "sort": "NAME", "order": "DESC"})) == [4, 2, 5]


# --- paging ---------------------------------------------------------------------------------


@pytest.fixture
def many(server) -> None:
    for number in range(2, 121):
        add(server, f"Department {number:03d}")


def test_pages_of_fifty(server, many):
    first = ok(server.call("department.get"))
    assert list(first) == ["result", "next", "total", "time"]
    assert (len(first["result"]), first["next"], first["total"]) == (50, 50, 120)
    second = ok(server.call("department.get", {"start": 50}))
    assert (len(second["result"]), second["next"], second["total"]) == (50, 100, 120)
    third = ok(server.call("department.get", {"START": 100}))
    assert list(third) == ["result", "total", "time"]
    assert (len(third["result"]), third["total"]) == (20, 120)
    pages = (first, second, third)
    assert [int(d["ID"]) for page in pages for d in page["result"]] == list(range(1, 121))


def test_paging_a_sorted_list(server, many):
    first = ok(server.call("department.get", {"sort": "ID", "order": "DESC"}))
    assert ids(first["result"]) == list(range(120, 70, -1))
    second = ok(server.call("department.get", {"sort": "ID", "order": "DESC", "start": 50}))
    assert ids(second["result"]) == list(range(70, 20, -1))


def test_paging_with_a_filter(server, many):
    body = ok(server.call("department.get", {"PARENT": 1, "start": 100}))
    assert body["total"] == 119
    assert ids(body["result"]) == list(range(102, 121))
    assert "next" not in body


def test_start_minus_one_skips_the_count(server, many):
    body = ok(server.call("department.get", {"start": -1}))
    assert list(body) == ["result", "time"]
    assert ids(body["result"]) == list(range(1, 51))


@pytest.mark.parametrize("start", [-5, "abc", ""])
def test_odd_start_means_the_first_page(server, many, start):
    body = ok(server.call("department.get", {"start": start}))
    assert (body["next"], body["total"]) == (50, 120)
    assert ids(body["result"])[:2] == [1, 2]


def test_start_past_the_end(server, many):
    body = ok(server.call("department.get", {"start": 500}))
    assert body["result"] == []
    assert body["total"] == 120
    assert "next" not in body


# --- scope ------------------------------------------------------------------------------------


def test_the_department_scope_is_required(server):
    user = server.add_user()
    hook = server.add_webhook(user, ["im", "user", "timeman"])
    response = server.call("department.get", hook=hook)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_any_user_with_the_scope_may_read(server, tree):
    user = server.add_user()
    hook = server.add_webhook(user, ["department"])
    assert ids(departments(server, hook=hook)) == [1, 2, 3, 4, 5]


# --- department.fields ------------------------------------------------------------------------

FIELDS = {
    "ID": "ID",
    "NAME": "Department Name",
    "SORT": "Sort Order",
    "PARENT": "Parent Department",
    "UF_HEAD": "Manager",
}


def test_fields_are_the_pages_object(server):
    assert ok(server.call("department.fields"))["result"] == FIELDS


def test_any_user_may_read_the_fields(server):
    hook = server.add_webhook(server.add_user(), ["department"])
    assert ok(server.call("department.fields", hook=hook))["result"] == FIELDS


# --- department.add ---------------------------------------------------------------------------


def core(description: str) -> dict:
    return {"error": "ERROR_CORE", "error_description": description}


def refused(response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()


def by_id(server) -> dict[int, dict]:
    return {int(d["ID"]): d for d in departments(server)}


def test_add_answers_the_new_id_as_an_integer(server):
    body = ok(server.call("department.add", {"NAME": "Sales", "PARENT": 1}))
    assert body["result"] == 2
    assert list(body) == ["result", "time"]
    assert by_id(server)[2] == {"ID": "2", "NAME": "Sales", "SORT": 500, "PARENT": "1"}


def test_add_with_every_field(server):
    ann = server.add_user("Ann")
    new = ok(
        server.call(
            "department.add", {"name": "Sales", "parent": "1", "sort": "100", "uf_head": ann}
        )
    )["result"]
    assert by_id(server)[new] == {
        "ID": str(new),
        "NAME": "Sales",
        "SORT": 100,
        "PARENT": "1",
        "UF_HEAD": str(ann),
    }


def test_ids_follow_one_another(server):
    first = ok(server.call("department.add", {"NAME": "A", "PARENT": 1}))["result"]
    second = ok(server.call("department.add", {"NAME": "B", "PARENT": first}))["result"]
    assert (first, second) == (2, 3)
    assert by_id(server)[3]["PARENT"] == "2"


def test_name_missing_wire_bytes_match_the_page(server):
    for params in ({"PARENT": 1}, {"NAME": "", "PARENT": 1}, {"NAME": "  ", "PARENT": 1}):
        response = server.call("department.add", params)
        assert response.status_code == 400
        assert response.content == (
            b'{"error":"ERROR_CORE","error_description":'
            b'"Department name not provided.\\u003Cbr\\u003E"}'
        )
        assert response.json() == core("Department name not provided.<br>")
    assert list(by_id(server)) == [1]


@pytest.mark.parametrize("parent", [None, 0, "0", -3, "", "abc"])
def test_a_second_top_level_department_is_refused(server, parent):
    params = {"NAME": "Twin"} if parent is None else {"NAME": "Twin", "PARENT": parent}
    assert refused(server.call("department.add", params)) == core(
        "There can only be one top-level department in the company structure"
    )
    assert list(by_id(server)) == [1]


@pytest.mark.parametrize("parent", [99, 2**31, 99999999999999999999, [1], {"a": 1}])
def test_a_parent_that_does_not_exist(server, parent):
    assert refused(server.call("department.add", {"NAME": "X", "PARENT": parent})) == core(
        "Incorrect parent section!<br>"
    )
    assert list(by_id(server)) == [1]


@pytest.mark.parametrize("head", [999, 2**31, "99999999999999999999", [2], {"x": 1}])
def test_a_head_that_is_no_user(server, head):
    assert refused(
        server.call("department.add", {"NAME": "X", "PARENT": 1, "UF_HEAD": head})
    ) == core("User not found")
    assert list(by_id(server)) == [1]


@pytest.mark.parametrize("head", [0, "0", -5, "", "abc"])
@sqlite_only
def test_no_positive_head_means_no_head(server, head):
    new = ok(server.call("department.add", {"NAME": "X", "PARENT": 1, "UF_HEAD": head}))
    assert "UF_HEAD" not in by_id(server)[new["result"]]


@pytest.mark.parametrize(
    ("sort", "stored"),
    [(None, 500), (0, 500), (-7, 500), ("abc", 500), ([5], 500), ("12", 12), (2**40, 2**31 - 1)],
)
@sqlite_only
def test_add_sort(server, sort, stored):
    params = {"NAME": "X", "PARENT": 1}
    if sort is not None:
        params["SORT"] = sort
    new = ok(server.call("department.add", params))["result"]
    assert by_id(server)[new]["SORT"] == stored


def test_odd_names(server):
    long = "N" * 300
    first = ok(server.call("department.add", {"NAME": long, "PARENT": 1}))["result"]
    assert by_id(server)[first]["NAME"] == "N" * 255
    second = ok(server.call("department.add", {"NAME": "ab <i>", "PARENT": 1}))["result"]
    response = server.call("department.get", {"ID": second})
    assert b"ab \\u003Ci\\u003E" in response.content
    assert refused(server.call("department.add", {"NAME": ["x"], "PARENT": 1})) == core(
        "Department name not provided.<br>"
    )


def test_a_form_encoded_add(server):
    response = server.http.post(
        f"{server.webhook}department.add", data={"NAME": "F", "PARENT": "1"}
    )
    assert ok(response)["result"] == 2


# --- rights -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("department.add", {"NAME": "X", "PARENT": 1}),
        ("department.update", {"ID": 1, "NAME": "Renamed"}),
        ("department.delete", {"ID": 2}),
    ],
)
def test_only_administrators_change_the_structure(server, method, params):
    server.call("department.add", {"NAME": "Sales", "PARENT": 1})
    before = departments(server)
    ann = server.add_user("Ann")
    hook = server.add_webhook(ann, ["department"])
    assert refused(server.call(method, params, hook=hook)) == core("Access denied")
    # Even a head of the department may not.
    server.call("department.update", {"ID": 2, "UF_HEAD": ann})
    before = departments(server)
    assert refused(server.call(method, params, hook=hook)) == core("Access denied")
    assert departments(server) == before


def test_access_is_checked_before_the_parameters(server):
    hook = server.add_webhook(server.add_user(), ["department"])
    assert refused(server.call("department.add", {}, hook=hook)) == core("Access denied")
    assert refused(server.call("department.update", {"ID": 99}, hook=hook)) == core("Access denied")


def test_changes_need_the_department_scope(server):
    hook = server.add_webhook(1, ["timeman"])
    response = server.call("department.add", {"NAME": "X", "PARENT": 1}, hook=hook)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


# --- department.update ------------------------------------------------------------------------


def test_update_changes_what_is_given(server, tree):
    body = ok(server.call("department.update", {"ID": 4, "NAME": "Help desk", "SORT": 50}))
    assert body["result"] is True
    assert by_id(server)[4] == {"ID": "4", "NAME": "Help desk", "SORT": 50, "PARENT": "1"}
    ok(server.call("department.update", {"ID": "4", "UF_HEAD": tree["ann"]}))
    assert by_id(server)[4]["UF_HEAD"] == str(tree["ann"])
    assert by_id(server)[4]["NAME"] == "Help desk"


def test_update_with_only_an_id_changes_nothing(server, tree):
    before = departments(server)
    assert ok(server.call("department.update", {"ID": 3}))["result"] is True
    assert departments(server) == before


@pytest.mark.parametrize("head", [0, "0", -1, ""])
def test_update_a_non_positive_head_removes_it(server, tree, head):
    ok(server.call("department.update", {"ID": 2, "UF_HEAD": head}))
    assert "UF_HEAD" not in by_id(server)[2]


@pytest.mark.parametrize("sort", [0, -4, "abc", [3]])
def test_update_an_odd_sort_keeps_the_old(server, tree, sort):
    ok(server.call("department.update", {"ID": 4, "SORT": sort}))
    assert by_id(server)[4]["SORT"] == 100


def test_update_an_empty_name_is_refused(server, tree):
    assert refused(server.call("department.update", {"ID": 2, "NAME": ""})) == core(
        "Department name not provided.<br>"
    )
    assert by_id(server)[2]["NAME"] == "Sales"


def test_moving_a_department_moves_its_subtree(server, tree):
    ok(server.call("department.update", {"ID": 2, "PARENT": 4}))
    found = by_id(server)
    assert found[2]["PARENT"] == "4"
    assert found[3]["PARENT"] == "2"
    assert ids(departments(server, {"PARENT": 4})) == [2]


@pytest.mark.parametrize(("department", "parent"), [(2, 2), (2, 3), (1, 2), (1, 3), (1, 1)])
def test_a_department_cannot_move_inside_itself(server, tree, department, parent):
    before = departments(server)
    response = server.call("department.update", {"ID": department, "PARENT": parent})
    assert refused(response) == core("Cannot move the section inside itself.<br>")
    assert departments(server) == before


@pytest.mark.parametrize("parent", [0, -1, "0"])
def test_moving_to_the_top_is_refused_while_a_root_exists(server, tree, parent):
    assert refused(server.call("department.update", {"ID": 2, "PARENT": parent})) == core(
        "There can only be one top-level department in the company structure"
    )
    # The root itself may stay where it is.
    assert ok(server.call("department.update", {"ID": 1, "PARENT": 0}))["result"] is True


@pytest.mark.parametrize("parent", [99, 2**31, [2]])
def test_update_to_a_missing_parent(server, tree, parent):
    assert refused(server.call("department.update", {"ID": 3, "PARENT": parent})) == core(
        "Incorrect parent section!<br>"
    )


@pytest.mark.parametrize("head", [999, [1], {"1": 1}, 2**31])
def test_update_to_a_head_that_is_no_user(server, tree, head):
    assert refused(server.call("department.update", {"ID": 2, "UF_HEAD": head})) == core(
        "User not found"
    )
    assert by_id(server)[2]["UF_HEAD"] == str(tree["ann"])


NOT_FOUND_IDS = [None, 0, -1, 99, "abc", "", 2**31, 2**63, "99999999999999999999", [2], {"a": 2}]


@pytest.mark.parametrize("department", NOT_FOUND_IDS)
@pytest.mark.parametrize("method", ["department.update", "department.delete"])
@sqlite_only
def test_unknown_departments(server, tree, method, department):
    params = {"NAME": "X"} if department is None else {"ID": department, "NAME": "X"}
    assert refused(server.call(method, params)) == core("Department not found")
    assert len(departments(server)) == 5


# --- department.delete ------------------------------------------------------------------------


def test_delete_an_empty_department(server, tree):
    assert ok(server.call("department.delete", {"ID": 5}))["result"] is True
    assert ids(departments(server)) == [1, 2, 3, 4]
    assert refused(server.call("department.delete", {"ID": 5})) == core("Department not found")


def test_delete_moves_people_and_sub_departments_up(server, tree):
    carl = server.add_user("Carl", department_ids=[2])
    dora = server.add_user("Dora", department_ids=[2, 1])
    assert ok(server.call("department.delete", {"ID": 2}))["result"] is True
    found = by_id(server)
    assert 2 not in found
    assert found[3]["PARENT"] == "1"
    people = {
        int(u["ID"]): u["UF_DEPARTMENT"]
        for u in ok(server.call("user.get", {"FILTER": {"ID": [carl, dora]}}))["result"]
    }
    assert people == {carl: [1], dora: [1]}


def test_the_top_level_department_stays(server, tree):
    assert refused(server.call("department.delete", {"ID": 1})) == core(
        "The top-level department cannot be deleted"
    )
    assert len(departments(server)) == 5


def test_an_id_freed_by_delete_is_not_handed_out_again(server, tree):
    ok(server.call("department.delete", {"ID": 5}))
    assert ok(server.call("department.add", {"NAME": "New", "PARENT": 1}))["result"] == 6


# --- chosen IDs (administration) --------------------------------------------------------------


def test_a_chosen_id_and_automatic_ids_after_it(server):
    chosen = server.run(admin.add_department, server.store, name="Fixture", department_id=67)
    assert chosen.id == 67
    assert ok(server.call("department.add", {"NAME": "Next", "PARENT": 67}))["result"] == 68
    lower = server.run(admin.add_department, server.store, name="Low", department_id=10)
    assert lower.id == 10
    assert ok(server.call("department.add", {"NAME": "Then", "PARENT": 1}))["result"] == 69


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        (1, "department 1 exists already"),
        (0, "a department ID is a whole number from 1 to 2147483647, not 0"),
        (2**31, "a department ID is a whole number from 1 to 2147483647, not 2147483648"),
    ],
)
def test_refused_chosen_ids(server, chosen, message):
    with pytest.raises(admin.AdminError, match=message):
        server.run(admin.add_department, server.store, name="X", department_id=chosen)


# --- rights follow the structure at once ---------------------------------------------------------


def test_a_new_head_manages_at_once_and_an_old_head_no_longer(server, tree):
    """Sales(2, Ann) → Sales East(3, Bob) with Carl in it; Support(4) has no head."""
    carl = server.add_user("Carl", department_ids=[3])
    dan = server.add_user("Dan")
    hooks = {
        who: server.add_webhook(uid, ["timeman"])
        for who, uid in {"ann": tree["ann"], "bob": tree["bob"], "dan": dan}.items()
    }

    def opens(who: str) -> int:
        return server.call("timeman.status", {"USER_ID": carl}, hook=hooks[who]).status_code

    assert (opens("ann"), opens("bob"), opens("dan")) == (200, 200, 403)
    # Dan becomes head of Support, and Sales East moves under Support.
    ok(server.call("department.update", {"ID": 4, "UF_HEAD": dan}))
    ok(server.call("department.update", {"ID": 3, "PARENT": 4}))
    assert (opens("ann"), opens("bob"), opens("dan")) == (403, 200, 200)
    opened = server.call("timeman.open", {"USER_ID": carl}, hook=hooks["dan"])
    assert ok(opened)["result"]["STATUS"] == "OPENED"
    # Bob stops heading Sales East: his right goes with it.
    ok(server.call("department.update", {"ID": 3, "UF_HEAD": 0}))
    assert opens("bob") == 403
    refusal = server.call("timeman.pause", {"USER_ID": carl}, hook=hooks["bob"])
    assert refusal.status_code == 403


# --- several portals --------------------------------------------------------------------------

ACME = "acme.localhost"


@pytest.fixture
def acme(server) -> str:
    """acme.localhost with departments 1..4 and its administrator's webhook; the default
    portal keeps only its root."""
    now = server.clock.now()
    server.run(admin.add_portal, server.store, now, domain=ACME)
    for name in ("Engineering", "Research", "Design"):
        server.run(admin.add_department, server.store, name=name, domain=ACME)
    made, code = server.run(
        admin.add_webhook, server.store, now, user_id=1, scopes=["department"], domain=ACME
    )
    return f"/rest/{made.user_id}/{code}/"


def acme_call(server, hook: str, method: str, params: dict):
    return server.http.post(f"{hook}{method}", json=params, headers={"host": "acme.localhost:8024"})


def test_another_portals_departments_are_not_found(server, acme):
    for method, params in (
        ("department.update", {"ID": 3, "NAME": "Hijacked"}),
        ("department.delete", {"ID": 4}),
    ):
        assert refused(server.call(method, params)) == core("Department not found")
    assert refused(server.call("department.add", {"NAME": "X", "PARENT": 4})) == core(
        "Incorrect parent section!<br>"
    )
    acme_tree = ok(acme_call(server, acme, "department.get", {}))["result"]
    assert [d["NAME"] for d in acme_tree] == ["Company", "Engineering", "Research", "Design"]


def test_each_portal_numbers_its_own(server, acme):
    assert ok(acme_call(server, acme, "department.add", {"NAME": "QA", "PARENT": 2}))["result"] == 5
    assert ok(server.call("department.add", {"NAME": "Local", "PARENT": 1}))["result"] == 2
    ok(acme_call(server, acme, "department.delete", {"ID": 2}))
    assert ids(departments(server)) == [1, 2]
    assert [d["ID"] for d in ok(acme_call(server, acme, "department.get", {}))["result"]] == [
        "1",
        "3",
        "4",
        "5",
    ]
