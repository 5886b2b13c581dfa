"""IDs no row can hold (past 32 bits): every method answers as for any unknown ID,
on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest

BIG = 2**31  # one past the largest ID
HUGE = 99999999999


def result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def ids(items: list[dict]) -> list[str]:
    return [item["ID"] for item in items]


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["error_description"]


@pytest.mark.parametrize("method", ["timeman.status", "timeman.settings"])
@pytest.mark.parametrize("user_id", [BIG, HUGE, -HUGE, 2**31 - 1])
def test_timeman_user_id(server, method, user_id):
    response = server.http.get(f"{server.webhook}{method}?USER_ID={user_id}")
    assert error_of(response) == (400, "", "User not found")


@pytest.mark.parametrize("user_id", [BIG, HUGE, "99999999999999999999999"])
def test_im_user_get(server, user_id):
    response = server.http.get(f"{server.webhook}im.user.get?ID={user_id}")
    assert error_of(response) == (400, "USER_NOT_EXISTS", "User does not exist")


def test_im_user_list_get(server):
    response = server.http.get(f"{server.webhook}im.user.list.get?ID[]={HUGE}&ID[]=1")
    cards = result(response)
    assert list(cards) == [str(HUGE), "1"]
    assert cards[str(HUGE)] is None
    assert cards["1"]["id"] == 1


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (f"FILTER[ID]={HUGE}", []),
        (f"FILTER[ID]={BIG}", []),
        (f"FILTER[ID]={-HUGE}", []),
        (f"FILTER[!ID]={HUGE}", ["1", "2"]),
        (f"FILTER[@ID][]=2&FILTER[@ID][]={HUGE}", ["2"]),
        (f"FILTER[!@ID][]=2&FILTER[!@ID][]={HUGE}", ["1"]),
        (f"FILTER[>ID]={HUGE}", []),
        (f"FILTER[<=ID]={HUGE}", ["1", "2"]),
        (f"FILTER[>=ID]={-HUGE}", ["1", "2"]),
        (f"FILTER[<ID]={-HUGE}", []),
        (f"ID={HUGE}", []),
        (f"FILTER[UF_DEPARTMENT]={HUGE}", []),
        (f"FILTER[!UF_DEPARTMENT]={HUGE}", ["1", "2"]),
        (f"FILTER[UF_DEPARTMENT][]=1&FILTER[UF_DEPARTMENT][]={HUGE}", ["1", "2"]),
    ],
)
def test_user_get_filters(server, filter_, expected):
    server.add_user()  # 2
    body = server.http.get(f"{server.webhook}user.get?{filter_}").json()
    assert ids(body["result"]) == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize("field", ["ID", "PARENT", "UF_HEAD", "SORT"])
@pytest.mark.parametrize("value", [BIG, HUGE, -HUGE])
def test_department_get_fields(server, field, value):
    assert result(server.http.get(f"{server.webhook}department.get?{field}={value}")) == []


def test_department_get_some_ids_in_range(server):
    found = result(server.http.get(f"{server.webhook}department.get?ID[]=1&ID[]={HUGE}"))
    assert ids(found) == ["1"]


def test_in_a_batch(server):
    cmd = {
        "card": f"im.user.get?ID={HUGE}",
        "users": f"user.get?FILTER[ID]={HUGE}",
        "after": "user.get?FILTER[ID]=1",
    }
    inner = server.call("batch", {"cmd": cmd}).json()["result"]
    assert inner["result_error"]["card"]["error"] == "USER_NOT_EXISTS"
    assert inner["result"]["users"] == []
    assert ids(inner["result"]["after"]) == ["1"]
