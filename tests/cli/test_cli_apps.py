"""Applications and passwords from the ``b24local`` console script, run as real
subprocesses, with what they print checked against the server itself.

The server is the app built in-process (as ``serve`` builds it) on the same data
directory, or the same PostgreSQL schema, and reached through a Starlette
TestClient: the tokens the CLI prints must authenticate there, and the passwords it
sets must log in on ``/oauth/authorize/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from b24local.app import create_app
from b24local.config import Settings
from clirun import run_cli
from loginform import post_login

#: Subprocess tests are slow; the admin code they drive runs on both databases in
#: tests/api, so these run on SQLite only.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _script() -> str:
    candidate = Path(sys.executable).parent / "b24local"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("b24local")
    if found is None:
        pytest.fail(f"the b24local console script is not installed (looked in {candidate})")
    return found


SCRIPT = _script()
PAIR = re.compile(r"(local\.[0-9a-f]{14}\.[0-9]{8}) (\S{50})\n")
REDIRECT = "https://app.example/callback"
ACME = "acme.localhost"
ACME_HOST = {"Host": "acme.localhost:8024"}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("B24LOCAL_")}


class Cli:
    """Runs commands against one data directory and, for PostgreSQL, one schema."""

    def __init__(self, data_dir: Path, db: str | None) -> None:
        self.data_dir = data_dir
        self.db = db

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        where = ["--data-dir", str(self.data_dir)] + (["--db", self.db] if self.db else [])
        return run_cli([*args, *where], stdin=stdin)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def fails(self, *args: str, stdin: str | None = None) -> str:
        """A refusal: exit status 1, nothing on stdout, one ``error:`` line on stderr."""
        result = self(*args, stdin=stdin)
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
        assert result.stdout == ""
        assert result.stderr.startswith("error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr.strip()


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Iterator[Cli]:
    """The embedded SQLite of the data directory, or a fresh PostgreSQL schema."""
    on_postgresql = not db_url.startswith("sqlite")
    runner = Cli(tmp_path / "data", db_url if on_postgresql else None)
    yield runner
    # The PostgreSQL runs really ran there.
    assert (runner.data_dir / "b24local.db").exists() != on_postgresql


@contextmanager
def served(cli: Cli) -> Iterator[TestClient]:
    """The server on the CLI's database, with the real clock (the CLI's tokens are
    issued on it)."""
    app = create_app(Settings(data_dir=cli.data_dir, db=cli.db, limits=False))
    with TestClient(app, base_url="http://127.0.0.1:8024", raise_server_exceptions=False) as http:
        yield http


def rest(http: TestClient, method: str, token: str, headers: dict | None = None, **params):
    return http.post(f"/rest/{method}", json={"auth": token, **params}, headers=headers or {})


def result(response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


def refresh(http: TestClient, client_id: str, secret: str, refresh_token: str):
    return http.get(
        "/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": refresh_token,
        },
    )


def log_in(http: TestClient, client_id: str, login: str, password: str, headers=None):
    http.cookies.clear()
    return post_login(http, {"client_id": client_id, "state": "s"}, login, password, headers)


def code_of(response) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)["code"][0]


def add_app(cli: Cli, *args: str) -> tuple[str, str]:
    out = cli.ok("app", "add", "--name", "Time Sync", *args)
    found = PAIR.fullmatch(out)
    assert found, out
    return found.group(1), found.group(2)


def add_user(cli: Cli, name: str, *args: str) -> int:
    return int(cli.ok("user", "add", "--name", name, "--last-name", "Doe", *args))


def app_ids(cli: Cli, *args: str) -> list[str]:
    return [record["client_id"] for record in cli.json("app", "list", *args)]


# --- app add -------------------------------------------------------------------------------


def test_app_add_prints_client_id_and_secret_on_one_line(cli: Cli) -> None:
    client_id, secret = add_app(cli, "--scope", "im", "--scope", "user")
    second_id, second_secret = add_app(cli, "--scope", "im")
    assert (second_id, second_secret) != (client_id, secret)
    assert second_id != client_id and second_secret != secret
    # The secret printed is the app's: it renews a token at /oauth/token/.
    _access, refresh_token = cli.ok("app", "token", "--client-id", client_id, "--user", "1").split()
    with served(cli) as http:
        assert error_of(refresh(http, client_id, second_secret, refresh_token)) == (
            401,
            "invalid_client",
        )
        renewed = refresh(http, client_id, secret, refresh_token)
        assert renewed.status_code == 200, renewed.text
        assert renewed.json()["scope"] == "im,user"


def test_app_add_json(cli: Cli) -> None:
    assert add_user(cli, "Ann") == 2
    record = cli.json(
        "app", "add", "--name", "Time Sync", "--scope", "user", "--scope", "im",
        "--scope", "im", "--redirect-uri", REDIRECT, "--user", "2", "--user", "1",
    )  # fmt: skip
    assert {"client_id", "client_secret", "name", "scopes", "redirect_uri", "users"} <= set(record)
    assert re.fullmatch(r"local\.[0-9a-f]{14}\.[0-9]{8}", record["client_id"])
    assert len(record["client_secret"]) == 50
    assert record["name"] == "Time Sync"
    assert record["scopes"] == ["im", "user"]
    assert record["redirect_uri"] == REDIRECT
    assert record["users"] == [1, 2]
    # An unrestricted app says so with null, not an empty list (which would admit nobody).
    open_app = cli.json("app", "add", "--name", "Open", "--scope", "im")
    assert open_app["users"] is None
    assert open_app["redirect_uri"] == ""
    listed = {r["client_id"]: r for r in cli.json("app", "list")}
    assert listed[record["client_id"]]["users"] == [1, 2]
    assert listed[open_app["client_id"]]["users"] is None


def test_app_add_unknown_scope(cli: Cli) -> None:
    message = cli.fails("app", "add", "--name", "X", "--scope", "im", "--scope", "crm")
    assert "crm" in message
    assert cli.json("app", "list") == []


def test_app_add_unknown_user(cli: Cli) -> None:
    message = cli.fails("app", "add", "--name", "X", "--scope", "im", "--user", "99")
    assert "99" in message
    assert cli.json("app", "list") == []


def test_app_add_needs_a_name(cli: Cli) -> None:
    cli.fails("app", "add", "--name", "  ", "--scope", "im")
    assert cli.json("app", "list") == []


@pytest.mark.parametrize(
    ("option", "url"),
    [
        ("--redirect-uri", "app.example/callback"),
        ("--redirect-uri", "/callback"),
        ("--redirect-uri", "ftp://app.example/callback"),
        ("--redirect-uri", "javascript:alert(1)"),
        ("--redirect-uri", "https://app.example/callback#done"),
        ("--redirect-uri", "https:///callback"),
        ("--redirect-uri", "https://app.example:99999/callback"),
        ("--handler", "https://app.example/hand ler"),
        ("--handler", "localhost:3000"),
    ],
)
def test_app_add_refuses_urls_no_browser_could_follow(cli: Cli, option: str, url: str) -> None:
    message = cli.fails("app", "add", "--name", "X", "--scope", "im", option, url)
    assert repr(url) in message
    assert "http:// or https://" in message
    assert cli.json("app", "list") == []


def test_app_add_takes_http_and_https_urls(cli: Cli) -> None:
    record = cli.json(
        "app", "add", "--name", "Local dev", "--scope", "im",
        "--redirect-uri", "http://localhost:3000/oauth?x=1", "--handler", "https://[::1]:8443/h",
    )  # fmt: skip
    assert record["redirect_uri"] == "http://localhost:3000/oauth?x=1"
    assert record["handler"] == "https://[::1]:8443/h"


# --- app set -------------------------------------------------------------------------------


def test_app_set_changes_only_what_is_given(cli: Cli) -> None:
    ann = add_user(cli, "Ann")
    client_id, secret = add_app(cli, "--scope", "im", "--redirect-uri", REDIRECT)
    out = cli.ok("app", "set", client_id, "--scope", "timeman", "--scope", "im", "--user", str(ann))
    assert out == f"{client_id}\tTime Sync\tim,timeman\t{REDIRECT}\t{ann}\n"
    record = cli.json(
        "app", "set", client_id, "--name", "Renamed", "--handler", "https://h.example/"
    )
    assert record["name"] == "Renamed"
    assert record["handler"] == "https://h.example/"
    assert (record["scopes"], record["redirect_uri"], record["users"]) == (
        ["im", "timeman"],
        REDIRECT,
        [ann],
    )
    assert "client_secret" not in record
    assert cli.json("app", "list") == [record]
    # An empty redirect URI removes it; --all-users lifts the limit.
    record = cli.json("app", "set", client_id, "--redirect-uri", "", "--all-users")
    assert (record["redirect_uri"], record["users"]) == ("", None)
    # The secret is unchanged: it still renews.
    _access, refresh_token = cli.ok("app", "token", "--client-id", client_id, "--user", "1").split()
    with served(cli) as http:
        assert refresh(http, client_id, secret, refresh_token).status_code == 200


def test_app_set_reaches_tokens_already_issued(cli: Cli) -> None:
    ann, bob = add_user(cli, "Ann"), add_user(cli, "Bob")
    client_id, _ = add_app(cli, "--scope", "im", "--scope", "user")
    ann_access, _ = cli.ok("app", "token", "--client-id", client_id, "--user", str(ann)).split()
    with served(cli) as http:
        assert result(rest(http, "user.current", ann_access))["NAME"] == "Ann"
        cli.ok("app", "set", client_id, "--user", str(bob))
        assert error_of(rest(http, "user.current", ann_access)) == (403, "user_access_error")
        assert "may not use" in cli.fails(
            "app", "token", "--client-id", client_id, "--user", str(ann)
        )
        cli.ok("app", "set", client_id, "--all-users", "--scope", "im")
        assert error_of(rest(http, "user.current", ann_access)) == (403, "insufficient_scope")
        assert result(rest(http, "im.user.status.get", ann_access)) == "online"


def test_app_set_refusals_change_nothing(cli: Cli) -> None:
    client_id, _ = add_app(cli, "--scope", "im", "--redirect-uri", REDIRECT)
    before = cli.json("app", "list")
    assert cli.fails("app", "set", "local.nope.1", "--name", "X") == (
        "error: no application local.nope.1"
    )
    assert "crm" in cli.fails("app", "set", client_id, "--scope", "crm")
    assert "99" in cli.fails("app", "set", client_id, "--user", "99")
    assert "not both" in cli.fails("app", "set", client_id, "--user", "1", "--all-users")
    assert "name" in cli.fails("app", "set", client_id, "--name", " ")
    assert "redirect URI" in cli.fails("app", "set", client_id, "--redirect-uri", "app.example")
    assert "handler" in cli.fails("app", "set", client_id, "--handler", "ftp://app.example/")
    assert cli.json("app", "list") == before


def test_app_set_paid_period(cli: Cli) -> None:
    client_id, secret = add_app(cli, "--scope", "im")
    assert cli.json("app", "list")[0]["paid_until"] is None
    record = cli.json("app", "set", client_id, "--paid-until", "2099-12-31")
    assert record["paid_until"] == "2099-12-31"
    access, refresh_token = cli.ok("app", "token", "--client-id", client_id, "--user", "1").split()

    assert cli.json("app", "set", client_id, "--paid-until", "2000-01-31")["paid_until"] == (
        "2000-01-31"
    )
    assert "payment required" in cli.fails("app", "token", "--client-id", client_id, "--user", "1")
    with served(cli) as http:
        info = result(rest(http, "app.info", access))
        assert info["PAYMENT_EXPIRED"] == "Y"
        assert info["DAYS"] < -9000
        assert error_of(refresh(http, client_id, secret, refresh_token)) == (
            401,
            "PAYMENT_REQUIRED",
        )
    assert "not both" in cli.fails("app", "set", client_id, "--paid", "--paid-until", "2099-01-01")
    misspelt = cli("app", "set", client_id, "--paid-until", "31.01.2000")
    assert (misspelt.returncode, misspelt.stdout) == (2, "")

    assert cli.json("app", "set", client_id, "--paid")["paid_until"] is None
    with served(cli) as http:
        assert refresh(http, client_id, secret, refresh_token).status_code == 200


def test_app_set_in_another_portal(cli: Cli) -> None:
    cli.ok("portal", "add", "--domain", ACME)
    acme_id = cli.ok("app", "add", "--name", "Acme", "--scope", "im", "--portal", ACME).split()[0]
    assert "no application" in cli.fails("app", "set", acme_id, "--name", "Mine")
    record = cli.json("app", "set", acme_id, "--name", "Acme Sync", "--portal", ACME)
    assert record["name"] == "Acme Sync"


# --- app list ------------------------------------------------------------------------------


def test_app_list_never_shows_the_secret(cli: Cli) -> None:
    add_user(cli, "Ann")
    first, first_secret = add_app(cli, "--scope", "user", "--scope", "im", "--redirect-uri",
                                  REDIRECT, "--user", "2")  # fmt: skip
    second, second_secret = add_app(cli, "--scope", "timeman")
    plain = cli.ok("app", "list")
    assert first_secret not in plain and second_secret not in plain
    assert plain.splitlines() == [
        f"{first}\tTime Sync\tim,user\t{REDIRECT}\t2",
        f"{second}\tTime Sync\ttimeman",
    ]
    out = cli.ok("app", "list", "--json")
    assert first_secret not in out and second_secret not in out
    records = json.loads(out)
    assert [r["client_id"] for r in records] == [first, second]
    assert all("client_secret" not in r and "secret" not in r for r in records)
    assert (records[0]["scopes"], records[0]["redirect_uri"], records[0]["users"]) == (
        ["im", "user"],
        REDIRECT,
        [2],
    )
    assert (records[1]["scopes"], records[1]["users"]) == (["timeman"], None)


# --- app token -----------------------------------------------------------------------------


def test_app_token_prints_a_working_pair(cli: Cli) -> None:
    user = add_user(cli, "Ann")
    client_id, secret = add_app(cli, "--scope", "user", "--scope", "im")
    out = cli.ok("app", "token", "--client-id", client_id, "--user", str(user))
    assert re.fullmatch(r"\S+ \S+\n", out), out
    access, refresh_token = out.split()
    assert access != refresh_token
    with served(cli) as http:
        info = result(rest(http, "app.info", access))
        assert (info["CODE"], info["STATUS"]) == (client_id, "L")
        me = result(rest(http, "user.current", access))
        assert (me["ID"], me["NAME"]) == (str(user), "Ann")
        assert result(rest(http, "scope", access)) == ["im", "user"]
        # Not a scope the app lacks.
        assert error_of(rest(http, "timeman.status", access)) == (403, "insufficient_scope")
        # A made-up token is not taken.
        assert error_of(rest(http, "user.current", access[:-1] + "x")) == (401, "NO_AUTH_FOUND")
        renewed = refresh(http, client_id, secret, refresh_token)
        assert renewed.status_code == 200, renewed.text
        assert renewed.json()["user_id"] == user
        again = result(rest(http, "user.current", renewed.json()["access_token"]))
        assert again["NAME"] == "Ann"


def test_app_token_json(cli: Cli) -> None:
    client_id, _ = add_app(cli, "--scope", "im", "--scope", "timeman")
    record = cli.json("app", "token", "--client-id", client_id, "--user", "1")
    (portal,) = cli.json("portal", "list")
    assert record["member_id"] == portal["member_id"]
    assert record["user_id"] == 1
    assert record["scope"] == "im,timeman"
    assert record["expires_in"] == 3600
    assert record["status"] == "L"
    with served(cli) as http:
        assert result(rest(http, "im.user.get", record["access_token"]))["id"] == 1
        assert refresh(http, client_id, "wrong", record["refresh_token"]).status_code == 401


def test_app_token_refusals(cli: Cli) -> None:
    ann, bob = add_user(cli, "Ann"), add_user(cli, "Bob")
    client_id, _ = add_app(cli, "--scope", "im", "--user", str(ann))
    assert "may not use" in cli.fails("app", "token", "--client-id", client_id, "--user", str(bob))
    assert "99" in cli.fails("app", "token", "--client-id", client_id, "--user", "99")
    assert "no application" in cli.fails(
        "app", "token", "--client-id", "local.nope.1", "--user", "1"
    )
    cli.ok("user", "update", str(ann), "--inactive")
    assert "not active" in cli.fails("app", "token", "--client-id", client_id, "--user", str(ann))
    cli.ok("user", "update", str(ann), "--active")
    access, _ = cli.ok("app", "token", "--client-id", client_id, "--user", str(ann)).split()
    with served(cli) as http:
        assert result(rest(http, "im.user.get", access))["id"] == ann


# --- app remove ----------------------------------------------------------------------------


def test_app_remove_kills_its_tokens(cli: Cli) -> None:
    client_id, secret = add_app(cli, "--scope", "im")
    other_id, _ = add_app(cli, "--scope", "im")
    access, refresh_token = cli.ok("app", "token", "--client-id", client_id, "--user", "1").split()
    other_access, _ = cli.ok("app", "token", "--client-id", other_id, "--user", "1").split()
    with served(cli) as http:
        assert result(rest(http, "im.user.status.get", access)) == "online"
        # Removed while the server runs: the token stops working at once.
        assert cli.ok("app", "remove", client_id) == ""
        assert error_of(rest(http, "im.user.status.get", access)) == (401, "NO_AUTH_FOUND")
        assert error_of(refresh(http, client_id, secret, refresh_token)) == (401, "invalid_client")
        # The other app is untouched.
        assert result(rest(http, "im.user.status.get", other_access)) == "online"
    assert app_ids(cli) == [other_id]
    assert cli.fails("app", "remove", client_id) == f"error: no application {client_id}"
    assert "no application" in cli.fails("app", "token", "--client-id", client_id, "--user", "1")


def test_app_options_shows_what_the_app_stored(cli: Cli) -> None:
    client_id, _ = add_app(cli, "--scope", "user")
    ann = add_user(cli, "Ann")
    boss = cli.ok("app", "token", "--client-id", client_id, "--user", "1").split()[0]
    token = cli.ok("app", "token", "--client-id", client_id, "--user", str(ann)).split()[0]
    assert json.loads(cli.ok("app", "options", client_id)) == []
    with served(cli) as http:
        assert result(rest(http, "app.option.set", boss, options={"mode": "on", "n": 2}))
        assert result(rest(http, "user.option.set", token, options={"theme": "dark"}))
    assert json.loads(cli.ok("app", "options", client_id)) == {"mode": "on", "n": 2}
    assert json.loads(cli.ok("app", "options", client_id, "--user", str(ann))) == {"theme": "dark"}
    assert cli.fails("app", "options", "local.nope") == "error: no application local.nope"
    assert cli.fails("app", "options", client_id, "--user", "99") == "error: no user 99"


# --- user password -------------------------------------------------------------------------


@pytest.fixture
def login_app(cli: Cli) -> str:
    client_id, _ = add_app(cli, "--scope", "im", "--redirect-uri", REDIRECT)
    return client_id


def test_user_password_option_logs_in(cli: Cli, login_app: str) -> None:
    user = add_user(cli, "Ann", "--email", "ann@example.com")
    assert cli.ok("user", "password", str(user), "--password", "pw one") == ""
    with served(cli) as http:
        code_of(log_in(http, login_app, str(user), "pw one"))
        code_of(log_in(http, login_app, "ANN@example.com", "pw one"))
        for wrong in ("pw two", "pw one ", "PW ONE", ""):
            refused = log_in(http, login_app, str(user), wrong)
            assert refused.status_code == 401, wrong
            assert "location" not in refused.headers
        # The administrator has no password at all.
        assert log_in(http, login_app, "1", "pw one").status_code == 401
    # A new password replaces the old.
    cli.ok("user", "password", str(user), "--password", "pw two")
    with served(cli) as http:
        assert log_in(http, login_app, str(user), "pw one").status_code == 401
        code_of(log_in(http, login_app, str(user), "pw two"))


def test_user_password_from_stdin(cli: Cli, login_app: str) -> None:
    user = add_user(cli, "Ann")
    # One line is read: its newline is not part of the password, its spaces are,
    # and a second line is left alone.
    assert cli.ok("user", "password", str(user), stdin="  spaced pw \nsecond line\n") == ""
    with served(cli) as http:
        code_of(log_in(http, login_app, str(user), "  spaced pw "))
        assert log_in(http, login_app, str(user), "spaced pw").status_code == 401
        assert log_in(http, login_app, str(user), "second line").status_code == 401
    cli.ok("user", "password", str(user), stdin="crlf pw\r\n")
    with served(cli) as http:
        code_of(log_in(http, login_app, str(user), "crlf pw"))


def test_an_empty_password_is_refused_and_changes_nothing(cli: Cli, login_app: str) -> None:
    user = add_user(cli, "Ann")
    cli.ok("user", "password", str(user), "--password", "kept")
    assert "empty" in cli.fails("user", "password", str(user), "--password", "")
    cli.fails("user", "password", str(user), stdin="\n")
    cli.fails("user", "password", str(user), stdin="")
    with served(cli) as http:
        code_of(log_in(http, login_app, str(user), "kept"))
        assert log_in(http, login_app, str(user), "").status_code == 401


def test_user_password_for_an_unknown_user(cli: Cli) -> None:
    assert "99" in cli.fails("user", "password", "99", "--password", "x")


# --- --portal ------------------------------------------------------------------------------


def test_an_app_in_another_portal(cli: Cli) -> None:
    member_id = cli.ok("portal", "add", "--domain", ACME).strip()
    local_id, _ = add_app(cli, "--scope", "user")
    out = cli.ok("app", "add", "--name", "Acme Sync", "--scope", "user", "--portal", ACME)
    acme_id, acme_secret = PAIR.fullmatch(out).groups()  # type: ignore[union-attr]

    assert app_ids(cli) == [local_id]
    assert app_ids(cli, "--portal", ACME) == [acme_id]
    assert cli.ok("app", "list", "--portal", ACME).startswith(f"{acme_id}\tAcme Sync\tuser")

    # Without --portal the app is not found; with it, the token is acme's.
    assert "no application" in cli.fails("app", "token", "--client-id", acme_id, "--user", "1")
    record = cli.json("app", "token", "--client-id", acme_id, "--user", "1", "--portal", ACME)
    assert record["member_id"] == member_id
    access = record["access_token"]
    with served(cli) as http:
        me = result(rest(http, "user.current", access, ACME_HOST))
        assert (me["ID"], me["EMAIL"]) == ("1", "admin@acme.localhost")
        assert error_of(rest(http, "user.current", access)) == (401, "NO_AUTH_FOUND")
        # Removing it from the default portal does nothing.
        assert "no application" in cli.fails("app", "remove", acme_id)
        assert result(rest(http, "user.current", access, ACME_HOST))["ID"] == "1"
        cli.ok("app", "remove", acme_id, "--portal", ACME)
        assert error_of(rest(http, "user.current", access, ACME_HOST)) == (401, "NO_AUTH_FOUND")
        assert refresh(http, acme_id, acme_secret, record["refresh_token"]).status_code == 401
    assert app_ids(cli) == [local_id]


def test_a_password_in_another_portal(cli: Cli) -> None:
    cli.ok("portal", "add", "--domain", ACME)
    local_id, _ = add_app(cli, "--scope", "im", "--redirect-uri", REDIRECT)
    out = cli.ok("app", "add", "--name", "Acme", "--scope", "im", "--redirect-uri", REDIRECT,
                 "--portal", ACME)  # fmt: skip
    acme_id = out.split()[0]
    assert cli.ok("user", "password", "1", "--password", "acme pw", "--portal", ACME) == ""
    with served(cli) as http:
        code_of(log_in(http, acme_id, "1", "acme pw", ACME_HOST))
        code_of(log_in(http, acme_id, "admin@acme.localhost", "acme pw", ACME_HOST))
        # The default portal's administrator got no password.
        assert log_in(http, local_id, "1", "acme pw").status_code == 401


def test_an_unknown_portal(cli: Cli) -> None:
    assert "nope.localhost" in cli.fails(
        "app", "add", "--name", "X", "--scope", "im", "--portal", "nope.localhost"
    )
    cli.fails("user", "password", "1", "--password", "x", "--portal", "nope.localhost")
    assert cli.json("app", "list") == []


# --- portal set --public-url ---------------------------------------------------------------


def test_portal_set_public_url(cli: Cli) -> None:
    """The portal's public address is stored and given out by the token endpoint,
    whatever Host the request had; ``""`` goes back to the Host header."""
    client_id, secret = add_app(cli, "--scope", "im")
    record = cli.json("portal", "set", "--public-url", "https://B24.example.com/")
    assert record["public_url"] == "https://b24.example.com"
    assert cli.json("portal", "list")[0]["public_url"] == "https://b24.example.com"
    _access, refresh_token = cli.ok("app", "token", "--client-id", client_id, "--user", "1").split()
    with served(cli) as http:
        pair = refresh(http, client_id, secret, refresh_token).json()
    assert pair["client_endpoint"] == "https://b24.example.com/rest/"
    assert pair["server_endpoint"] == "https://b24.example.com/oauth/rest/"

    assert cli.json("portal", "set", "--public-url", "")["public_url"] is None
    with served(cli) as http:
        pair = refresh(http, client_id, secret, pair["refresh_token"]).json()
    assert pair["client_endpoint"] == "http://127.0.0.1:8024/rest/"


@pytest.mark.parametrize("url", ["b24.example.com", "https://b24.example.com/?a=1", "mailto:x"])
def test_portal_set_refuses_a_public_url_that_is_no_http_address(cli: Cli, url: str) -> None:
    result = cli("portal", "set", "--public-url", url)
    assert result.returncode == 2, result.stderr
    assert "--public-url" in result.stderr
    assert cli.json("portal", "list")[0]["public_url"] is None


# --- the application's own events --------------------------------------------------------


def outbox(cli: Cli) -> list[dict[str, Any]]:
    """The outbox rows the CLI's commands wrote, oldest first."""
    import asyncio

    from sqlalchemy import select

    from b24local import admin
    from b24local.store.tables import event_deliveries

    async def read() -> list[dict[str, Any]]:
        store = await admin.open_store(Settings(data_dir=cli.data_dir, db=cli.db).db_url)
        try:
            async with store.transaction() as conn:
                rows = await conn.execute(select(event_deliveries).order_by(event_deliveries.c.id))
                return [dict(row._mapping) for row in rows]
        finally:
            await store.close()

    return asyncio.run(read())


def test_app_add_remove_and_version_raise_the_apps_events(cli: Cli) -> None:
    handler = "http://127.0.0.1:9/install"
    grace = add_user(cli, "Grace", "--admin")
    client_id, _secret = add_app(cli, "--scope", "user", "--handler", handler, "--by", str(grace))
    cli.ok("app", "set", client_id, "--version", "2")
    cli.ok("app", "remove", client_id, "--clean")
    rows = [(r["event"], r["handler_url"], r["auth_user_id"], r["data"]) for r in outbox(cli)]
    assert rows == [
        ("ONAPPINSTALL", handler, grace,
         {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"}),
        ("ONAPPUPDATE", handler, 1, {"VERSION": "2", "PREVIOUS_VERSION": "1", "LANGUAGE_ID": "en"}),
        ("ONAPPUNINSTALL", handler, None, {"LANGUAGE_ID": "en", "CLEAN": 1}),
    ]  # fmt: skip


def test_app_events_refusals(cli: Cli) -> None:
    emily = add_user(cli, "Emily")
    assert "not an active administrator" in cli.fails(
        "app", "add", "--name", "X", "--handler", "http://127.0.0.1:9/h", "--by", str(emily)
    )
    client_id, _secret = add_app(cli, "--scope", "user")
    cli.ok("app", "set", client_id, "--version", "3")
    assert "only goes up" in cli.fails("app", "set", client_id, "--version", "2")
    # No handler: nothing to tell.
    assert outbox(cli) == []
