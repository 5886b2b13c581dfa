"""Databases ready for a test: migrated, with the default portal, its administrator
and an all-scopes webhook, made once per session and copied or put back per test.

A module of its own (not the conftest) so that there is one registry of them: the
conftest is imported twice under ``--import-mode=importlib`` (once by pytest, once
by the test modules that import its helpers).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from b24local import admin
from b24local.store.capture import Snapshot, capture, restore
from b24local.store.engine import Store, sqlite_url

PG_URL = os.environ.get("B24LOCAL_TEST_PG_URL")


async def _run_sql(url: str, statement: str) -> None:
    from sqlalchemy import text

    from b24local.store.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def pg_schema(prefix: str = "t") -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped on exit: ``B24LOCAL_TEST_PG_URL`` with
    ``?schema=NAME``, which b24local takes as ``--db``. Without that variable the
    test is skipped."""
    if not PG_URL:
        pytest.skip("B24LOCAL_TEST_PG_URL not set: PostgreSQL run SKIPPED")
    schema = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(_run_sql(PG_URL, f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}schema={schema}"
    finally:
        asyncio.run(_run_sql(PG_URL, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@dataclass
class _PgTemplate:
    url: str
    snapshot: Snapshot
    boot: admin.Bootstrap
    webhook: str


#: Prepared PostgreSQL schemas by the time they were made at (dropped at exit).
_PG_TEMPLATES: dict[datetime, _PgTemplate] = {}
#: Databases in the state :func:`make_server` would prepare, and what it would give.
_READY: dict[str, tuple[admin.Bootstrap, str]] = {}


def pg_restored(now: datetime) -> str:
    template = _PG_TEMPLATES.get(now)
    if template is None:
        schemas = pg_schema("tpl")
        url = schemas.__enter__()
        atexit.register(schemas.__exit__, None, None, None)
        boot, webhook = asyncio.run(prepare(url, now))
        template = _PgTemplate(url, asyncio.run(_in_store(url, capture)), boot, webhook)
        _PG_TEMPLATES[now] = template
    else:
        asyncio.run(_in_store(template.url, lambda store: restore(store, template.snapshot)))
    _READY[template.url] = (template.boot, template.webhook)
    return template.url


async def _in_store(url: str, work: Callable[[Store], Awaitable[Any]]) -> Any:
    from b24local.store.engine import create_engine

    store = Store(create_engine(url))
    try:
        return await work(store)
    finally:
        await store.close()


async def prepare(url: str, now: datetime) -> tuple[admin.Bootstrap, str]:
    store = await admin.open_store(url)
    try:
        boot = await admin.bootstrap(store, now)
        issued = await admin.first_start_webhook(store, now)
        assert issued is not None
        hook, code = issued
        return boot, f"/rest/{hook.user_id}/{code}/"
    finally:
        await store.close()


#: Bootstrapped SQLite files by the time they were made at: preparing a database
#: (migrations, portal, webhook) costs more than most tests, and copying one is cheap.
_SQLITE_TEMPLATES: dict[datetime, tuple[Path, admin.Bootstrap, str]] = {}


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url.removeprefix(prefix)) if url.startswith(prefix) else None


def prepared(db_url: str, now: datetime) -> tuple[admin.Bootstrap, str]:
    """:func:`prepare` on ``db_url``; a new SQLite file is a copy of the same
    database prepared once per session (a file that exists is prepared in place)."""
    if db_url in _READY:
        return _READY.pop(db_url)
    target = _sqlite_file(db_url)
    if target is None or target.exists():
        return asyncio.run(prepare(db_url, now))
    if now not in _SQLITE_TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="b24local-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        boot, webhook = asyncio.run(prepare(sqlite_url(folder), now))
        _SQLITE_TEMPLATES[now] = (folder / "b24local.db", boot, webhook)
    template, boot, webhook = _SQLITE_TEMPLATES[now]
    target.parent.mkdir(parents=True, exist_ok=True)
    # With any write-ahead log SQLite did not fold back into the file on close.
    for part in template.parent.glob(template.name + "*"):
        shutil.copyfile(part, target.with_name(target.name + part.name[len(template.name) :]))
    return boot, webhook
