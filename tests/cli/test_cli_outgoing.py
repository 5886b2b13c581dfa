"""``b24local outgoing-webhook`` as a real subprocess: the token it prints is the
one its handler receives from a server on the same data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from b24local.app import create_app
from b24local.clock import AdjustableClock
from b24local.config import Settings
from b24local.events.raising import raise_event
from clirun import run_cli
from conftest import DEV_TOKEN, START
from eventhandler import event_handler

#: Slow subprocess tests of commands whose store code the API tests run on both databases.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _script() -> str:
    candidate = Path(sys.executable).parent / "b24local"
    found = str(candidate) if candidate.exists() else shutil.which("b24local")
    if found is None:
        pytest.fail("the b24local console script is not installed")
    return found


SCRIPT = _script()


class Cli:
    def __init__(self, data_dir: Path, db: str | None) -> None:
        self.data_dir, self.db = data_dir, db

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        database = ["--db", self.db] if self.db else []
        return run_cli([*args, "--data-dir", str(self.data_dir), *database])

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def refused(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode != 0 and done.stdout == "", done.stdout
        return done.stderr


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Iterator[Cli]:
    yield Cli(tmp_path / "data", None if db_url.startswith("sqlite") else db_url)


def test_add_prints_the_token_the_handler_receives(cli: Cli):
    with event_handler() as handler:
        token = cli.ok(
            "outgoing-webhook", "add", "--handler", handler.url(), "--event", "onuseradd"
        ).strip()
        assert len(token) == 32 and token.isalnum()

        clock = AdjustableClock(START, frozen=True)
        settings = Settings(data_dir=cli.data_dir, db=cli.db, dev=True, limits=False)
        app = create_app(settings, clock=clock, dev_token=DEV_TOKEN)
        with TestClient(app, base_url="http://127.0.0.1:8024") as http:
            store = app.state.runtime.store

            async def change():
                async with store.transaction(write=True) as conn:
                    await raise_event(conn, 1, "ONUSERADD", {"ID": "2"}, now=clock.now())

            http.portal.call(change)  # type: ignore[union-attr]
            (got,) = handler.wait_for(1)
        assert got["auth"]["application_token"] == token
        assert "access_token" not in got["auth"]


def test_list_and_remove(cli: Cli):
    cli.ok("user", "add", "--name", "Ann", "--last-name", "Lee")
    token = cli.ok(
        "outgoing-webhook", "add", "--handler", "https://hooks.example/in", "--event",
        "ONUSERADD", "--user", "2", "--title", "CRM sync",
    ).strip()  # fmt: skip
    (hook,) = json.loads(cli.ok("outgoing-webhook", "list", "--json"))
    assert hook == {
        "id": hook["id"],
        "handler": "https://hooks.example/in",
        "events": ["ONUSERADD"],
        "user_id": 2,
        "title": "CRM sync",
        "application_token": token,
    }
    line = cli.ok("outgoing-webhook", "list").strip()
    assert line.split("\t") == [
        str(hook["id"]), "https://hooks.example/in", "ONUSERADD", "2", token, "CRM sync",
    ]  # fmt: skip
    cli.ok("outgoing-webhook", "remove", str(hook["id"]))
    assert json.loads(cli.ok("outgoing-webhook", "list", "--json")) == []
    assert "no outgoing webhook" in cli.refused("outgoing-webhook", "remove", str(hook["id"]))
    assert "no outgoing webhook" in cli.refused("outgoing-webhook", "remove", "9" * 20)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--handler", "https://h.example/", "--event", "ONAPPINSTALL"], "cannot hear it"),
        (["--handler", "https://h.example/", "--event", "ONNOTHING"], "unknown event"),
        (["--handler", "ftp://h.example/", "--event", "ONUSERADD"], "not an absolute"),
        (["--handler", "http://[::1/", "--event", "ONUSERADD"], "not an absolute"),
        (["--handler", "http://127.0.0.1:99999/", "--event", "ONUSERADD"], "not an absolute"),
        (
            ["--handler", "https://h.example/", "--event", "ONUSERADD", "--title", "t" * 300],
            "longer than 255",
        ),
        (["--handler", "https://h.example/"], "at least one --event"),
        (["--handler", "https://h.example/", "--event", "ONUSERADD", "--user", "99"], "no user"),
    ],
)
def test_add_refuses(cli: Cli, args: list[str], message: str):
    assert message in cli.refused("outgoing-webhook", "add", *args)
    assert json.loads(cli.ok("outgoing-webhook", "list", "--json")) == []
