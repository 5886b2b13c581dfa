"""The stores a run uses: a SQLite file per data directory, or a fresh PostgreSQL
schema per store (created here and dropped at the end)."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from b24local.store.engine import sqlite_url


@dataclass(frozen=True)
class Database:
    backend: str  # "sqlite" or "postgresql"
    data_dir: Path
    #: The ``--db`` URL for the server; None: the SQLite file in data_dir.
    server_url: str | None

    @property
    def url(self) -> str:
        return self.server_url or sqlite_url(self.data_dir)


def sqlite(data_dir: Path) -> Database:
    data_dir.mkdir(parents=True, exist_ok=True)
    return Database("sqlite", data_dir, None)


def plain_dsn(url: str) -> str:
    """What asyncpg accepts: no ``+driver`` and no query (``schema`` is ours)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgresql(base_url: str, data_dir: Path) -> Database:
    schema = f"b24bench_{secrets.token_hex(4)}"
    asyncio.run(_execute(base_url, f'CREATE SCHEMA "{schema}"'))
    # The server still wants a data directory (for its TLS files, say).
    data_dir.mkdir(parents=True, exist_ok=True)
    url = make_url(base_url).update_query_dict({"schema": schema})
    return Database("postgresql", data_dir, url.render_as_string(hide_password=False))


def drop(db: Database) -> None:
    if db.backend != "postgresql" or db.server_url is None:
        return
    schema = make_url(db.server_url).query["schema"]
    asyncio.run(_execute(db.server_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


async def _version(url: str) -> str:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def server_version(url: str) -> str:
    return asyncio.run(_version(url))


def each(
    name: str,
    *,
    pg_url: str | None,
    sqlite_too: bool,
    measure: Callable[[Database, Path], list[str]],
) -> None:
    """Run a scenario of its own (``--only reset``, ``board``, ``report``) on SQLite
    and/or PostgreSQL, each in a new database, and print the lines it reports."""
    workdir = Path(tempfile.mkdtemp(prefix=f"b24bench-{name}-"))
    targets: list[Database] = []
    if sqlite_too:
        targets.append(sqlite(workdir / "sqlite"))
    if pg_url:
        targets.append(postgresql(pg_url, workdir / "postgresql"))
    for db in targets:
        try:
            print(f"{name}: {db.backend}...", flush=True)
            print("\n".join(measure(db, workdir)), "\n", flush=True)
        finally:
            drop(db)


def spread(values: list[float], digits: int = 1) -> str:
    """``median / p95 / max`` of timings in ms, for the scenarios' tables."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return " / ".join(f"{v:.{digits}f}" for v in (statistics.median(ordered), p95, ordered[-1]))
