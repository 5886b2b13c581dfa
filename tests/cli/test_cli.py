"""The ``b24local`` command line: in this process, and as the console script.

Administration commands print values on stdout and nothing else; messages and
errors go to stderr with a non-zero exit status.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from b24local import __version__
from clirun import run_cli


def _script() -> str:
    found = shutil.which("b24local")
    if found:
        return found
    candidate = Path(sys.executable).parent / "b24local"
    if not candidate.exists():
        pytest.fail(f"the b24local console script is not installed (looked in {candidate})")
    return str(candidate)


SCRIPT = _script()
CODE = re.compile(r"[a-z0-9]{16}")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24LOCAL_")}
    env.update(extra)
    return env


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a real process."""
    return subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        env=env if env is not None else _env(),
        timeout=60,
        check=False,
    )


def b24(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A command, in this process; ``serve`` (which would stay) in a process of its own."""
    if args[:1] == ("serve",):
        return script(*args, env=env)
    return run_cli(args, env=env)


class Cli:
    """Runs commands against one data directory, and one ``--db`` if given."""

    def __init__(self, data_dir: Path, db: str | None = None) -> None:
        self.data_dir = data_dir
        self.db = db

    def __call__(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        database = ["--db", self.db] if self.db else []
        return b24(*args, "--data-dir", str(self.data_dir), *database, **kwargs)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request, tmp_path: Path, new_pg_schema) -> Iterator[Cli]:
    """Commands on the data directory's SQLite file, and again on a fresh PostgreSQL
    schema (when ``B24LOCAL_TEST_PG_URL`` is set)."""
    if request.param == "sqlite":
        yield Cli(tmp_path / "data")
        return
    with new_pg_schema() as url:
        yield Cli(tmp_path / "data", db=url)


#: For tests about the data directory's own files rather than the database.
sqlite_only = pytest.mark.parametrize("cli", ["sqlite"], indirect=True)


def add_john(cli: Cli) -> str:
    return cli.ok("user", "add", "--name", "John", "--last-name", "Doe", "--tz", "Europe/Berlin")


# --- users -----------------------------------------------------------------------------


def test_user_add_prints_only_the_new_id(cli: Cli) -> None:
    assert add_john(cli) == "2\n"
    assert cli.ok("user", "add", "--name", "Jane", "--last-name", "Roe") == "3\n"


@sqlite_only
def test_user_add_creates_the_data_dir_and_database(cli: Cli) -> None:
    assert not cli.data_dir.exists()
    add_john(cli)
    assert (cli.data_dir / "b24local.db").is_file()


def test_user_add_json(cli: Cli) -> None:
    out = cli.ok(
        "user", "add", "--name", "John", "--last-name", "Doe", "--tz", "Europe/Berlin", "--json"
    )
    record = json.loads(out)
    assert isinstance(record, dict)
    assert record["id"] == 2
    assert record["name"] == "John"
    assert record["last_name"] == "Doe"
    assert record["time_zone"] == "Europe/Berlin"
    assert record["admin"] is False
    assert record["active"] is True


def test_user_add_admin_flag(cli: Cli) -> None:
    record = json.loads(
        cli.ok("user", "add", "--name", "Ann", "--last-name", "Lee", "--admin", "--json")
    )
    assert record["admin"] is True


def test_user_list_lists_admin_and_new_user(cli: Cli) -> None:
    add_john(cli)
    lines = cli.ok("user", "list").splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[0] == "1"
    assert "admin" in lines[0].split("\t")
    assert lines[1].split("\t")[:2] == ["2", "John Doe"]


def test_user_list_json(cli: Cli) -> None:
    add_john(cli)
    records = json.loads(cli.ok("user", "list", "--json"))
    assert [r["id"] for r in records] == [1, 2]
    assert records[0]["admin"] is True
    assert (records[1]["name"], records[1]["last_name"], records[1]["time_zone"]) == (
        "John",
        "Doe",
        "Europe/Berlin",
    )


@pytest.mark.parametrize("zone", ["Mars/Base", "../etc/passwd", "Not a zone"])
def test_user_add_bad_time_zone(cli: Cli, zone: str) -> None:
    result = cli("user", "add", "--name", "John", "--last-name", "Doe", "--tz", zone)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "time zone" in result.stderr
    # Nothing was created.
    assert [r["id"] for r in json.loads(cli.ok("user", "list", "--json"))] == [1]


def test_profile_fields_through_the_same_checks_as_user_add(cli: Cli) -> None:
    record = json.loads(
        cli.ok(
            "user", "add", "--name", "Ann", "--last-name", "Lee", "--json",
            "--field", "WORK_COMPANY=Acme", "--field", "personal_birthday=1990-05-17",
        )
    )  # fmt: skip
    assert record["profile"] == {"WORK_COMPANY": "Acme"}
    changed = json.loads(
        cli.ok(
            "user", "update", "2", "--json", "--email", "ann@example.com",
            "--field", "WORK_COMPANY=", "--field", "TITLE=Dr", "--last-name", "Li",
        )
    )  # fmt: skip
    assert changed["profile"] == {"TITLE": "Dr", "WORK_COMPANY": ""}
    assert (changed["email"], changed["last_name"]) == ("ann@example.com", "Li")
    # The refusals user.update gives, in the CLI's words.
    refused = cli("user", "update", "2", "--field", "PERSONAL_GENDER=X")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "PERSONAL_GENDER must be M, F or empty" in refused.stderr
    taken = cli("user", "add", "--name", "Bo", "--last-name", "Lee", "--email", "ANN@example.com")
    assert taken.returncode == 1
    assert "already exists" in taken.stderr
    malformed = cli("user", "update", "2", "--field", "WORK_COMPANY")
    assert malformed.returncode != 0
    assert "FIELD=VALUE" in malformed.stderr
    for wrong in ("WORK_COMPNAY=Acme", "ACTIVE=N", "UF_DEPARTMENT=2"):
        refused = cli("user", "update", "2", "--field", wrong)
        assert refused.returncode != 0
        assert "not a profile field" in refused.stderr


@sqlite_only  # refused while reading the arguments, before any database
def test_user_add_needs_a_name(cli: Cli) -> None:
    result = cli("user", "add", "--last-name", "Doe")
    assert result.returncode != 0
    assert result.stdout == ""


# --- webhooks --------------------------------------------------------------------------


def test_webhook_add_prints_user_and_code(cli: Cli) -> None:
    add_john(cli)
    out = cli.ok("webhook", "add", "--user", "2", "--scope", "im")
    assert re.fullmatch(r"2/[a-z0-9]{16}\n", out), out


def test_webhook_add_json_carries_the_code_once(cli: Cli) -> None:
    add_john(cli)
    record = json.loads(cli.ok("webhook", "add", "--user", "2", "--scope", "im", "--json"))
    assert record["user_id"] == 2
    assert record["scopes"] == ["im"]
    assert CODE.fullmatch(record["code"])
    assert record["path"] == f"/rest/2/{record['code']}/"


def test_webhook_codes_differ(cli: Cli) -> None:
    add_john(cli)
    first = cli.ok("webhook", "add", "--user", "2", "--scope", "im")
    second = cli.ok("webhook", "add", "--user", "2", "--scope", "im")
    assert first != second


def test_webhook_list_never_shows_the_code(cli: Cli) -> None:
    add_john(cli)
    code = cli.ok("webhook", "add", "--user", "2", "--scope", "im").strip().split("/")[1]
    out = cli.ok("webhook", "list", "--json")
    assert code not in out
    records = json.loads(out)
    assert len(records) == 1
    (record,) = records
    assert record["user_id"] == 2
    assert record["scopes"] == ["im"]
    assert "code" not in record
    assert "path" not in record
    plain = cli.ok("webhook", "list")
    assert code not in plain
    assert plain.splitlines() == [f"{record['id']}\t2\tim"]


def test_webhook_scopes_are_sorted_and_deduplicated(cli: Cli) -> None:
    add_john(cli)
    cli.ok("webhook", "add", "--user", "2", "--scope", "user", "--scope", "im", "--scope", "im")
    (record,) = json.loads(cli.ok("webhook", "list", "--json"))
    assert record["scopes"] == ["im", "user"]


def test_webhook_remove(cli: Cli) -> None:
    add_john(cli)
    cli.ok("webhook", "add", "--user", "2", "--scope", "im")
    cli.ok("webhook", "add", "--user", "1", "--scope", "user")
    first, second = json.loads(cli.ok("webhook", "list", "--json"))
    assert cli.ok("webhook", "remove", str(first["id"])) == ""
    remaining = json.loads(cli.ok("webhook", "list", "--json"))
    assert [r["id"] for r in remaining] == [second["id"]]


def test_webhook_remove_unknown(cli: Cli) -> None:
    add_john(cli)
    result = cli("webhook", "remove", "999")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "999" in result.stderr


def test_webhook_remove_twice(cli: Cli) -> None:
    add_john(cli)
    cli.ok("webhook", "add", "--user", "2", "--scope", "im")
    (record,) = json.loads(cli.ok("webhook", "list", "--json"))
    cli.ok("webhook", "remove", str(record["id"]))
    assert cli("webhook", "remove", str(record["id"])).returncode == 1


def test_webhook_unknown_scope(cli: Cli) -> None:
    add_john(cli)
    result = cli("webhook", "add", "--user", "2", "--scope", "nope")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "nope" in result.stderr
    assert json.loads(cli.ok("webhook", "list", "--json")) == []


def test_webhook_unknown_user(cli: Cli) -> None:
    result = cli("webhook", "add", "--user", "77", "--scope", "im")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "77" in result.stderr


@sqlite_only
def test_no_webhook_for_a_dismissed_user(cli: Cli) -> None:
    user = add_john(cli).strip()
    cli.ok("user", "update", user, "--inactive")
    result = cli("webhook", "add", "--user", user, "--scope", "im")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"error: user {user} is dismissed: their webhook would never work\n"
    assert json.loads(cli.ok("webhook", "list", "--json")) == []


# --- portals ---------------------------------------------------------------------------


def portals(cli: Cli) -> dict[str, dict]:
    return {p["domain"]: p for p in json.loads(cli.ok("portal", "list", "--json"))}


def test_portal_plans(cli: Cli) -> None:
    cli.ok("portal", "add", "--domain", "acme.localhost", "--plan", "enterprise")
    cli.ok("portal", "add", "--domain", "shop.localhost")
    assert portals(cli)["acme.localhost"]["plan"] == "enterprise"
    assert portals(cli)["shop.localhost"]["plan"] == "professional"
    for plan in ("free", "standard", "professional", "enterprise"):
        assert cli.ok("portal", "set", "shop.localhost", "--plan", plan) == "shop.localhost\n"
        assert portals(cli)["shop.localhost"]["plan"] == plan


@pytest.mark.parametrize("plan", ["basic", "Enterprise", "pro", ""])
def test_an_unknown_plan_is_refused(cli: Cli, plan: str) -> None:
    added = cli("portal", "add", "--domain", "acme.localhost", "--plan", plan)
    assert added.returncode == 1
    assert added.stdout == ""
    assert added.stderr == (
        f"error: unknown plan {plan!r}: use one of free, standard, professional, enterprise\n"
    )
    assert "acme.localhost" not in portals(cli)
    changed = cli("portal", "set", "--plan", plan)
    assert (changed.returncode, changed.stdout) == (1, "")
    assert changed.stderr.startswith("error: unknown plan")
    assert portals(cli)["localhost"]["plan"] == "professional"


# --- request-rate settings ---------------------------------------------------------------


def test_portal_set_one_rate_value_leaves_the_other_unset(cli: Cli) -> None:
    record = json.loads(cli.ok("portal", "set", "--rate-threshold", "10", "--json"))
    assert (record["rate_threshold"], record["rate_drain"]) == (10.0, None)


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--rate-threshold", "0"),
        ("serve", "--rate-drain", "-1"),
        ("serve", "--rate-threshold", "nan"),
        ("portal", "set", "--rate-threshold", "0"),
        ("portal", "set", "--rate-drain", "-0.5"),
    ],
)
def test_rate_values_must_be_positive(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "must be greater than 0" in result.stderr
    # Refused before anything was started or stored.
    assert not (cli.data_dir / "b24local.db").exists()


@pytest.mark.parametrize("url", ["127.0.0.1:6379", "http://127.0.0.1:6379/0"])
def test_serve_refuses_a_redis_url_that_names_no_redis(cli: Cli, url: str) -> None:
    result = cli("serve", "--redis", url)
    assert (result.returncode, result.stdout) == (2, "")
    assert "redis://" in result.stderr
    assert not (cli.data_dir / "b24local.db").exists()


# --- tls, version, db ------------------------------------------------------------------


@sqlite_only
def test_tls_ca_path(cli: Cli) -> None:
    out = cli.ok("tls", "ca-path")
    assert out.endswith("\n")
    assert out.count("\n") == 1
    path = Path(out.strip())
    assert path.is_file()
    assert path == cli.data_dir / "tls" / "ca.pem"
    assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    # Asking again gives the same CA.
    content = path.read_bytes()
    assert cli.ok("tls", "ca-path") == out
    assert path.read_bytes() == content


def test_version() -> None:
    result = script("version")
    assert result.returncode == 0
    assert result.stdout == f"{__version__}\n"


@sqlite_only
def test_db_upgrade(cli: Cli) -> None:
    assert cli.ok("db", "upgrade") == ""
    assert (cli.data_dir / "b24local.db").is_file()


@sqlite_only
def test_db_url_option(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "other.db"
    other.parent.mkdir()
    url = f"sqlite:///{other}"
    out = cli.ok("user", "add", "--name", "John", "--last-name", "Doe", "--db", url)
    assert out == "2\n"
    assert other.is_file()
    assert not (cli.data_dir / "b24local.db").exists()
    assert [r["id"] for r in json.loads(cli.ok("user", "list", "--json", "--db", url))] == [1, 2]
    # The data directory's own database is a different one.
    assert [r["id"] for r in json.loads(cli.ok("user", "list", "--json"))] == [1]


@sqlite_only
def test_db_url_from_the_environment(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "env.db"
    env = _env(B24LOCAL_DB=f"sqlite:///{other}")
    result = cli("user", "add", "--name", "John", "--last-name", "Doe", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2\n"
    assert other.is_file()
    assert not (cli.data_dir / "b24local.db").exists()


def test_no_arguments_shows_help() -> None:
    result = script()
    assert result.returncode != 0
    assert "Usage" in result.stdout + result.stderr
