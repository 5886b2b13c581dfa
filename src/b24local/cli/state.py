"""``b24local state``: a store's whole state to a file and back (docs/state.md).

``state export`` writes the state file, ``state import`` loads one into an empty
store (or, with ``--replace``, instead of what it holds), and ``serve --seed``
loads one on a first start; all three go through :mod:`b24local.state`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from b24local import admin
from b24local.config import Settings
from b24local.state import exporting, fileformat, loading
from b24local.state.fileformat import StateError

from .common import DataDir, Db, _now, _settings

app = typer.Typer(
    help="The whole state: export it to a file, import one (YAML or JSON).",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _read(path: Path) -> dict[str, Any]:
    try:
        return fileformat.read(path)
    except StateError as error:
        raise _fail(str(error)) from None


@app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of to stdout.")
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", help="yaml or json (default: by --out's extension, else yaml)."),
    ] = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Write every portal, user, webhook, app, setting and workday as a state file."""
    try:
        kind = fileformat.format_of(out, format) if out is not None else (format or "yaml")
        if kind not in fileformat.FORMATS:
            raise StateError(f"format is yaml or json, not {kind!r}")
    except StateError as error:
        raise _fail(str(error)) from None
    settings = _settings(data_dir, db)

    async def go() -> dict[str, Any]:
        store = await admin.open_store(settings.db_url)
        try:
            return await exporting.export(store)
        finally:
            await store.close()

    text = fileformat.dump(asyncio.run(go()), kind)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        # Hashes of secrets are in it: readable by the owner only.
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise _fail(f"cannot write {out}: {error}") from None


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A state file (.yaml, .yml or .json).")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete everything the store holds first.")
    ] = False,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Load a state file into an empty store (all or nothing)."""
    state = _read(file)
    settings = _settings(data_dir, db)

    async def go() -> loading.Loaded:
        store = await admin.open_store(settings.db_url)
        try:
            return await loading.load(store, state, _now(), replace=replace)
        finally:
            await store.close()

    try:
        loaded = asyncio.run(go())
    except StateError as error:
        raise _fail(f"{file}: {error}") from None
    typer.echo(f"imported {loaded.portals} portal(s), {loaded.users} user(s)", err=True)


def seed_store(settings: Settings, path: Path, now: datetime) -> list[str]:
    """``serve --seed``: load the file if the store is empty; the banner's lines.

    The file is read and checked before the store is touched, and a bad one stops
    the server from starting. A store that holds data keeps it (a container's volume
    survives a restart): the seed is not applied, and the banner says so.
    """
    state = _read(path)

    async def go() -> loading.Loaded | None:
        store = await admin.open_store(settings.db_url)
        try:
            if not await loading.is_empty(store):
                return None
            return await loading.load(store, state, now)
        finally:
            await store.close()

    try:
        loaded = asyncio.run(go())
    except StateError as error:
        raise _fail(f"{path}: {error}") from None
    if loaded is None:
        return [f"Seed {path} not applied: the store holds data already"]
    lines = [f"Seeded from {path}: {loaded.portals} portal(s), {loaded.users} user(s)"]
    default = next(p for p in state["portals"] if p["default"])
    for domain, user_id, code in loaded.webhooks:
        if domain == default["domain"]:
            base = default["public_url"] or settings.public_url or settings.public_base
        else:
            base = f"{settings.scheme}://{domain}:{settings.port}"
        lines.append(f"Incoming webhook: {base}/rest/{user_id}/{code}/")
    hashed = sum(1 for p in state["portals"] for w in p["webhooks"] if "code_sha256" in w)
    if hashed:
        lines.append(f"{hashed} webhook(s) given by code_sha256 only: their codes are not shown")
    return lines


def check_dev_token(token: str | None, dev: bool) -> str | None:
    """``--dev-token``: 8 to 256 visible ASCII characters; without ``--dev`` there is
    no dev API, and the token (perhaps ``B24LOCAL_DEV_TOKEN``, which the CLI's
    ``--server`` commands read too) is not used."""
    if token is None or not dev:
        return None
    if not 8 <= len(token) <= 256 or not all("!" <= c <= "~" for c in token):
        raise _fail("--dev-token is 8 to 256 visible ASCII characters, without spaces")
    return token
