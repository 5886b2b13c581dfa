"""``b24local db``: the database."""

from __future__ import annotations

import asyncio

import typer

from .common import DataDir, Db, _run, _settings

app = typer.Typer(help="The database.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, db: Db = None) -> None:
    """Apply pending schema migrations (serve does this by itself)."""
    _run(_settings(data_dir, db), lambda store: asyncio.sleep(0))
