"""The official Python SDK (b24pysdk 1.3.2) against a real ``b24local serve --tls``.

The SDK always speaks https through ``requests``, which trusts the local CA only
through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from b24pysdk import Client
from b24pysdk.errors import (
    BitrixAPIBadRequest,
    BitrixAPIError,
    BitrixAPIInsufficientScope,
    BitrixAPIUnauthorized,
)
from b24pysdk.errors.oauth import BitrixOAuthNoAuthFound

from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = [
    pytest.mark.process,
    # The whole module runs against a server on SQLite and one on PostgreSQL.
    pytest.mark.parametrize("live_server", ["sqlite", "postgresql"], indirect=True, scope="module"),
]

CARD_KEYS = {
    "id", "active", "name", "first_name", "last_name", "work_position", "color", "avatar",
    "avatar_hr", "gender", "birthday", "extranet", "network", "bot", "connector",
    "external_auth_id", "status", "idle", "last_activity_date", "mobile_last_date",
    "desktop_last_date", "absent", "departments", "phones", "website", "email", "bot_data",
    "type",
}  # fmt: skip

ATOM_UTC = "%Y-%m-%dT%H:%M:%S+00:00"


@pytest.fixture
def client(live_server) -> Client:
    return Client(webhook(live_server))


@pytest.fixture(scope="module")
def emily(live_server) -> int:
    """A user added with the CLI while the server runs (SQLite in WAL mode allows it)."""
    return int(live_server.cli("user", "add", "--name", "Emily", "--last-name", "Smith"))


def test_printed_webhook_is_the_admins(live_server) -> None:
    assert live_server.user_id == 1
    assert len(live_server.code) == 16
    assert live_server.webhook_url == f"{live_server.base_url}/rest/1/{live_server.code}/"


def test_status_set_then_get_round_trip(client: Client) -> None:
    try:
        assert client.im.user.status.set("dnd").result is True
        assert client.im.user.status.get().result == "dnd"
        assert client.im.user.status.set("away").result is True
        assert client.im.user.status.get().result == "away"
    finally:
        client.im.user.status.set("online").result  # noqa: B018 - runs the lazy call


def test_status_values_are_case_sensitive(client: Client) -> None:
    before = client.im.user.status.get().result
    with pytest.raises(BitrixAPIError) as raised:
        client.im.user.status.set("DND").result  # noqa: B018
    assert isinstance(raised.value, BitrixAPIBadRequest)
    assert raised.value.status_code == 400
    assert raised.value.error == "STATUS_ERROR"
    assert client.im.user.status.get().result == before


def test_im_user_get_is_the_admin_card(client: Client) -> None:
    card = client.im.user.get().result
    assert set(card) == CARD_KEYS
    assert card["id"] == 1
    assert card["active"] is True
    assert card["first_name"] == "Admin"
    assert card["name"] == "Admin"
    assert card["email"] == "admin@localhost"
    assert card["type"] == "user"
    assert card["bot"] is False
    assert card["extranet"] is False
    assert isinstance(card["departments"], list)
    assert card["color"].startswith("#")


def test_im_user_get_by_id_is_the_same_card(client: Client) -> None:
    assert client.im.user.get(bitrix_id=1).result == client.im.user.get().result


def test_user_added_with_the_cli_while_serving(client: Client, emily: int) -> None:
    card = client.im.user.get(bitrix_id=emily).result
    assert emily == 2
    assert set(card) == CARD_KEYS
    assert card["id"] == emily
    assert card["first_name"] == "Emily"
    assert card["last_name"] == "Smith"
    assert card["name"] == "Emily Smith"
    assert card["status"] == "online"


def test_webhook_without_im_scope_is_refused(live_server, emily: int) -> None:
    token = live_server.cli("webhook", "add", "--user", str(emily), "--scope", "user")
    user_id, _, code = token.partition("/")
    assert user_id == str(emily)
    assert len(code) == 16
    limited = Client(webhook(live_server, token))

    with pytest.raises(BitrixAPIInsufficientScope) as raised:
        limited.im.user.status.get().result  # noqa: B018
    assert raised.value.error == "insufficient_scope"
    with pytest.raises(BitrixAPIInsufficientScope):
        limited.im.user.get().result  # noqa: B018

    # The same webhook does reach what its scope grants, as the user it belongs to.
    assert str(limited.user.current().result["ID"]) == str(emily)


def test_wrong_webhook_code_is_no_auth_found(live_server) -> None:
    wrong = Client(webhook(live_server, f"{live_server.user_id}/{'x' * 16}"))
    with pytest.raises(BitrixOAuthNoAuthFound) as raised:
        wrong.im.user.status.get().result  # noqa: B018
    assert isinstance(raised.value, BitrixAPIUnauthorized)
    assert raised.value.status_code == 401
    assert raised.value.error == "NO_AUTH_FOUND"
    assert raised.value.error_description == "Wrong authorization data"


def test_call_method_returns_the_raw_envelope(live_server) -> None:
    body = webhook(live_server).call_method("im.user.status.get")
    assert set(body) == {"result", "time"}
    assert isinstance(body["result"], str)


def test_idle_start_follows_the_server_clock(live_server, client: Client) -> None:
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    try:
        state = live_server.dev(
            "POST", "/_b24local/clock", {"now": moment.isoformat(), "freeze": True}
        )
        assert state["frozen"] is True
        assert datetime.fromisoformat(state["now"]) == moment

        assert client.im.user.status.idle.start(ago=5).result is True
        card = client.im.user.get().result
        assert card["idle"] == (moment - timedelta(minutes=5)).strftime(ATOM_UTC)

        # Moving the clock does not move the idle moment ...
        state = live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 3600})
        later = datetime.fromisoformat(state["now"])
        assert later == moment + timedelta(hours=1)
        assert client.im.user.get().result["idle"] == card["idle"]

        # ... starting idle again counts back from the new server time.
        body = webhook(live_server).call_method("im.user.status.idle.start", {"AGO": 5})
        assert body["result"] is True
        assert body["time"]["date_start"] == later.strftime(ATOM_UTC)
        card = client.im.user.get().result
        assert card["idle"] == (later - timedelta(minutes=5)).strftime(ATOM_UTC)
        assert live_server.dev("GET", "/_b24local/clock")["now"] == later.isoformat()

        assert client.im.user.status.idle.end().result is True
        assert client.im.user.get().result["idle"] is False
    finally:
        live_server.dev(
            "POST", "/_b24local/clock", {"now": datetime.now(UTC).isoformat(), "freeze": False}
        )
