"""The seeds' OAuth curl examples, and the whole token flow, run by real ``curl``.

The two seed pages (``im.user.status.get`` and ``timeman.status``) each show a
webhook form (covered by test_curl.py) and an OAuth form: ``POST /rest/METHOD``
with ``"auth"`` in the JSON body. Here that form runs as printed, then with the
token in the query string and as form data, and the tokens themselves come from
curl: a login posted to ``/oauth/authorize/`` (no redirect following; the code is
read from the ``Location`` header), the code exchanged at ``/oauth/token/``, the
pair renewed there. Answers are compared with the seeds' JSON examples field for
field.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest

from loginform import token_in

pytestmark = pytest.mark.process

CURL = shutil.which("curl")
if CURL is None:
    pytest.skip(
        "THE curl BINARY IS NOT INSTALLED: every curl OAuth client test is SKIPPED",
        allow_module_level=True,
    )

REDIRECT = "https://app.example/b24/callback"
PASSWORD = "curl-seed password"
TESS_EMAIL = "tess@example.test"
TESS_ZONE = "Europe/Berlin"

# The seeds' answers, verbatim: 000 (im.user.status.get) and 003 (timeman.status).
STATUS_GET_SEED: dict[str, Any] = {
    "result": "dnd",
    "time": {
        "start": 1760000000.0,
        "finish": 1760000000.05,
        "duration": 0.05,
        "processing": 0.02,
        "date_start": "2026-03-02T09:30:00+01:00",
        "date_finish": "2026-03-02T09:30:00+01:00",
        "operating_reset_at": 1760030000,
        "operating": 0,
    },
}
TIMEMAN_STATUS_SEED: dict[str, Any] = {
    "result": {
        "STATUS": "EXPIRED",
        "TIME_START": "2025-03-27T08:00:01+02:00",
        "TIME_FINISH": None,
        "DURATION": "00:00:00",
        "TIME_LEAKS": "00:17:53",
        "ACTIVE": False,
        "IP_OPEN": "",
        "IP_CLOSE": "",
        "LAT_OPEN": 53.548841000000003,
        "LON_OPEN": 9.9872739999999993,
        "LAT_CLOSE": 0,
        "LON_CLOSE": 0,
        "TZ_OFFSET": 7200,
        "TIME_FINISH_DEFAULT": "2025-03-27T17:00:00+02:00",
    },
    "time": {
        "start": 1743057653.725821,
        "finish": 1743057654.0894129,
        "duration": 0.36359190940856934,
        "processing": 0.3278491497039795,
        "date_start": "2025-03-27T09:40:53+03:00",
        "date_finish": "2025-03-27T09:40:54+03:00",
        "operating_reset_at": 1743058253,
        "operating": 0.32782983779907227,
    },
}
TIMEMAN_ERROR_SEED = {"error": "", "error_description": "User not found"}
#: Where the seeds themselves disagree on a type (0 in one, a float in the other), or
#: where a coordinate is 0 when none was sent: any JSON number.
ANY_NUMBER = {"operating", "LAT_OPEN", "LON_OPEN", "LAT_CLOSE", "LON_CLOSE"}

#: Every field the token endpoint documents (settings/oauth/index.md, auto-renewal.md).
TOKEN_FIELDS = {
    "access_token": str,
    "refresh_token": str,
    "expires": int,
    "expires_in": int,
    "client_endpoint": str,
    "server_endpoint": str,
    "domain": str,
    "member_id": str,
    "scope": str,
    "status": str,
    "user_id": int,
}
EXPIRED_TOKEN = {
    "error": "expired_token",
    "error_description": "The access token provided has expired",
}
NO_AUTH_FOUND = {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
#: Written after the body so the status can be split off the end.
STATUS_MARK = "\n--http-status:"


@dataclass
class Answer:
    status: int
    body: str
    content_type: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Installed:
    client_id: str
    secret: str


def curl(live_server, *args: str) -> Answer:
    """Run ``curl ARGS`` trusting the local CA; return status, body, content type and
    the response headers (lower-cased names, from ``-D``)."""
    with tempfile.TemporaryDirectory() as scratch:
        dumped = Path(scratch) / "headers"
        done = subprocess.run(
            [
                CURL,  # type: ignore[list-item]
                "-sS",
                "--cacert",
                str(live_server.ca_path),
                "-D",
                str(dumped),
                "-w",
                STATUS_MARK + "%{http_code}\n%{content_type}",
                *args,
            ],
            capture_output=True,
            text=True,
            env=live_server.env,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, f"curl exited {done.returncode}: {done.stderr}"
        lines = dumped.read_text().splitlines()
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    body, _, tail = done.stdout.rpartition(STATUS_MARK)
    status, _, content_type = tail.partition("\n")
    return Answer(int(status), body, content_type, headers)


# --- the three ways to hand over ``auth`` ----------------------------------------------

JSON_HEADERS = ("-H", "Content-Type: application/json", "-H", "Accept: application/json")


def in_json_body(live_server, method: str, token: str, params: dict[str, Any]) -> Answer:
    """The seeds' OAuth form: ``-d '{..., "auth": "TOKEN"}'``."""
    data = json.dumps({**params, "auth": token})
    return curl(live_server, "-X", "POST", *JSON_HEADERS, "-d", data,
                f"{live_server.base_url}/rest/{method}")  # fmt: skip


def in_query_string(live_server, method: str, token: str, params: dict[str, Any]) -> Answer:
    """The seeds' request with ``?auth=TOKEN`` on the URL; the parameters stay JSON."""
    body = ["-d", json.dumps(params)] if params else []
    return curl(live_server, "-X", "POST", *JSON_HEADERS, *body,
                f"{live_server.base_url}/rest/{method}?auth={token}")  # fmt: skip


def as_form_data(live_server, method: str, token: str, params: dict[str, Any]) -> Answer:
    """``curl -d NAME=VALUE ... -d auth=TOKEN``: an urlencoded form."""
    fields = [arg for key, value in params.items() for arg in ("-d", f"{key}={value}")]
    return curl(live_server, *fields, "-d", f"auth={token}",
                f"{live_server.base_url}/rest/{method}")  # fmt: skip


FORMS = {"json-body": in_json_body, "query-string": in_query_string, "form-data": as_form_data}


# --- the token flow ----------------------------------------------------------------------


def authorize(
    live_server, app: Installed, login: str, *extra: str, state: str = "st-1", password=PASSWORD
) -> Answer:
    """Show the log-in form and POST it as a browser would (its cookie kept in a jar,
    its token sent back), without following the redirect."""
    url = f"{live_server.base_url}/oauth/authorize/?" + urlencode(
        {"client_id": app.client_id, "state": state}
    )
    with tempfile.TemporaryDirectory() as scratch:
        jar = str(Path(scratch) / "form-cookies")
        form = curl(live_server, "-c", jar, url)
        assert form.status == 200, form.body
        return curl(
            live_server,
            "-b", jar,
            "-d", f"login={login}",
            "--data-urlencode", f"password={password}",
            "-d", f"csrf_token={token_in(form.body)}",
            *extra,
            url,
        )  # fmt: skip


def redirect_query(answer: Answer) -> dict[str, str]:
    """The parameters on the ``Location`` of a 302 to the app's redirect URI."""
    assert answer.status == 302, (answer.status, answer.body)
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query, keep_blank_values=True)
    assert all(len(values) == 1 for values in query.values()), query
    return {key: values[0] for key, values in query.items()}


def token_endpoint(live_server, app: Installed, *, post: bool = False, **params: str) -> Answer:
    """``/oauth/token/`` as the reference shows it (GET with a query), or a POSTed form."""
    fields = {"client_id": app.client_id, "client_secret": app.secret, **params}
    args = [arg for key, value in fields.items() for arg in ("--data-urlencode", f"{key}={value}")]
    return curl(live_server, *([] if post else ["-G"]), *args,
                f"{live_server.base_url}/oauth/token/")  # fmt: skip


def log_in_and_exchange(live_server, app: Installed, login: str) -> dict[str, Any]:
    code = redirect_query(authorize(live_server, app, login))["code"]
    answer = token_endpoint(live_server, app, grant_type="authorization_code", code=code)
    assert answer.status == 200, answer.body
    return answer.json()


# --- comparing with the seeds ----------------------------------------------------------


def check_like_seed(answer: dict[str, Any], seed: dict[str, Any], where: str = "") -> None:
    """The same keys as the seed, each value of the seed's JSON type."""
    assert set(answer) == set(seed), (where, sorted(answer), sorted(seed))
    for key, example in seed.items():
        value = answer[key]
        if key in ANY_NUMBER:
            assert type(value) in (int, float), (where, key, value)
        elif example is None:
            assert value is None, (where, key, value)
        else:
            assert type(value) is type(example), (where, key, value, example)


def check_envelope(answer: dict[str, Any], seed: dict[str, Any]) -> None:
    assert set(answer) == set(seed) == {"result", "time"}
    check_like_seed(answer["time"], seed["time"], "time")
    time = answer["time"]
    assert time["finish"] >= time["start"]
    assert time["duration"] == pytest.approx(time["finish"] - time["start"], abs=1e-6)
    for key in ("date_start", "date_finish"):
        moment = datetime.fromisoformat(time[key])
        assert moment.utcoffset() is not None, time[key]
        assert time[key] == moment.isoformat(timespec="seconds"), time[key]
    start = datetime.fromisoformat(time["date_start"]).timestamp()
    assert abs(start - time["start"]) < 1


# --- fixtures ------------------------------------------------------------------------------


def set_clock(live_server, moment: datetime) -> None:
    state = live_server.dev("POST", "/_b24local/clock", {"now": moment.isoformat(), "freeze": True})
    assert datetime.fromisoformat(state["now"]) == moment


def real_clock(live_server) -> None:
    live_server.dev(
        "POST", "/_b24local/clock", {"now": datetime.now(UTC).isoformat(), "freeze": False}
    )


@pytest.fixture(scope="module", autouse=True)
def real_clock_afterwards(live_server) -> Iterator[None]:
    yield
    real_clock(live_server)


@pytest.fixture(scope="module")
def app(live_server) -> Installed:
    live_server.cli("user", "password", "1", "--password", PASSWORD)
    printed = live_server.cli(
        "app", "add", "--name", "Curl Seeds", "--scope", "im", "--scope", "timeman",
        "--redirect-uri", REDIRECT,
    )  # fmt: skip
    client_id, secret = printed.split(" ")
    return Installed(client_id, secret)


@pytest.fixture(scope="module")
def member_id(live_server) -> str:
    (portal,) = json.loads(live_server.cli("portal", "list", "--json"))
    return portal["member_id"]


@pytest.fixture(scope="module")
def tess(live_server, app: Installed) -> int:
    """A user who is not an administrator, in Berlin, away, with a password."""
    user_id = int(
        live_server.cli(
            "user", "add", "--name", "Tess", "--last-name", "Token", "--email", TESS_EMAIL,
            "--tz", TESS_ZONE,
        )
    )  # fmt: skip
    live_server.cli("user", "password", str(user_id), "--password", PASSWORD)
    token = live_server.cli("app", "token", "--client-id", app.client_id, "--user", str(user_id))
    answer = in_json_body(live_server, "im.user.status.set", token.split()[0], {"STATUS": "away"})
    assert answer.status == 200, answer.body
    return user_id


@pytest.fixture
def tess_token(live_server, app: Installed, tess: int) -> str:
    printed = live_server.cli("app", "token", "--client-id", app.client_id, "--user", str(tess))
    return printed.split(" ")[0]


# --- the log-in page and the code ------------------------------------------------------


def test_login_posted_with_curl_redirects_with_a_code(live_server, app, member_id) -> None:
    form = curl(live_server, f"{live_server.base_url}/oauth/authorize/?client_id={app.client_id}")
    assert form.status == 200
    assert form.content_type.startswith("text/html")
    assert 'name="password"' in form.body

    answer = authorize(live_server, app, "1", state="curl state/1")
    query = redirect_query(answer)
    assert set(query) == {"code", "state", "domain", "member_id", "scope", "server_domain"}
    assert query["state"] == "curl state/1"
    assert query["domain"] == live_server.domain
    assert query["member_id"] == member_id
    assert query["scope"] == "im,timeman"
    assert query["server_domain"] == live_server.domain
    assert query["code"]
    # Comma-separated scopes arrive encoded, as the reference says (``%2C``).
    assert "scope=im%2Ctimeman" in answer.headers["location"]


def test_the_session_cookie_skips_the_form(live_server, app, tmp_path: Path) -> None:
    jar = str(tmp_path / "cookies")
    first = redirect_query(authorize(live_server, app, "1", "-c", jar, state="one"))

    url = f"{live_server.base_url}/oauth/authorize/?client_id={app.client_id}&state=two"
    again = redirect_query(curl(live_server, "-b", jar, url))
    assert again["state"] == "two"
    assert again["code"] != first["code"]
    # Without the cookie the same GET is the form again.
    assert curl(live_server, url).status == 200


def test_wrong_password_shows_the_form_and_no_redirect(live_server, app) -> None:
    answer = authorize(live_server, app, "1", password="wrong")
    assert answer.status == 401
    assert "location" not in answer.headers
    assert answer.content_type.startswith("text/html")
    assert 'name="password"' in answer.body


# --- the token endpoint ----------------------------------------------------------------


def test_code_exchange_answers_every_documented_field(
    live_server, app, member_id, tess: int
) -> None:
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    try:
        set_clock(live_server, moment)
        query = redirect_query(authorize(live_server, app, TESS_EMAIL.upper()))

        answer = token_endpoint(
            live_server, app, grant_type="authorization_code", code=query["code"]
        )
        assert answer.status == 200, answer.body
        assert answer.content_type.startswith("application/json")
        pair = answer.json()
        assert set(pair) == set(TOKEN_FIELDS)
        for key, kind in TOKEN_FIELDS.items():
            assert type(pair[key]) is kind, (key, pair[key])
        assert pair["expires_in"] == 3600
        assert pair["expires"] == int(moment.timestamp()) + 3600
        assert pair["scope"] == "im,timeman"
        assert pair["status"] == "L"
        assert pair["member_id"] == member_id == query["member_id"]
        assert pair["user_id"] == tess
        assert pair["client_endpoint"] == f"{live_server.base_url}/rest/"
        assert pair["server_endpoint"] == f"{live_server.base_url}/oauth/rest/"
        assert pair["domain"] == live_server.domain
        assert pair["access_token"] != pair["refresh_token"]
        assert pair["access_token"] and pair["refresh_token"]

        # The token works where client_endpoint says, as the user who logged in.
        called = in_json_body(live_server, "im.user.status.get", pair["access_token"], {})
        assert called.status == 200, called.body
        assert called.json()["result"] == "away"

        # A code is spent by its exchange.
        again = token_endpoint(
            live_server, app, grant_type="authorization_code", code=query["code"]
        )
        assert again.status == 400
        assert again.content_type.startswith("application/json")
        assert again.json()["error"] == "invalid_grant"
    finally:
        real_clock(live_server)


def test_a_code_older_than_thirty_seconds_is_refused(live_server, app) -> None:
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    try:
        set_clock(live_server, moment)
        code = redirect_query(authorize(live_server, app, "1"))["code"]
        live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 31})
        answer = token_endpoint(live_server, app, grant_type="authorization_code", code=code)
        assert answer.status == 400
        assert answer.json()["error"] == "invalid_grant"
    finally:
        real_clock(live_server)


def test_refresh_with_a_posted_form_gives_a_new_pair_once(live_server, app) -> None:
    first = log_in_and_exchange(live_server, app, "1")

    answer = token_endpoint(
        live_server, app, post=True, grant_type="refresh_token",
        refresh_token=first["refresh_token"],
    )  # fmt: skip
    assert answer.status == 200, answer.body
    second = answer.json()
    assert set(second) == set(TOKEN_FIELDS)
    assert second["user_id"] == 1
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert in_json_body(live_server, "im.user.status.get", second["access_token"], {}).status == 200

    spent = token_endpoint(
        live_server, app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert spent.status == 400
    assert spent.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(live_server, app) -> None:
    code = redirect_query(authorize(live_server, app, "1"))["code"]
    wrong = Installed(app.client_id, "x" * len(app.secret))
    answer = token_endpoint(live_server, wrong, grant_type="authorization_code", code=code)
    assert answer.status == 401
    assert answer.json()["error"] == "invalid_client"
    assert isinstance(answer.json()["error_description"], str)
    # The refusal did not spend the code.
    answer = token_endpoint(live_server, app, grant_type="authorization_code", code=code)
    assert answer.status == 200, answer.body


# --- the seeds' OAuth calls ------------------------------------------------------------


def test_status_get_seed_oauth_example(live_server, app) -> None:
    token = log_in_and_exchange(live_server, app, "1")["access_token"]
    try:
        answer = in_json_body(live_server, "im.user.status.set", token, {"STATUS": "dnd"})
        assert answer.status == 200, answer.body
        assert answer.json()["result"] is True

        # Exactly the seed's second curl command, with the token pasted in.
        answer = curl(live_server, "-X", "POST", *JSON_HEADERS,
                      "-d", f'{{"auth":"{token}"}}',
                      f"{live_server.base_url}/rest/im.user.status.get")  # fmt: skip
        assert answer.status == 200, answer.body
        assert answer.content_type.startswith("application/json")
        body = answer.json()
        check_envelope(body, STATUS_GET_SEED)
        assert body["result"] == STATUS_GET_SEED["result"]
    finally:
        in_json_body(live_server, "im.user.status.set", token, {"STATUS": "online"})


@pytest.mark.parametrize("form", FORMS)
def test_status_get_with_auth_in_every_form(live_server, tess_token: str, form: str) -> None:
    answer = FORMS[form](live_server, "im.user.status.get", tess_token, {})
    assert answer.status == 200, answer.body
    body = answer.json()
    check_envelope(body, STATUS_GET_SEED)
    # Tess's status, not the administrator's (who is online).
    assert body["result"] == "away"

    refused = FORMS[form](live_server, "im.user.status.get", "0" * len(tess_token), {})
    assert refused.status == 401
    assert refused.json() == NO_AUTH_FOUND


@pytest.mark.parametrize("form", FORMS)
def test_timeman_status_with_auth_in_every_form(
    live_server, tess: int, tess_token: str, form: str
) -> None:
    answer = FORMS[form](live_server, "timeman.status", tess_token, {"USER_ID": tess})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert set(body) == {"result", "time"}
    check_like_seed(body["time"], TIMEMAN_STATUS_SEED["time"], "time")
    # Tess never opened a day: the real wrapper answers the status alone.
    assert body["result"] == {"STATUS": "CLOSED"}


def test_expired_token_then_renewed_with_curl(live_server, app, tess: int) -> None:
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    try:
        set_clock(live_server, moment)
        pair = log_in_and_exchange(live_server, app, TESS_EMAIL)
        live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 3599})
        answer = in_json_body(live_server, "im.user.status.get", pair["access_token"], {})
        assert answer.status == 200, answer.body

        live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 1})
        for form in FORMS.values():
            answer = form(live_server, "im.user.status.get", pair["access_token"], {})
            assert answer.status == 401, answer.body
            assert answer.content_type.startswith("application/json")
            assert answer.json() == EXPIRED_TOKEN

        renewed = token_endpoint(
            live_server, app, grant_type="refresh_token", refresh_token=pair["refresh_token"]
        )
        assert renewed.status == 200, renewed.body
        fresh = renewed.json()
        assert fresh["expires"] == int(moment.timestamp()) + 2 * 3600
        answer = in_json_body(live_server, "im.user.status.get", fresh["access_token"], {})
        assert answer.status == 200, answer.body
        assert answer.json()["result"] == "away"
    finally:
        real_clock(live_server)


def test_timeman_status_seed_oauth_example_on_an_expired_day(live_server, app) -> None:
    """The seed's day: opened one morning, not closed, asked about the next."""
    ella = int(
        live_server.cli(
            "user", "add", "--name", "Ella", "--last-name", "Expired", "--email",
            "ella@example.test", "--tz", TESS_ZONE,
        )
    )  # fmt: skip
    live_server.cli("user", "password", str(ella), "--password", PASSWORD)
    opened_at = datetime(2025, 3, 27, 7, 0, 1, tzinfo=ZoneInfo(TESS_ZONE))
    asked_at = datetime(2025, 3, 28, 8, 40, 53, tzinfo=UTC)
    try:
        set_clock(live_server, opened_at.astimezone(UTC))
        pair = log_in_and_exchange(live_server, app, "ella@example.test")
        answer = in_json_body(live_server, "timeman.open", pair["access_token"], {})
        assert answer.status == 200, answer.body
        assert answer.json()["result"]["STATUS"] == "OPENED"

        set_clock(live_server, asked_at)
        renewed = token_endpoint(
            live_server, app, grant_type="refresh_token", refresh_token=pair["refresh_token"]
        )
        assert renewed.status == 200, renewed.body
        token = renewed.json()["access_token"]

        # Exactly the seed's second curl command, with the real user's ID.
        answer = curl(live_server, "-X", "POST", *JSON_HEADERS,
                      "-d", f'{{"USER_ID":{ella},"auth":"{token}"}}',
                      f"{live_server.base_url}/rest/timeman.status")  # fmt: skip
        assert answer.status == 200, answer.body
        body = answer.json()
        check_envelope(body, TIMEMAN_STATUS_SEED)
        check_like_seed(body["result"], TIMEMAN_STATUS_SEED["result"], "result")
        day = body["result"]
        assert day["STATUS"] == "EXPIRED"
        assert day["TIME_START"] == "2025-03-27T07:00:01+01:00"
        assert day["TZ_OFFSET"] == 3600
        assert day["TIME_FINISH"] is None
        assert day["DURATION"] == "00:00:00"
        assert day["TIME_LEAKS"] == "00:00:00"
        assert day["IP_OPEN"] == "127.0.0.1"
        assert day["IP_CLOSE"] == ""
        assert day["TIME_FINISH_DEFAULT"] == "2025-03-27T17:45:00+01:00"
        assert body["time"]["date_start"] == "2025-03-28T08:40:53+00:00"
        assert body["time"]["start"] == asked_at.timestamp()

        # The seed's own USER_ID (503) is nobody here. Ella manages no one, so she is
        # refused before the ID is looked up, as the real wrapper checks the right first...
        answer = curl(live_server, "-X", "POST", *JSON_HEADERS,
                      "-d", f'{{"USER_ID":503,"auth":"{token}"}}',
                      f"{live_server.base_url}/rest/timeman.status")  # fmt: skip
        assert answer.status == 403, answer.body
        assert answer.json()["error"] == "ACCESS_DENIED"
        # ...and the administrator meets the seed's error answer (its first command).
        answer = curl(live_server, "-X", "POST", *JSON_HEADERS, "-d", '{"USER_ID":503}',
                      f"{live_server.webhook_url}timeman.status")  # fmt: skip
        assert answer.status == 400, answer.body
        assert answer.json() == TIMEMAN_ERROR_SEED
    finally:
        real_clock(live_server)


# --- behind a proxy --------------------------------------------------------------------

PUBLIC = "https://b24.example.com"


def test_serve_public_url_names_the_server_in_the_banner_and_the_answers(
    launch_server,
) -> None:
    """``serve --public-url``: the printed webhook and the token answer name the
    public address, though curl reaches the server at 127.0.0.1."""
    server = launch_server(args=["--public-url", PUBLIC + "/"])
    assert server.webhook_url.startswith(f"{PUBLIC}/rest/1/")
    server.cli("user", "password", "1", "--password", PASSWORD)
    printed = server.cli(
        "app", "add", "--name", "Proxied", "--scope", "im", "--redirect-uri", REDIRECT
    )
    app = Installed(*printed.split(" "))
    query = redirect_query(authorize(server, app, "1"))
    assert (query["domain"], query["server_domain"]) == ("b24.example.com",) * 2
    answer = token_endpoint(server, app, grant_type="authorization_code", code=query["code"])
    assert answer.status == 200, answer.body
    pair = answer.json()
    assert pair["client_endpoint"] == f"{PUBLIC}/rest/"
    assert pair["server_endpoint"] == f"{PUBLIC}/oauth/rest/"
    assert pair["domain"] == "b24.example.com"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_serve_refuses_a_public_url_that_is_no_http_address(b24local_cli, tmp_path, how) -> None:
    bad = "b24.example.com/path"
    if how == "option":
        done = b24local_cli("serve", "--data-dir", str(tmp_path), "--public-url", bad)
    else:
        done = b24local_cli("serve", "--data-dir", str(tmp_path),
                            env={"B24LOCAL_PUBLIC_URL": bad})  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "not an absolute http:// or https:// URL" in done.stderr
    assert done.stdout == ""
