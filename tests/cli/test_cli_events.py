"""Events raised by the ``b24local`` console script, run as a real subprocess: a user
the administrator adds from the command line is announced (ONUSERADD) like one
invited through user.add, with no user's token, since no user acted."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from b24local import admin
from b24local.store import events as event_store
from b24local.store.engine import sqlite_url
from b24local.store.tables import apps, event_deliveries
from clirun import run_cli

#: Slow subprocess tests of commands whose store code the API tests run on both databases.
pytestmark = pytest.mark.parametrize("cli", ["sqlite"], indirect=True)


def _script() -> str:
    candidate = Path(sys.executable).parent / "b24local"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("b24local")
    if found is None:
        pytest.fail(f"the b24local console script is not installed (looked in {candidate})")
    return found


SCRIPT = _script()
#: When the test binds its handler (any moment: only the CLI's own clock stamps events).
BOUND_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Cli:
    def __init__(self, data_dir: Path, db: str | None) -> None:
        self.data_dir = data_dir
        self.db = db
        self.url = db or sqlite_url(data_dir)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        database = ["--db", self.db] if self.db else []
        return run_cli([*args, "--data-dir", str(self.data_dir), *database])

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def store(self, work) -> Any:
        async def run() -> Any:
            store = await admin.open_store(self.url)
            try:
                async with store.transaction(write=True) as conn:
                    return await work(conn)
            finally:
                await store.close()

        return asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request, tmp_path: Path, new_pg_schema) -> Iterator[Cli]:
    if request.param == "sqlite":
        yield Cli(tmp_path / "data", None)
        return
    with new_pg_schema() as url:
        yield Cli(tmp_path / "data", url)


def bind_app(cli: Cli) -> int:
    """An application with scope user, bound to ONUSERADD; its ID."""
    client_id = cli.ok("app", "add", "--name", "Hears", "--scope", "user").split()[0]

    async def bind(conn) -> int:
        app_id = (
            await conn.execute(select(apps.c.id).where(apps.c.client_id == client_id))
        ).scalar_one()
        await event_store.add_handler(
            conn, 1, event="ONUSERADD", handler="http://127.0.0.1:9/h",
            now=BOUND_AT, user_id=1, app_id=app_id,
        )  # fmt: skip
        return int(app_id)

    return cli.store(bind)


def rows(cli: Cli) -> list[dict[str, Any]]:
    async def read(conn) -> list[dict[str, Any]]:
        found = await conn.execute(select(event_deliveries).order_by(event_deliveries.c.id))
        return [dict(row._mapping) for row in found if row.event == "ONUSERADD"]

    return cli.store(read)


def test_user_add_from_the_cli_raises_onuseradd_without_a_token(cli: Cli) -> None:
    app_id = bind_app(cli)
    new_id = int(
        cli.ok("user", "add", "--name", "John", "--last-name", "Doe", "--email", "j@example.com",
               "--position", "Tester")
    )  # fmt: skip
    [row] = rows(cli)
    assert row["app_id"] == app_id
    assert row["auth_user_id"] is None
    data = row["data"]
    assert (data["ID"], data["NAME"], data["LAST_NAME"], data["EMAIL"]) == (
        new_id, "John", "Doe", "j@example.com",
    )  # fmt: skip
    assert (data["ACTIVE"], data["WORK_POSITION"], data["UF_DEPARTMENT"]) == ("Y", "Tester", [1])


def test_a_refused_cli_user_add_raises_nothing(cli: Cli) -> None:
    cli.ok("user", "add", "--name", "John", "--last-name", "Doe", "--email", "j@example.com")
    bind_app(cli)
    refused = cli("user", "add", "--name", "Jane", "--last-name", "Doe", "--email", "j@example.com")
    assert refused.returncode != 0
    assert rows(cli) == []
