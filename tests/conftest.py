"""Shared fixtures: a real database (SQLite, and PostgreSQL when configured),
a frozen clock, and the app driven through HTTP.

API tests run once per database backend. PostgreSQL needs
``B24LOCAL_TEST_PG_URL`` (for example ``postgresql://postgres@127.0.0.1:5432/test``);
without it those runs are skipped, and the summary says so in capitals. The same
goes for the limits kept in Redis and ``B24LOCAL_TEST_REDIS_URL`` (for example
``redis://127.0.0.1:6379/0``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from b24local import admin
from b24local.app import create_app
from b24local.clock import AdjustableClock
from b24local.config import Settings
from b24local.store.engine import Store, sqlite_url
from preparing import PG_URL, pg_restored, pg_schema, prepared
from redisrun import REDIS_URL

START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
DEV_TOKEN = "test-dev-token"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("b24local fuzz", "tests/clients/test_fuzz.py")
    group.addoption(
        "--fuzz-count",
        type=int,
        default=6000,
        help="requests the fuzz test sends (default 6000; raise it for long local runs)",
    )
    group.addoption(
        "--fuzz-seed",
        default="24",
        help="the fuzz run's seed: an integer, or 'random' for a fresh one (default 24)",
    )


def pytest_report_header(config) -> list[str]:
    lines = []
    if PG_URL:
        lines.append(f"b24local: PostgreSQL runs enabled ({PG_URL})")
    else:
        lines.append("b24local: B24LOCAL_TEST_PG_URL NOT SET -- POSTGRESQL RUNS WILL BE SKIPPED")
    if REDIS_URL:
        lines.append(f"b24local: Redis runs enabled ({REDIS_URL})")
    else:
        lines.append("b24local: B24LOCAL_TEST_REDIS_URL NOT SET -- REDIS RUNS WILL BE SKIPPED")
    return lines


def pytest_terminal_summary(terminalreporter) -> None:
    for variable, value, what in (
        ("B24LOCAL_TEST_PG_URL", PG_URL, "PostgreSQL"),
        ("B24LOCAL_TEST_REDIS_URL", REDIS_URL, "Redis"),
    ):
        if not value:
            terminalreporter.write_line(
                f"WARNING: {variable} is not set; every {what} run was SKIPPED.",
                red=True,
                bold=True,
            )


@pytest.fixture(scope="session")
def new_pg_schema() -> Callable[..., AbstractContextManager[str]]:
    """:func:`pg_schema` for test modules and their fixtures, which cannot import
    from a conftest: ``with new_pg_schema() as url: ...``."""
    return pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """The database of one test. On SQLite a file not yet made (:func:`make_server`
    makes it prepared); on PostgreSQL one schema per session, put back before each
    test to the rows it held when first prepared (migrating a schema per test
    costs several times more than the test)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    yield pg_restored(START)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path: Path) -> Iterator[str]:
    """A database nothing has touched, for tests of the migrations themselves."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with pg_schema() as url:
        yield url


@pytest.fixture
def clock() -> AdjustableClock:
    return AdjustableClock(START, frozen=True)


@dataclass
class Server:
    """The app under test, reached through HTTP, with its store at hand."""

    http: TestClient
    clock: AdjustableClock
    webhook: str  # "/rest/1/<code>/"
    admin_id: int

    @property
    def store(self) -> Store:
        store = self.http.app.state.runtime.store  # type: ignore[attr-defined]
        assert store is not None
        return store

    def run(self, function, *args: Any, **kwargs: Any) -> Any:
        """Run an async admin/store function inside the app's event loop."""
        portal = self.http.portal
        assert portal is not None
        return portal.call(lambda: function(*args, **kwargs))

    def call(self, method: str, params: dict | None = None, *, hook: str | None = None):
        return self.http.post(f"{hook or self.webhook}{method}", json=params or {})

    def add_user(self, name: str = "Emily", last_name: str = "Smith", **fields: Any) -> int:
        user = self.run(
            admin.add_user, self.store, self.clock.now(), name=name, last_name=last_name, **fields
        )
        return user.id

    def add_webhook(self, user_id: int, scopes: list[str]) -> str:
        hook, code = self.run(
            admin.add_webhook, self.store, self.clock.now(), user_id=user_id, scopes=scopes
        )
        return f"/rest/{hook.user_id}/{code}/"


def make_server(db_url: str, clock: AdjustableClock, tmp_path: Path, **settings: Any):
    boot, webhook = prepared(db_url, clock.now())
    settings.setdefault("dev", True)
    settings.setdefault("limits", False)
    config = Settings(data_dir=tmp_path, db=db_url, **settings)
    app = create_app(config, clock=clock, dev_token=DEV_TOKEN)
    http = TestClient(app, base_url="http://127.0.0.1:8024", raise_server_exceptions=False)
    return http, Server(http, clock, webhook, boot.admin.id)


@pytest.fixture
def server(db_url: str, clock: AdjustableClock, tmp_path: Path) -> Iterator[Server]:
    http, srv = make_server(db_url, clock, tmp_path)
    with http:
        yield srv


@pytest.fixture
def server_with(db_url: str, clock: AdjustableClock, tmp_path: Path):
    """Start a server with extra settings: ``with server_with(require_https=True) as srv``."""

    @contextmanager
    def start(**settings: Any) -> Iterator[Server]:
        http, srv = make_server(db_url, clock, tmp_path, **settings)
        with http:
            yield srv

    return start
