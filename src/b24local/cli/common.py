"""What every command group shares: the common options, settings, opening the
store, printing results and asking a running ``serve --dev``.

Administration commands print values on stdout and nothing else (``--json`` for
structured output); messages and errors go to stderr.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from b24local import admin
from b24local.clock import SystemClock
from b24local.config import DEFAULT_HOST, DEFAULT_PORT, Settings, default_data_dir
from b24local.oauth.addresses import parse_public_url
from b24local.store.engine import Store

T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="B24LOCAL_DATA_DIR",
        help="Where b24local keeps its data (default: a per-user data folder).",
    ),
]
Db = Annotated[
    str | None,
    typer.Option("--db", envvar="B24LOCAL_DB", help="A SQLAlchemy URL instead of embedded SQLite."),
]
Json = Annotated[bool, typer.Option("--json", help="Structured output.")]
Portal = Annotated[
    str | None, typer.Option("--portal", help="The portal's domain (default portal if omitted).")
]

DevServer = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="B24LOCAL_SERVER",
        help="A running `serve --dev` (its URL) whose clock to go by.",
    ),
]
DevToken = Annotated[
    str | None,
    typer.Option(
        "--dev-token", envvar="B24LOCAL_DEV_TOKEN", help="The dev token that server printed."
    ),
]
#: The running ``serve --dev`` a command works through (``b24local calls``, ``fault``).
DevServerUrl = Annotated[
    str,
    typer.Option("--server", envvar="B24LOCAL_SERVER", help="The running `serve --dev` (its URL)."),
]
DEFAULT_SERVER = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
ServerDataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="B24LOCAL_DATA_DIR",
        help="The server's data directory, whose local CA a `serve --tls` presents.",
    ),
]


def _settings(data_dir: Path | None, db: str | None, **extra: Any) -> Settings:
    settings = Settings(data_dir=data_dir or default_data_dir(), db=db or None, **extra)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        typer.echo(f"error: cannot use data directory {settings.data_dir}: {error}", err=True)
        raise typer.Exit(1) from None
    return settings


def _check_zone(tz: str | None) -> None:
    if not tz:
        return
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        typer.echo(f"error: unknown time zone {tz!r}", err=True)
        raise typer.Exit(1) from None


def _positive(value: float | None) -> float | None:
    """A bucket of no size admits nothing, and one that never drains stays full."""
    if value is not None and not value > 0:
        raise typer.BadParameter("must be greater than 0")
    return value


def _public_url(value: str | None) -> str | None:
    """``--public-url``: an absolute http(s) URL; ``""`` (on ``portal set``) unsets."""
    if not value:
        return value
    try:
        return parse_public_url(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _now() -> datetime:
    """The CLI's own time: the real clock (a --dev server's lives in its process)."""
    return SystemClock().now()


def _run(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store (migrating it), make sure the default portal exists, run ``work``."""

    async def go() -> T:
        store = await admin.open_store(settings.db_url)
        try:
            await admin.bootstrap(store, _now())
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except admin.AdminError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _emit(value: Any, as_json: bool, plain: str) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, default=str) if as_json else plain)


@contextmanager
def failing_as_cli() -> Iterator[None]:
    """A dev server's refusal, or no answer, as a command's one-line error (exit 1)."""
    from b24local.devclient import DevServerError

    try:
        yield
    except DevServerError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _needs_dev_token(dev_token: str | None) -> str:
    if not dev_token:
        typer.echo("error: --server needs --dev-token (or B24LOCAL_DEV_TOKEN)", err=True)
        raise typer.Exit(2)
    return dev_token


def _ask_dev_server(settings: Settings, dev_token: str | None, ask: Callable[[str, Path], T]) -> T:
    """``ask(dev_token, local_ca)`` of a running dev server, failing as a CLI does."""
    from b24local.tls import files_in

    token = _needs_dev_token(dev_token)
    with failing_as_cli():
        return ask(token, files_in(settings.data_dir).ca_cert)


class DevConnection:
    """A running ``serve --dev``, asked through its dev API; wrap calls in
    :func:`failing_as_cli` (or catch ``DevServerError``) for its refusals."""

    def __init__(self, server: str, dev_token: str | None, data_dir: Path | None) -> None:
        from b24local.tls import files_in

        self.server = server
        self.token = _needs_dev_token(dev_token)
        self.ca_file = files_in(data_dir or default_data_dir()).ca_cert

    def ask(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: dict[str, Any] | None = None,
        timeout: float = 30,
    ) -> dict[str, Any]:
        """The JSON answer to ``method path?query`` (None values left out)."""
        from b24local.devclient import send

        wanted = {key: value for key, value in (query or {}).items() if value is not None}
        if wanted:
            path = f"{path}?{urlencode(wanted)}"
        return send(
            self.server, self.token, method, path, body, ca_file=self.ca_file, timeout=timeout
        )
