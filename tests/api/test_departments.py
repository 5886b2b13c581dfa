"""department.get: the company structure, filtered, sorted and paged, through HTTP."""

from __future__ import annotations

import pytest

from b24local import admin

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
