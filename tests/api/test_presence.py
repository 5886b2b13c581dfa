"""im.user.*: statuses, idle, and user cards, through HTTP with the clock moved."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import update

from b24local.store.tables import portals

CARD_KEYS = [
    "id", "active", "name", "first_name", "last_name", "work_position", "color", "avatar",
    "avatar_hr", "gender", "birthday", "extranet", "network", "bot", "connector",
    "external_auth_id", "status", "idle", "last_activity_date", "mobile_last_date",
    "desktop_last_date", "absent", "departments", "phones", "website", "email", "bot_data",
    "type",
]  # fmt: skip


def result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


def error_code(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["error_description"]


# --- status ------------------------------------------------------------------------------


def test_a_new_user_is_online(server):
    assert result(server.call("im.user.status.get")) == "online"


@pytest.mark.parametrize("status", ["online", "dnd", "away", "break"])
def test_set_then_get(server, status):
    assert result(server.call("im.user.status.set", {"STATUS": status})) is True
    assert result(server.call("im.user.status.get")) == status


@pytest.mark.parametrize("status", ["DND", "offline", "", None, 5, ["dnd"]])
def test_unknown_status_is_refused_and_changes_nothing(server, status):
    server.call("im.user.status.set", {"STATUS": "away"})
    params = {} if status is None else {"STATUS": status}
    response = server.call("im.user.status.set", params)
    assert error_code(response) == (400, "STATUS_ERROR", "Status is not available")
    assert result(server.call("im.user.status.get")) == "away"


def test_parameter_names_are_case_blind(server):
    assert result(server.call("im.user.status.set", {"status": "dnd"})) is True
    assert result(server.call("im.user.status.get")) == "dnd"


def test_status_is_per_user(server):
    other = server.add_user()
    hook = server.add_webhook(other, ["im"])
    server.call("im.user.status.set", {"STATUS": "dnd"}, hook=hook)
    assert result(server.call("im.user.status.get")) == "online"
    assert result(server.call("im.user.status.get", hook=hook)) == "dnd"
    assert result(server.call("im.user.get", {"ID": other}))["status"] == "dnd"


def test_setting_a_status_counts_as_activity(server):
    server.clock.advance(90)
    server.call("im.user.status.set", {"STATUS": "break"})
    card = result(server.call("im.user.get"))
    assert card["last_activity_date"] == "2026-03-02T08:31:30+00:00"


# --- idle ---------------------------------------------------------------------------------


def test_idle_start_defaults_to_ten_minutes_ago(server):
    assert result(server.call("im.user.status.idle.start")) is True
    assert result(server.call("im.user.get"))["idle"] == "2026-03-02T08:20:00+00:00"


@pytest.mark.parametrize(
    ("ago", "idle"),
    [
        (1, "2026-03-02T08:29:00+00:00"),
        (45, "2026-03-02T07:45:00+00:00"),
        ("30", "2026-03-02T08:00:00+00:00"),
        # Given, AGO is at least one minute (PHP's intval("soon") is 0).
        (0, "2026-03-02T08:29:00+00:00"),
        (-5, "2026-03-02T08:29:00+00:00"),
        ("soon", "2026-03-02T08:29:00+00:00"),
        # Further back than 1970 stops there.
        (3_000_000_000, "1970-01-01T00:00:00+00:00"),
        (1_000_000_000_000, "1970-01-01T00:00:00+00:00"),
        ("99999999999999999999", "1970-01-01T00:00:00+00:00"),
    ],
)
def test_idle_start_with_ago(server, ago, idle):
    assert result(server.call("im.user.status.idle.start", {"AGO": ago})) is True
    assert result(server.call("im.user.get"))["idle"] == idle


def test_idle_end_clears_idle_and_marks_activity(server):
    server.call("im.user.status.idle.start", {"AGO": 5})
    server.clock.advance(120)
    assert result(server.call("im.user.status.idle.end")) is True
    card = result(server.call("im.user.get"))
    assert card["idle"] is False
    assert card["last_activity_date"] == "2026-03-02T08:32:00+00:00"


def test_idle_does_not_change_the_chosen_status(server):
    server.call("im.user.status.set", {"STATUS": "dnd"})
    server.call("im.user.status.idle.start")
    assert result(server.call("im.user.status.get")) == "dnd"


def test_is_online_follows_activity_and_idle(server):
    server.call("im.user.status.set", {"STATUS": "online"})
    assert result(server.call("user.current"))["IS_ONLINE"] == "Y"
    server.call("im.user.status.idle.start", {"AGO": 1})
    assert result(server.call("user.current"))["IS_ONLINE"] == "N"
    server.call("im.user.status.idle.end")
    server.clock.advance(16 * 60)
    assert result(server.call("user.current"))["IS_ONLINE"] == "N"


# --- im.user.get ----------------------------------------------------------------------------


def test_card_of_the_caller(server):
    card = result(server.call("im.user.get"))
    assert list(card) == CARD_KEYS
    assert card["id"] == 1
    assert card["active"] is True
    assert card["name"] == "Admin"
    assert card["status"] == "online"
    assert card["idle"] is False
    assert card["last_activity_date"] is False
    assert card["departments"] == [1]
    assert card["phones"] is False
    assert card["bot_data"] is None
    assert card["type"] == "user"
    assert card["color"].startswith("#") and len(card["color"]) == 7


def test_card_of_another_user(server):
    other = server.add_user("John", "Smith", email="j@example.com", position="Manager")
    card = result(server.call("im.user.get", {"ID": other}))
    assert card["id"] == other
    assert card["name"] == "John Smith"
    assert card["first_name"] == "John"
    assert card["last_name"] == "Smith"
    assert card["work_position"] == "Manager"
    assert card["email"] == "j@example.com"


@pytest.mark.parametrize(
    "value",
    [0, -3, "0", "abc", "",
     # JSON integers past 64 bits are floats to PHP, and intval wraps them.
     18446744073709551615, 9223372036854775808],
)  # fmt: skip
def test_card_with_an_empty_id(server, value):
    response = server.call("im.user.get", {"ID": value})
    assert error_code(response) == (400, "ID_EMPTY", "User ID can't be empty")


def test_card_of_a_missing_user(server):
    response = server.call("im.user.get", {"ID": 777})
    assert error_code(response) == (400, "USER_NOT_EXISTS", "User does not exist")


def test_dates_in_cards_use_the_portal_zone(server):
    async def go():
        async with server.store.transaction(write=True) as conn:
            await conn.execute(update(portals).values(time_zone="Asia/Tokyo"))

    server.run(go)
    server.call("im.user.status.idle.start", {"AGO": 10})
    assert result(server.call("im.user.get"))["idle"] == "2026-03-02T17:20:00+09:00"


# --- im.user.list.get ---------------------------------------------------------------------


def test_list_as_object_keyed_by_id(server):
    other = server.add_user()
    cards = result(server.call("im.user.list.get", {"ID": [1, other]}))
    assert list(cards) == ["1", str(other)]
    assert cards[str(other)]["id"] == other
    assert list(cards["1"]) == CARD_KEYS


def test_list_as_array(server):
    other = server.add_user()
    cards = result(server.call("im.user.list.get", {"ID": [other, 1], "RESULT_TYPE": "array"}))
    assert [card["id"] for card in cards] == [other, 1]


def test_list_ids_as_a_json_string(server):
    cards = result(server.call("im.user.list.get", {"ID": "[1]"}))
    assert list(cards) == ["1"]


def test_list_with_unknown_ids_gives_null(server):
    cards = result(server.call("im.user.list.get", {"ID": [1, 555]}))
    assert cards["555"] is None
    assert cards["1"]["id"] == 1


def test_list_ids_are_read_as_integers_above_zero(server):
    other = server.add_user()
    ids = ["007", 0, "abc", other, "1", -3, 7, "2.9"]
    cards = result(server.call("im.user.list.get", {"ID": ids}))
    # The keys are the IDs as read ("007" is 7), each once, in the order given.
    assert list(cards) == ["7", str(other), "1"]
    assert cards["7"] is None
    assert [card["id"] for card in (cards[str(other)], cards["1"])] == [other, 1]


def test_list_of_forty_thousand_ids(server):
    other = server.add_user()
    ids = list(range(40_000, 0, -1))
    cards = result(server.call("im.user.list.get", {"ID": [*ids, other, 1, *ids[:100]]}))
    assert list(cards) == [str(user_id) for user_id in ids]
    assert {key for key, card in cards.items() if card is not None} == {"1", str(other)}
    assert cards[str(other)]["id"] == other


@pytest.mark.parametrize(
    "value",
    [None, [], "", "not json", "{}", 5, [0], ["abc", -1], "[0]", {"a": "x"},
     # A JSON integer past 64 bits reaches PHP as a float, which intval wraps to 0.
     [18446744073709551615]],
)  # fmt: skip
def test_list_with_a_bad_id(server, value):
    params = {} if value is None else {"ID": value}
    response = server.call("im.user.list.get", params)
    assert error_code(response) == (
        400,
        "INVALID_FORMAT",
        "A wrong format for the ID field is passed",
    )


def test_list_with_form_encoded_ids_none_above_zero(server):
    response = server.http.get(f"{server.webhook}im.user.list.get?ID[]=abc&ID[]=0")
    assert error_code(response) == (
        400,
        "INVALID_FORMAT",
        "A wrong format for the ID field is passed",
    )


def test_list_of_ten_thousand_form_encoded_ids(server):
    body = "&".join(f"ID[]={user_id}" for user_id in range(10_000, 0, -1))
    response = server.http.post(
        f"{server.webhook}im.user.list.get",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    cards = result(response)
    assert list(cards) == [str(user_id) for user_id in range(10_000, 0, -1)]
    assert cards["1"]["id"] == 1


# --- simultaneous changes -----------------------------------------------------------------


def test_simultaneous_changes_of_one_presence_are_serialised(server) -> None:
    """First changes of a user's presence arriving together, of two kinds: each is
    answered and kept (on PostgreSQL, two first changes used to insert the row twice
    and fail with 500, and a status could be overwritten by an idle.start that read
    the row before it)."""
    calls = [("im.user.status.set", {"STATUS": "dnd"}), ("im.user.status.idle.start", {})] * 10

    async def together() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=server.http.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await asyncio.gather(
                *(http.post(f"{server.webhook}{method}", json=params) for method, params in calls)
            )

    answers = server.run(together)

    assert [a.status_code for a in answers] == [200] * len(calls), [a.text for a in answers]
    assert result(server.call("im.user.status.get")) == "dnd"
    assert result(server.call("im.user.get"))["idle"]
