"""Runs the Alembic migrations shipped inside the package, on start-up.

A store already at the newest revision is the usual start, and Alembic would
spend longer importing itself and its scripts than the check takes; so the
newest revision is read from the scripts' text and compared with the stored one
first, and Alembic runs only when they differ (or the text cannot tell).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

#: ``revision = "0001"`` and ``down_revision = None`` at the start of a line, as
#: Alembic's script template writes them (an annotation is allowed).
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


@cache
def shipped_head() -> str | None:
    """The newest revision the package ships, without importing Alembic; ``None``
    when the scripts' text cannot tell one (several heads, a merge, a revision not
    written as a plain literal): Alembic then decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found: dict[str, object] = {}
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            try:
                found[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return None
        revision, parent = found.get("revision"), found.get("down_revision", ...)
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored_revisions(connection: Connection) -> tuple[str, ...]:
    if not sa.inspect(connection).has_table("alembic_version"):
        return ()
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return tuple(sorted(row[0] for row in rows))


def _at_head(connection: Connection) -> bool:
    head = shipped_head()
    return head is not None and _stored_revisions(connection) == (head,)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if _at_head(connection):
        return
    from b24local.store.engine import start_lock_sql

    lock = start_lock_sql(connection.dialect.name)
    if lock is not None:
        # Another process starting at the same moment migrates first; then there
        # is nothing left to do.
        connection.execute(lock)
        if _at_head(connection):
            return
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def drop_column(table: str, column: str) -> None:
    """Drop a column in a migration's downgrade without touching other rows: on SQLite
    natively (3.35+), since a batch rebuild drops the table and its ON DELETE CASCADE
    children go with it."""
    from alembic import op

    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)
