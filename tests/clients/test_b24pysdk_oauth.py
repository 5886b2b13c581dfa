"""The official Python SDK (b24pysdk 1.3.2) with OAuth tokens against a real
``b24local serve --tls --dev``: ``BitrixApp`` + ``BitrixToken`` + ``Client``.

Calls carry the access token as ``auth``; once the server clock has moved past
the token's hour the SDK meets ``expired_token``, renews the pair at the token
endpoint and repeats the call. The SDK hard-codes that endpoint
(``BitrixOAuthRequester._OAUTH_TOKEN_URL``, oauth.bitrix24.tech), so the tests point
it at this server's ``/oauth/token/``. The SDK trusts the local CA only through
``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from b24pysdk import BitrixApp, BitrixToken, BitrixWebhook, Client
from b24pysdk.api.requesters.bitrix_oauth_requester import BitrixOAuthRequester
from b24pysdk.constants import B24AppStatus
from b24pysdk.credentials import RenewedOAuth
from b24pysdk.errors import (
    BitrixAPIError,
    BitrixAPIExpiredToken,
    BitrixAPIUnauthorized,
)
from b24pysdk.errors.oauth import BitrixOAuthInvalidGrant, BitrixOAuthNoAuthFound
from b24pysdk.schemas.app import AppInfoApplication, AppInfoWebhook

from loginform import post_login

pytestmark = pytest.mark.process

REDIRECT = "https://app.example/sdk/callback"
PASSWORD = "sdk oauth password"
APP_INFO_KEYS = {
    "ID", "CODE", "VERSION", "STATUS", "INSTALLED", "PAYMENT_EXPIRED", "DAYS", "LANGUAGE_ID",
    "LICENSE", "LICENSE_TYPE", "LICENSE_FAMILY",
}  # fmt: skip
HOUR = 3600


@dataclass
class Installed:
    client_id: str
    secret: str
    #: A second user (not an administrator) with a password.
    olivia: int


@pytest.fixture(autouse=True)
def trust_local_ca(monkeypatch: pytest.MonkeyPatch, live_server) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live_server.ca_path))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def local_oauth_server(monkeypatch: pytest.MonkeyPatch, live_server) -> str:
    """Point the SDK's token endpoint at this server instead of oauth.bitrix24.tech."""
    url = f"{live_server.base_url}/oauth/token/"
    monkeypatch.setattr(BitrixOAuthRequester, "_OAUTH_TOKEN_URL", url)
    return url


def real_clock(live_server) -> None:
    live_server.dev(
        "POST", "/_b24local/clock", {"now": datetime.now(UTC).isoformat(), "freeze": False}
    )


@pytest.fixture(scope="module", autouse=True)
def real_clock_afterwards(live_server) -> Iterator[None]:
    yield
    real_clock(live_server)


@pytest.fixture
def restore_clock(live_server) -> Iterator[None]:
    """After a test that sets the clock back: the SDK judges a renewed token's
    ``expires`` by the real time, so later renewals need the server clock at or
    past it."""
    yield
    real_clock(live_server)


@pytest.fixture(scope="module")
def installed(live_server) -> Installed:
    olivia = int(live_server.cli("user", "add", "--name", "Olivia", "--last-name", "Auth"))
    live_server.cli("user", "password", str(olivia), "--password", PASSWORD)
    printed = live_server.cli(
        "app", "add", "--name", "SDK Sync", "--scope", "im", "--scope", "timeman",
        "--redirect-uri", REDIRECT,
    )  # fmt: skip
    client_id, secret = printed.split(" ")
    return Installed(client_id, secret, olivia)


class CountingApp(BitrixApp):
    """A ``BitrixApp`` that remembers which refresh tokens it renewed."""

    def __init__(self, *, client_id: str, client_secret: str) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret)
        self.renewed: list[str] = []

    def refresh_oauth_token(self, refresh_token: str, **kwargs) -> RenewedOAuth:
        self.renewed.append(refresh_token)
        return super().refresh_oauth_token(refresh_token, **kwargs)


def cli_pair(live_server, installed: Installed, user: int) -> dict[str, Any]:
    """``b24local app token``, issued by the server on its clock, wherever it stands."""
    server = ["--server", live_server.base_url, "--dev-token", live_server.dev_token]
    client = ["--client-id", installed.client_id, "--user", str(user)]
    return json.loads(live_server.cli("app", "token", *client, *server, "--json"))


def app_of(installed: Installed) -> CountingApp:
    return CountingApp(client_id=installed.client_id, client_secret=installed.secret)


def token_of(
    live_server, pair: dict[str, Any], app: BitrixApp, *, refreshable: bool = True
) -> BitrixToken:
    """The SDK's token for ``pair``; no ``expires``, so only the server can say it expired."""
    return BitrixToken(
        domain=live_server.domain,
        auth_token=pair["access_token"],
        refresh_token=pair["refresh_token"] if refreshable else None,
        bitrix_app=app,
    )


def webhook_client(live_server) -> Client:
    """The administrator's printed webhook."""
    return Client(BitrixWebhook(domain=live_server.domain, webhook_token=live_server.webhook_token))


def http(live_server) -> httpx.Client:
    return httpx.Client(
        base_url=live_server.base_url, verify=live_server.ssl_context(), trust_env=False
    )


def advance(live_server, seconds: float) -> datetime:
    """Move the server clock on and freeze it there; return the new moment."""
    live_server.dev("POST", "/_b24local/clock/advance", {"seconds": seconds})
    state = live_server.dev("POST", "/_b24local/clock", {"freeze": True})
    assert state["frozen"] is True
    return datetime.fromisoformat(state["now"])


def authorize(live_server, login: str, installed: Installed) -> str:
    """Log in on the server's page as a browser would; return the code it redirects with."""
    with http(live_server) as browser:
        params = {"client_id": installed.client_id, "state": "sdk"}
        answer = post_login(browser, params, login, PASSWORD)
    assert answer.status_code == 302, answer.text
    location = httpx.URL(answer.headers["location"])
    assert str(location.copy_with(query=None)) == REDIRECT
    return location.params["code"]


def logged_in_token(live_server, installed: Installed, login: str) -> BitrixToken:
    """Log in, let the SDK exchange the code, and build the token on the server's clock."""
    app = app_of(installed)
    renewed = app.get_oauth_token(code=authorize(live_server, login, installed))
    return BitrixToken(
        domain=live_server.domain,
        auth_token=renewed.oauth_token.access_token,
        refresh_token=renewed.oauth_token.refresh_token,
        bitrix_app=app,
    )


def refresh_by_hand(live_server, installed: Installed, refresh_token: str) -> httpx.Response:
    with http(live_server) as client:
        return client.get(
            "/oauth/token/",
            params={
                "grant_type": "refresh_token",
                "client_id": installed.client_id,
                "client_secret": installed.secret,
                "refresh_token": refresh_token,
            },
        )


def call_by_hand(live_server, method: str, access_token: str) -> httpx.Response:
    with http(live_server) as client:
        return client.post(f"/rest/{method}", json={"auth": access_token})


# --- calls with a token ----------------------------------------------------------------


def test_status_round_trip_acts_as_the_tokens_user(live_server, installed) -> None:
    pair = cli_pair(live_server, installed, installed.olivia)
    assert pair["user_id"] == installed.olivia
    assert pair["scope"] == "im,timeman"
    client = Client(token_of(live_server, pair, app_of(installed)))
    admin = webhook_client(live_server)

    assert client.im.user.status.get().result == "online"
    assert client.im.user.status.set("dnd").result is True
    assert client.im.user.status.get().result == "dnd"
    # Olivia is now busy; the administrator is still online.
    assert admin.im.user.get(bitrix_id=installed.olivia).result["status"] == "dnd"
    assert admin.im.user.status.get().result == "online"
    assert client.im.user.get().result["id"] == installed.olivia


def test_timeman_status_and_a_day_with_a_token(
    live_server, installed, local_oauth_server, restore_clock
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    live_server.dev("POST", "/_b24local/clock", {"now": start.isoformat(), "freeze": True})
    token = logged_in_token(live_server, installed, str(installed.olivia))
    timeman = Client(token).timeman

    # No day yet: the status and nothing else, as the real service answers.
    assert timeman.status().result == {"STATUS": "CLOSED"}

    opened = timeman.open().result
    assert opened["STATUS"] == "OPENED"
    assert opened["TIME_START"] == "2026-03-02T09:00:00+00:00"
    assert opened["IP_OPEN"] == "127.0.0.1"

    live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 30 * 60})
    assert timeman.status().result == opened
    closed = timeman.close().result
    assert closed["STATUS"] == "CLOSED"
    assert closed["DURATION"] == "00:30:00"
    assert closed["TIME_FINISH"] == "2026-03-02T09:30:00+00:00"
    # The token's user is Olivia: her day, not the administrator's.
    by_hand = call_by_hand(live_server, "timeman.status", token.auth_token).json()
    assert by_hand["result"] == closed
    assert webhook_client(live_server).timeman.status().result == {"STATUS": "CLOSED"}


def test_app_info_with_a_token_and_with_a_webhook(live_server, installed) -> None:
    pair = cli_pair(live_server, installed, 1)
    token = token_of(live_server, pair, app_of(installed))

    info = Client(token).app.info().value
    assert isinstance(info, AppInfoApplication)
    assert info.code == installed.client_id
    assert info.status == B24AppStatus.LOCAL
    assert info.installed is True
    assert info.payment_expired is False
    assert info.days is None
    assert isinstance(info.bitrix_id, int)

    raw = token.call_method("app.info")
    assert set(raw) == {"result", "time"}
    assert set(raw["result"]) == APP_INFO_KEYS
    assert raw["result"]["CODE"] == installed.client_id
    assert raw["result"]["STATUS"] == "L"
    assert raw["result"]["PAYMENT_EXPIRED"] == "N"

    # A webhook gets the SDK's webhook form: its scopes and the plan.
    hooked = webhook_client(live_server).app.info()
    assert set(hooked.result) == {"SCOPE", "LICENSE"}
    assert isinstance(hooked.value, AppInfoWebhook)
    assert hooked.value.license == "en_professional" and "im" in hooked.value.scope


def test_the_sdk_exchanges_a_code_at_the_local_token_endpoint(
    live_server, installed, local_oauth_server
) -> None:
    app = app_of(installed)
    code = authorize(live_server, str(installed.olivia), installed)
    renewed = app.get_oauth_token(code=code)

    assert renewed.user_id == installed.olivia
    assert renewed.scope == ["im", "timeman"]
    assert renewed.status == B24AppStatus.LOCAL
    assert renewed.client_endpoint == f"{live_server.base_url}/rest/"
    assert renewed.oauth_token.expires_in == HOUR
    assert renewed.oauth_token.refresh_token
    (portal,) = json.loads(live_server.cli("portal", "list", "--json"))
    assert renewed.member_id == portal["member_id"]
    # The SDK's portal_domain drops the port, so the token is built with the domain.
    token = BitrixToken(
        domain=live_server.domain,
        auth_token=renewed.oauth_token.access_token,
        refresh_token=renewed.oauth_token.refresh_token,
        bitrix_app=app,
    )
    assert Client(token).im.user.get().result["id"] == installed.olivia

    # The code was spent by the exchange.
    with pytest.raises(BitrixOAuthInvalidGrant) as raised:
        app.get_oauth_token(code=code)
    assert raised.value.status_code == 400
    assert raised.value.error == "invalid_grant"


# --- expiry and renewal ----------------------------------------------------------------


def test_the_sdk_renews_an_expired_token_and_repeats_the_call(
    live_server, installed, local_oauth_server
) -> None:
    pair = cli_pair(live_server, installed, 1)
    app = app_of(installed)
    token = token_of(live_server, pair, app)
    client = Client(token)
    assert client.im.user.status.get().result == "online"
    assert app.renewed == []
    # No ``expires`` on the token: only the server's answer can start a renewal.
    assert token.expires is None

    now = advance(live_server, HOUR + 1)
    expired = call_by_hand(live_server, "im.user.status.get", pair["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "expired_token",
        "error_description": "The access token provided has expired",
    }

    # The SDK meets expired_token, renews at the local endpoint, and repeats the call.
    assert client.im.user.status.get().result == "online"
    assert app.renewed == [pair["refresh_token"]]
    assert token.auth_token != pair["access_token"]
    assert token.refresh_token != pair["refresh_token"]
    assert token.expires_in == HOUR
    assert token.expires is not None
    assert token.expires.timestamp() == int(now.timestamp()) + HOUR

    # The renewed pair serves further calls without another renewal.
    assert client.timeman.status().result["STATUS"] == "CLOSED"
    assert client.app.info().value.code == installed.client_id
    assert app.renewed == [pair["refresh_token"]]
    assert call_by_hand(live_server, "im.user.status.get", token.auth_token).status_code == 200

    # The old refresh token was spent: refused by hand and through the SDK.
    refused = refresh_by_hand(live_server, installed, pair["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    with pytest.raises(BitrixOAuthInvalidGrant) as raised:
        app.refresh_oauth_token(pair["refresh_token"])
    assert raised.value.status_code == 400
    assert raised.value.error == "invalid_grant"


def test_a_renewal_refused_by_the_server_reaches_the_caller(
    live_server, installed, local_oauth_server
) -> None:
    """Another worker spent the refresh token first: the SDK's renewal fails."""
    pair = cli_pair(live_server, installed, 1)
    app = app_of(installed)
    client = Client(token_of(live_server, pair, app))
    assert refresh_by_hand(live_server, installed, pair["refresh_token"]).status_code == 200

    advance(live_server, HOUR)
    with pytest.raises(BitrixOAuthInvalidGrant) as raised:
        client.im.user.status.get().result  # noqa: B018
    assert raised.value.error == "invalid_grant"
    assert app.renewed == [pair["refresh_token"]]


def test_an_expired_token_without_a_refresh_token_raises(
    live_server, installed, local_oauth_server
) -> None:
    pair = cli_pair(live_server, installed, 1)
    app = app_of(installed)
    token = token_of(live_server, pair, app, refreshable=False)
    assert token.is_one_off
    client = Client(token)
    assert client.im.user.status.get().result == "online"

    advance(live_server, HOUR)
    with pytest.raises(BitrixAPIExpiredToken) as raised:
        client.im.user.status.get().result  # noqa: B018
    assert isinstance(raised.value, BitrixAPIUnauthorized)
    assert raised.value.status_code == 401
    assert raised.value.error == "expired_token"
    assert raised.value.error_description == "The access token provided has expired"
    assert app.renewed == []
    assert token.auth_token == pair["access_token"]


def test_without_an_app_the_sdk_sends_the_token_as_a_webhook(live_server, installed) -> None:
    """A ``BitrixToken`` without ``bitrix_app`` is a webhook to the SDK: the token
    goes into the URL path (``/rest/TOKEN/METHOD.json``), never as ``auth``."""
    pair = cli_pair(live_server, installed, 1)
    token = BitrixToken(domain=live_server.domain, auth_token=pair["access_token"])
    assert token.is_webhook
    with pytest.raises(BitrixAPIError) as raised:
        Client(token).im.user.status.get().result  # noqa: B018
    assert raised.value.status_code == 404
    assert raised.value.error == "ERROR_METHOD_NOT_FOUND"
    # The same access token, as ``auth``, was good.
    assert call_by_hand(live_server, "im.user.status.get", pair["access_token"]).status_code == 200


def test_a_removed_app_s_token_is_no_auth_found(live_server, installed) -> None:
    printed = live_server.cli("app", "add", "--name", "Short Lived", "--scope", "im")
    client_id, secret = printed.split(" ")
    short = Installed(client_id, secret, installed.olivia)
    pair = cli_pair(live_server, short, 1)
    client = Client(token_of(live_server, pair, app_of(short)))
    assert client.im.user.status.get().result == "online"

    live_server.cli("app", "remove", client_id)
    with pytest.raises(BitrixOAuthNoAuthFound) as raised:
        client.im.user.status.get().result  # noqa: B018
    assert raised.value.status_code == 401
    assert raised.value.error == "NO_AUTH_FOUND"


# --- the authorization server's app.info ------------------------------------------------


def test_the_sdk_checks_its_token_at_the_servers_app_info(
    live_server, installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``server_endpoint`` + ``app.info``: the authorization server's view of a token,
    which the SDK parses and validates its OAuth payloads against."""
    pair = cli_pair(live_server, installed, installed.olivia)
    with http(live_server) as client:
        server_endpoint = client.get(
            "/oauth/token/",
            params={
                "grant_type": "refresh_token",
                "client_id": installed.client_id,
                "client_secret": installed.secret,
                "refresh_token": pair["refresh_token"],
            },
        ).json()["server_endpoint"]
    assert server_endpoint == f"{live_server.base_url}/oauth/rest/"
    monkeypatch.setattr(BitrixOAuthRequester, "_APP_INFO_URL", f"{server_endpoint}app.info/")
    fresh = cli_pair(live_server, installed, installed.olivia)
    token = token_of(live_server, fresh, app_of(installed))

    info = token.get_app_info().result

    assert info.client_id == installed.client_id
    assert info.user_id == installed.olivia
    assert sorted(info.scope) == ["im", "timeman"]
    assert int(info.expires.timestamp()) == fresh["expires"]
    assert info.install.installed is True
    assert info.install.status == B24AppStatus.LOCAL
    assert info.install.client_endpoint == f"{live_server.base_url}/rest/"
    assert info.install.member_id == fresh["member_id"]
    # The SDK's own check of an OAuth payload against it passes.
    portal_view = RenewedOAuth.from_dict(
        {**fresh, "client_endpoint": info.install.client_endpoint,
         "server_endpoint": server_endpoint, "domain": "127.0.0.1"}
    )  # fmt: skip
    assert portal_view.validate_against_app_info(info)

    with http(live_server) as client:
        unknown = client.get("/oauth/rest/app.info/", params={"auth": "nope"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_token"
