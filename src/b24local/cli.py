"""The command line: ``b24local serve`` and scriptable administration.

Administration commands print values on stdout and nothing else (``--json`` for
structured output); messages and errors go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
import uvicorn

from b24local import __version__, admin, people, plans, structure
from b24local.accepting import Acceptor
from b24local.cli_calls import JournalSize, calls_app
from b24local.clock import SystemClock
from b24local.config import DEFAULT_HOST, DEFAULT_PORT, Settings, default_data_dir
from b24local.connections import ConnectionLimits, Guard
from b24local.oauth import issuing
from b24local.oauth.addresses import parse_public_url
from b24local.rest.journal import DEFAULT_SIZE as DEFAULT_JOURNAL_SIZE
from b24local.store.engine import Store

T = TypeVar("T")

app = typer.Typer(
    help="A local server that speaks the Bitrix24 REST API for presence and work time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
webhook_app = typer.Typer(help="Manage incoming webhooks.", no_args_is_help=True)
tls_app = typer.Typer(help="The local certificate authority.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
department_app = typer.Typer(help="Manage departments.", no_args_is_help=True)
portal_app = typer.Typer(help="Manage portals (Bitrix24 accounts).", no_args_is_help=True)
timeman_app = typer.Typer(help="Work-time settings and approvals.", no_args_is_help=True)
apps_app = typer.Typer(help="Manage local applications (OAuth clients).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(webhook_app, name="webhook")
app.add_typer(tls_app, name="tls")
app.add_typer(db_app, name="db")
app.add_typer(department_app, name="department")
app.add_typer(portal_app, name="portal")
app.add_typer(timeman_app, name="timeman")
network_app = typer.Typer(help="Office networks (timeman.networkrange.*).", no_args_is_help=True)
timeman_app.add_typer(network_app, name="network")
app.add_typer(apps_app, name="app")
app.add_typer(calls_app, name="calls")

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
Departments = Annotated[
    list[int] | None,
    typer.Option("--department", help="A department the user belongs to (repeatable)."),
]
Portal = Annotated[
    str | None, typer.Option("--portal", help="The portal's domain (default portal if omitted).")
]
ProfileFields = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        help="A profile field as user.add names it, FIELD=VALUE (repeatable), e.g."
        " WORK_COMPANY=Acme or PERSONAL_BIRTHDAY=1990-05-17.",
    ),
]


def _profile_fields(given: list[str] | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in given or ():
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: give FIELD=VALUE", param_hint="--field")
        if name not in people.PROFILE_NAMES:
            raise typer.BadParameter(
                f"{name} is not a profile field (see `user.fields`; standing and departments"
                " have options of their own)",
                param_hint="--field",
            )
        fields[name] = value
    return fields


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


# --- serve ---------------------------------------------------------------------------


@app.command()
def serve(
    data_dir: DataDir = None,
    db: Db = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    tls: Annotated[bool, typer.Option("--tls", help="Serve HTTPS with a local CA.")] = False,
    tls_cert: Annotated[Path | None, typer.Option(help="Your own certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Your own private key (PEM).")] = None,
    require_https: Annotated[
        bool, typer.Option("--require-https", help="Refuse plain-HTTP calls.")
    ] = False,
    dev: Annotated[
        bool, typer.Option("--dev", help="Enable the clock control surface for tests.")
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(help="A proxy address whose X-Forwarded-* headers are believed."),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            envvar="B24LOCAL_PUBLIC_URL",
            help="How clients reach the server behind a proxy (wins over the Host header).",
            callback=_public_url,
        ),
    ] = None,
    limits: Annotated[
        str, typer.Option(help="The cloud's rate and operating-time limits: on or off.")
    ] = "on",
    rate_threshold: Annotated[
        float | None,
        typer.Option(
            help="Leaky bucket size X for every portal (instead of its plan's).",
            callback=_positive,
        ),
    ] = None,
    rate_drain: Annotated[
        float | None,
        typer.Option(
            help="Leaky bucket drain Y per second for every portal (instead of its plan's).",
            callback=_positive,
        ),
    ] = None,
    operating_limit: Annotated[
        float, typer.Option(help="Seconds of run time per method and client in 10 minutes.")
    ] = 480.0,
    time_limit: Annotated[
        float, typer.Option(help="Seconds one call may run before it is cancelled.")
    ] = 60.0,
    keep_alive_timeout: Annotated[
        float,
        typer.Option(help="Seconds a connection may idle between requests.", callback=_positive),
    ] = ConnectionLimits.keep_alive_timeout,
    header_timeout: Annotated[
        float,
        typer.Option(help="Seconds a request's headers may take to arrive.", callback=_positive),
    ] = ConnectionLimits.header_timeout,
    body_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a request body may take, plus one per --body-min-rate bytes received.",
            callback=_positive,
        ),
    ] = ConnectionLimits.body_timeout,
    body_min_rate: Annotated[
        int,
        typer.Option(help="Bytes per second a request body must average.", callback=_positive),
    ] = ConnectionLimits.body_min_rate,
    max_connections: Annotated[
        int,
        typer.Option(
            help="Open connections at most; beyond, the longest idle (or the new) one is closed.",
            callback=_positive,
        ),
    ] = ConnectionLimits.max_connections,
    log_level: Annotated[str, typer.Option(help="Server log level.")] = "info",
    forbid_private_handlers: Annotated[
        bool,
        typer.Option(
            "--forbid-private-handlers",
            envvar="B24LOCAL_FORBID_PRIVATE_HANDLERS",
            help="Refuse event handlers on loopback and private addresses.",
        ),
    ] = False,
    event_timeout: Annotated[
        float,
        typer.Option(help="Seconds an event handler has to answer.", callback=_positive),
    ] = 5.0,
    event_attempts: Annotated[
        int,
        typer.Option(
            help="Attempts of one event delivery before it is given up (1: no retries).",
            callback=_positive,
        ),
    ] = 5,
    journal_size: JournalSize = DEFAULT_JOURNAL_SIZE,
    seed: Annotated[
        Path | None,
        typer.Option(help="A state file (.yaml/.json) to load on a first start (empty store)."),
    ] = None,
    dev_token: Annotated[
        str | None,
        typer.Option(envvar="B24LOCAL_DEV_TOKEN", help="The --dev token, instead of a random one."),
    ] = None,
) -> None:
    """Start the server. On first start, creates a portal, an admin and a webhook (or
    loads --seed)."""
    from b24local.app import create_app
    from b24local.cli_state import check_dev_token, seed_store
    from b24local.clock import AdjustableClock
    from b24local.tls import ensure_server_cert

    if limits not in ("on", "off"):
        typer.echo("error: --limits is on or off", err=True)
        raise typer.Exit(2)
    if (tls_cert is None) != (tls_key is None):
        typer.echo("error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(2)
    dev_token = check_dev_token(dev_token, dev)
    settings = _settings(
        data_dir,
        db,
        host=host,
        port=port,
        tls=tls or tls_cert is not None,
        tls_cert=tls_cert,
        tls_key=tls_key,
        require_https=require_https,
        dev=dev,
        trusted_proxies=tuple(trusted_proxy or ()),
        public_url=public_url,
        limits=limits == "on",
        rate_threshold=rate_threshold,
        rate_drain=rate_drain,
        operating_limit=operating_limit,
        time_limit=time_limit,
        forbid_private_handlers=forbid_private_handlers,
        event_timeout=event_timeout,
        event_attempts=event_attempts,
        journal_size=journal_size,
    )
    ssl: dict[str, str] = {}
    if settings.tls:
        if tls_cert is not None and tls_key is not None:
            _check_tls(tls_cert, tls_key)
            ssl = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)}
        else:
            files = ensure_server_cert(settings.data_dir)
            ssl = {"ssl_certfile": str(files.server_cert), "ssl_keyfile": str(files.server_key)}
            settings = replace(settings, tls_cert=files.server_cert, tls_key=files.server_key)
    # Bound before the first-start webhook is issued: its code is shown only once.
    sock = _listen(host, port)
    settings = replace(settings, port=sock.getsockname()[1])

    seeded = seed_store(settings, seed, _now()) if seed is not None else []
    boot = _run(settings, lambda store: admin.bootstrap(store, _now()))
    issued = _run(settings, lambda store: admin.first_start_webhook(store, _now()))

    dev_token = (dev_token or secrets.token_urlsafe(24)) if dev else None
    clock = AdjustableClock() if dev else SystemClock()
    application = create_app(settings, clock=clock, dev_token=dev_token)

    base = settings.public_base
    lines = [f"b24local {__version__} listening on {base}", *seeded]
    if issued is not None:
        hook, code = issued
        reached = boot.portal.public_url or settings.public_url or base
        lines.append(f"Incoming webhook: {reached}/rest/{hook.user_id}/{code}/")
    elif not seeded:  # a seed's lines say which of its webhooks can be shown
        scopes = " ".join(f"--scope {scope}" for scope in admin.implemented_scopes())
        lines.append(
            f"Incoming webhook: shown on first start only; make another with "
            f"`b24local webhook add --user {boot.admin.id} {scopes}`"
        )
    if dev_token:
        lines.append(f"Dev token: {dev_token}")
    if settings.tls and tls_cert is None:
        from b24local.tls import files_in

        lines.append(f"CA certificate: {files_in(settings.data_dir).ca_cert}")

    guard = Guard(
        ConnectionLimits(
            keep_alive_timeout=keep_alive_timeout,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            body_min_rate=body_min_rate,
            max_connections=max_connections,
        )
    )
    config = uvicorn.Config(
        application,
        # uvicorn's httptools protocol with deadlines and a connection ceiling;
        # no WebSocket upgrades, which would leave both behind.
        http=guard.protocol,  # type: ignore[arg-type]
        ws="none",
        log_level=log_level,
        # Forwarded headers are handled (for trusted proxies only) inside the app.
        proxy_headers=False,
        server_header=False,
        # Idle keep-alive TLS clients would otherwise hold shutdown for 30 s.
        timeout_graceful_shutdown=5,
        **ssl,  # type: ignore[arg-type]
    )
    Server(config, banner="\n".join(lines)).run(sockets=[sock])


def _check_tls(cert: Path, key: Path) -> None:
    from b24local.tls import TlsError, check_pair

    try:
        check_pair(cert, key)
    except TlsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a port in use is a one-line error
    before anything is printed or created (uvicorn binds the same way)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        typer.echo(f"error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None
    return sock


class Server(uvicorn.Server):
    """uvicorn, printing the banner once it serves, and exiting 0 on a signal."""

    def __init__(self, config: uvicorn.Config, *, banner: str) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn would serve `sockets` through the loop's own server, which on
        # uvloop accepts one connection per loop turn; listen with ours instead.
        await super().startup([] if sockets is not None else None)
        if sockets is not None:
            self.servers = [await self._listener(sock) for sock in sockets]  # type: ignore[misc]
        if not self.should_exit:
            typer.echo(self.banner)
            sys.stdout.flush()

    async def _listener(self, sock: socket.socket) -> Acceptor | asyncio.Server:
        config = self.config

        def protocol() -> asyncio.Protocol:
            # What uvicorn's own startup builds for each connection.
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        try:
            return Acceptor(sock, protocol, ssl_context=config.ssl, backlog=config.backlog)
        except NotImplementedError:
            # Windows' proactor loop watches no sockets for readiness: its own server.
            loop = asyncio.get_running_loop()
            return await loop.create_server(
                protocol, sock=sock, ssl=config.ssl, backlog=config.backlog
            )

    def handle_exit(self, sig, frame) -> None:
        # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, so the process
        # would exit 130/143; a clean stop on request should exit 0.
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


# --- users ---------------------------------------------------------------------------


def _user_record(user) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "last_name": user.last_name,
        "email": user.email,
        "admin": user.is_admin,
        "active": user.active,
        "time_zone": user.time_zone,
        "position": user.work_position,
        "departments": list(user.departments),
        "profile": dict(user.profile),
    }


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Option("--name", help="First name.")],
    last_name: Annotated[str, typer.Option("--last-name", help="Last name.")],
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    is_admin: Annotated[bool, typer.Option("--admin", help="A portal administrator.")] = False,
    tz: Annotated[str, typer.Option("--tz", help="Time zone, e.g. Europe/Berlin.")] = "",
    position: Annotated[str, typer.Option(help="Job title.")] = "",
    department: Departments = None,
    field: ProfileFields = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a user; prints the new user's ID."""
    _check_zone(tz)
    profile = _profile_fields(field)
    settings = _settings(data_dir, db)
    user = _run(
        settings,
        lambda store: admin.add_user(
            store,
            _now(),
            name=name,
            last_name=last_name,
            email=email,
            admin=is_admin,
            time_zone=tz,
            position=position,
            department_ids=department or (),
            fields=profile,
            domain=portal,
        ),
    )
    _emit(_user_record(user), as_json, str(user.id))


def _read_password() -> str:
    """Prompt on a terminal (on stderr, so stdout stays clean); else read one line."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("password")
def user_password(
    user_id: Annotated[int, typer.Argument(help="The user's ID.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password; asked for (or one line read from stdin) if omitted."),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Set the password the user logs in with on the OAuth page (stored as a scrypt hash)."""
    if password is None:
        password = _read_password()
    _run(
        _settings(data_dir, db),
        lambda store: admin.set_password(store, user_id, password, portal),
    )


@user_app.command("update")
def user_update(
    user_id: Annotated[int, typer.Argument(help="The user's ID.")],
    department: Departments = None,
    is_admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Portal administrator or not.")
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Employed, or dismissed.")
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Time zone, e.g. Europe/Berlin.")] = None,
    position: Annotated[str | None, typer.Option(help="Job title.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="First name.")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="Last name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    field: ProfileFields = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change a user; only the options given change. Prints the user's ID."""
    _check_zone(tz)
    profile = _profile_fields(field)
    named = {"NAME": name, "LAST_NAME": last_name, "EMAIL": email}
    profile |= {key: value for key, value in named.items() if value is not None}
    user = _run(
        _settings(data_dir, db),
        lambda store: admin.update_user(
            store,
            _now(),
            user_id,
            department_ids=department,
            admin=is_admin,
            active=active,
            time_zone=tz,
            position=position,
            fields=profile,
            domain=portal,
        ),
    )
    _emit(_user_record(user), as_json, str(user.id))


@user_app.command("list")
def user_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List users: ID, name, e-mail, admin flag."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_users(store, portal))
    records = [_user_record(u) for u in found]
    plain = "\n".join(
        "\t".join(
            [
                str(u.id),
                u.full_name,
                u.email,
                "admin" if u.is_admin else "",
                "" if u.active else "inactive",
            ]
        ).rstrip("\t")
        for u in found
    )
    _emit(records, as_json, plain)


# --- webhooks ------------------------------------------------------------------------


def _webhook_record(hook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "user_id": hook.user_id,
        "scopes": sorted(hook.scopes),
        "title": hook.title,
        "active": hook.active,
        "created_at": hook.created_at.isoformat(),
    }


@webhook_app.command("add")
def webhook_add(
    user: Annotated[int, typer.Option("--user", help="The user the webhook acts as.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable).")
    ] = None,
    title: Annotated[str, typer.Option(help="A note to recognise it by.")] = "",
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create a webhook; prints USER_ID/CODE, the two path segments of its URL."""
    hook, code = _run(
        _settings(data_dir, db),
        lambda store: admin.add_webhook(
            store, _now(), user_id=user, scopes=scope or (), title=title, domain=portal
        ),
    )
    record = {**_webhook_record(hook), "code": code, "path": f"/rest/{hook.user_id}/{code}/"}
    _emit(record, as_json, f"{hook.user_id}/{code}")


@webhook_app.command("list")
def webhook_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List webhooks (codes are never shown again): ID, user, scopes, title."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_webhooks(store, portal))
    plain = "\n".join(
        "\t".join([str(h.id), str(h.user_id), ",".join(sorted(h.scopes)), h.title]).rstrip("\t")
        for h in found
    )
    _emit([_webhook_record(h) for h in found], as_json, plain)


@webhook_app.command("remove")
def webhook_remove(
    webhook_id: Annotated[int, typer.Argument(help="The webhook's ID from `webhook list`.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Delete a webhook; its URL stops working at once."""
    _run(_settings(data_dir, db), lambda store: admin.remove_webhook(store, webhook_id, portal))


# --- applications ---------------------------------------------------------------------


def _app_record(found) -> dict[str, Any]:
    return {
        "id": found.id,
        "client_id": found.client_id,
        "name": found.name,
        "scopes": sorted(found.scopes),
        "redirect_uri": found.redirect_uri,
        "handler": found.handler,
        "users": None if found.allowed_users is None else sorted(found.allowed_users),
        "paid_until": found.paid_until.isoformat() if found.paid_until else None,
    }


def _app_line(found) -> str:
    """An app on one line: client ID, name, scopes, redirect URI, the users it is
    limited to."""
    users = "" if found.allowed_users is None else ",".join(map(str, sorted(found.allowed_users)))
    return "\t".join(
        [found.client_id, found.name, ",".join(sorted(found.scopes)), found.redirect_uri, users]
    ).rstrip("\t")


By = Annotated[
    int | None,
    typer.Option(
        "--by",
        help="The administrator who acts (whose token the app's event carries); "
        "by default the portal's first.",
    ),
]


@apps_app.command("add")
def app_add(
    name: Annotated[str, typer.Option("--name", help="The application's name.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable).")
    ] = None,
    redirect_uri: Annotated[
        str, typer.Option(help="Where /oauth/authorize/ sends the user back with a code.")
    ] = "",
    handler: Annotated[str, typer.Option(help="The application's handler URL.")] = "",
    user: Annotated[
        list[int] | None,
        typer.Option("--user", help="Restrict the app to this user (repeatable)."),
    ] = None,
    by: By = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Install an application; prints CLIENT_ID CLIENT_SECRET (the secret only now).
    Its handler, if any, hears ONAPPINSTALL."""
    installed, secret = _run(
        _settings(data_dir, db),
        lambda store: admin.add_app(
            store,
            _now(),
            name=name,
            scopes=scope or (),
            redirect_uri=redirect_uri,
            handler=handler,
            allowed_users=user or (),
            installer_id=by,
            domain=portal,
        ),
    )
    record = {**_app_record(installed), "client_secret": secret}
    _emit(record, as_json, f"{installed.client_id} {secret}")


@apps_app.command("list")
def app_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List applications: client ID, name, scopes, redirect URI, users it is limited to."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_apps(store, portal))
    _emit([_app_record(a) for a in found], as_json, "\n".join(map(_app_line, found)))


@apps_app.command("set")
def app_set(
    client_id: Annotated[str, typer.Argument(help="The application's client ID.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="The scopes, replacing the app's (repeatable)."),
    ] = None,
    redirect_uri: Annotated[
        str | None, typer.Option(help="A new redirect URI; an empty one removes it.")
    ] = None,
    handler: Annotated[
        str | None, typer.Option(help="A new handler URL; an empty one removes it.")
    ] = None,
    user: Annotated[
        list[int] | None,
        typer.Option("--user", help="Limit the app to these users instead (repeatable)."),
    ] = None,
    all_users: Annotated[
        bool, typer.Option("--all-users", help="Open the app to every user again.")
    ] = False,
    paid_until: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The last day of a paid or trial period (YYYY-MM-DD); after it the "
            "token endpoint answers PAYMENT_REQUIRED.",
        ),
    ] = None,
    paid: Annotated[
        bool, typer.Option("--paid", help="Paid for good: no end to the paid period.")
    ] = False,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            help="A new, higher version: the app hears ONAPPUPDATE and its event "
            "handlers are removed.",
        ),
    ] = None,
    by: By = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change an installed application; only the options given change. Tokens already
    issued follow the new settings at once."""
    changed = _run(
        _settings(data_dir, db),
        lambda store: admin.update_app(
            store,
            client_id,
            name=name,
            scopes=scope,
            redirect_uri=redirect_uri,
            handler=handler,
            allowed_users=user,
            all_users=all_users,
            paid_until=paid_until.date() if paid_until else None,
            paid=paid,
            version=version,
            by=by,
            now=_now(),
            domain=portal,
        ),
    )
    _emit(_app_record(changed), as_json, _app_line(changed))


ClientId = Annotated[str, typer.Option("--client-id", help="The application's client ID.")]


@apps_app.command("remove")
def app_remove(
    client_id: Annotated[str, typer.Argument(help="The application's client ID.")],
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Tell the app its data is to be cleared (CLEAN=1)."),
    ] = False,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Uninstall an application; its tokens stop working at once and its handler
    hears ONAPPUNINSTALL."""
    _run(
        _settings(data_dir, db),
        lambda store: admin.remove_app(store, client_id, portal, now=_now(), clean=clean),
    )


@apps_app.command("options")
def app_options(
    client_id: Annotated[str, typer.Argument(help="The application's client ID.")],
    user: Annotated[
        int | None,
        typer.Option("--user", help="That user's options (user.option.*) instead of the app's."),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Print an application's options as JSON, as app.option.get (or the user's
    user.option.get) answers without a name."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.app_options_of(store, client_id, user, portal),
    )
    _emit(found, True, "")


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


@apps_app.command("token")
def app_token(
    client_id: ClientId,
    user: Annotated[int, typer.Option("--user", help="The user the tokens act for.")],
    server: DevServer = None,
    dev_token: DevToken = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Issue a token pair without the browser flow; prints ACCESS_TOKEN REFRESH_TOKEN.

    The pair lives an hour from now on the real clock; against a `serve --dev`
    whose clock was moved, pass --server and --dev-token to have it issued there."""
    settings = _settings(data_dir, db)
    if server:
        record = _dev_server_token(settings, server, dev_token, client_id, user, portal)
    else:
        now = _now()
        pair, found = _run(
            settings,
            lambda store: admin.issue_app_token(
                store, now, client_id=client_id, user_id=user, domain=portal
            ),
        )
        record = issuing.pair_record(pair, found, now)
    _emit(record, as_json, f"{record['access_token']} {record['refresh_token']}")


def _dev_server_token(
    settings: Settings,
    server: str,
    dev_token: str | None,
    client_id: str,
    user: int,
    portal: str | None,
) -> dict[str, Any]:
    from b24local.devclient import post

    body = {"client_id": client_id, "user_id": user, "portal": portal}
    return _ask_dev_server(
        settings,
        dev_token,
        lambda token, ca: post(server, token, "/_b24local/tokens", body, ca_file=ca),
    )


def _ask_dev_server(settings: Settings, dev_token: str | None, ask: Callable[[str, Path], T]) -> T:
    """``ask(dev_token, local_ca)`` of a running dev server, failing as a CLI does."""
    from b24local.devclient import DevServerError
    from b24local.tls import files_in

    if not dev_token:
        typer.echo("error: --server needs --dev-token (or B24LOCAL_DEV_TOKEN)", err=True)
        raise typer.Exit(2)
    try:
        return ask(dev_token, files_in(settings.data_dir).ca_cert)
    except DevServerError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


# --- portals ---------------------------------------------------------------------------


def _portal_record(portal) -> dict[str, Any]:
    return {
        "id": portal.id,
        "domain": portal.domain,
        "member_id": portal.member_id,
        "plan": portal.plan,
        "status": portal.status,
        "time_zone": portal.time_zone,
        "default": portal.is_default,
        "rate_threshold": portal.rate_threshold,
        "rate_drain": portal.rate_drain,
        "public_url": portal.public_url,
    }


@portal_app.command("add")
def portal_add(
    domain: Annotated[str, typer.Option("--domain", help="Host name, e.g. acme.localhost.")],
    plan: Annotated[str, typer.Option(help=f"Plan: {', '.join(plans.KNOWN)}.")] = plans.DEFAULT,
    tz: Annotated[str, typer.Option("--tz", help="The portal's time zone.")] = "UTC",
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a portal with an administrator (user 1); prints its member_id."""
    _check_zone(tz)
    made = _run(
        _settings(data_dir, db),
        lambda store: admin.add_portal(store, _now(), domain=domain, plan=plan, time_zone=tz),
    )
    _emit(_portal_record(made.portal), as_json, made.portal.member_id)


@portal_app.command("list")
def portal_list(data_dir: DataDir = None, db: Db = None, as_json: Json = False) -> None:
    """List portals: domain, plan, status, member_id."""
    found = _run(_settings(data_dir, db), admin.list_portals)
    plain = "\n".join(
        "\t".join(
            [p.domain, p.plan, p.status, p.member_id, "default" if p.is_default else ""]
        ).rstrip()
        for p in found
    )
    _emit([_portal_record(p) for p in found], as_json, plain)


@portal_app.command("set")
def portal_set(
    domain: Annotated[
        str | None, typer.Argument(help="The portal (default portal if omitted).")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(help=f"Plan: {', '.join(plans.KNOWN)}; free answers ACCESS_DENIED."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="active; blocked (OVERLOAD_LIMIT); deleted (PORTAL_DELETED)."),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="The portal's time zone.")] = None,
    rate_threshold: Annotated[
        float | None, typer.Option(help="Leaky bucket size X.", callback=_positive)
    ] = None,
    rate_drain: Annotated[
        float | None, typer.Option(help="Leaky bucket drain Y per second.", callback=_positive)
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            help='How clients reach this portal behind a proxy; "" goes back to the Host header.',
            callback=_public_url,
        ),
    ] = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change a portal's plan, status, time zone, request-rate limit or public URL."""
    _check_zone(tz)
    changed = _run(
        _settings(data_dir, db),
        lambda store: admin.update_portal(
            store,
            domain,
            plan=plan,
            status=status,
            time_zone=tz,
            rate_threshold=rate_threshold,
            rate_drain=rate_drain,
            public_url=public_url,
        ),
    )
    _emit(_portal_record(changed), as_json, changed.domain)


# --- departments ---------------------------------------------------------------------


def _department_record(department) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "parent_id": department.parent_id,
        "head_id": department.head_user_id,
        "sort": department.sort,
    }


@department_app.command("add")
def department_add(
    name: Annotated[str, typer.Option("--name", help="The department's name.")],
    parent: Annotated[int | None, typer.Option(help="Parent department (default: 1).")] = None,
    head: Annotated[int | None, typer.Option(help="The head's user ID.")] = None,
    sort: Annotated[int, typer.Option(help="Sort order.")] = 500,
    department_id: Annotated[
        int | None,
        typer.Option(
            "--id",
            help="Choose the new department's ID (e.g. to match a real portal's in test "
            "fixtures); later automatic IDs continue past it.",
        ),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a department; prints its ID."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.add_department(
            store,
            name=name,
            parent_id=parent,
            head_id=head,
            sort=sort,
            department_id=department_id,
            domain=portal,
        ),
    )
    _emit(_department_record(found), as_json, str(found.id))


@department_app.command("update")
def department_update(
    department_id: Annotated[int, typer.Argument(help="The department's ID.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    parent: Annotated[
        int | None, typer.Option(help="Move it (with everything below) under this department.")
    ] = None,
    head: Annotated[int | None, typer.Option("--head", help="The new head's user ID.")] = None,
    no_head: Annotated[bool, typer.Option("--no-head", help="Leave it without a head.")] = False,
    sort: Annotated[int | None, typer.Option(help="Sort order.")] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change a department's name, parent, head or sort; prints its ID."""
    if no_head and head is not None:
        typer.echo("error: give --head or --no-head, not both", err=True)
        raise typer.Exit(1)
    keep = structure.KEEP
    changes = structure.Changes(
        name=name if name is not None else keep,
        parent_id=parent if parent is not None else keep,
        head_id=None if no_head else head if head is not None else keep,
        sort=sort if sort is not None else keep,
    )
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.update_department(store, department_id, changes, portal),
    )
    _emit(_department_record(found), as_json, str(found.id))


@department_app.command("remove")
def department_remove(
    department_id: Annotated[int, typer.Argument(help="The department's ID.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Delete a department; its people and sub-departments move up to its parent."""
    _run(
        _settings(data_dir, db),
        lambda store: admin.remove_department(store, department_id, portal),
    )


@department_app.command("head")
def department_head(
    department_id: Annotated[int, typer.Argument(help="The department's ID.")],
    user: Annotated[
        int | None, typer.Option("--user", help="The new head (omit to clear).")
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Set or clear a department's head."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.set_department_head(store, department_id, user, portal),
    )
    _emit(_department_record(found), as_json, str(found.id))


@department_app.command("list")
def department_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List departments: ID, name, parent, head."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_departments(store, portal))
    plain = "\n".join(
        "\t".join([str(d.id), d.name, str(d.parent_id or ""), str(d.head_user_id or "")]).rstrip()
        for d in found
    )
    _emit([_department_record(d) for d in found], as_json, plain)


# --- time tracking ---------------------------------------------------------------------


def _clock_seconds(text: str | None, what: str) -> int | None:
    """``HH:MM`` or ``HH:MM:SS`` as seconds."""
    if text is None:
        return None
    if text.strip().startswith("-"):
        typer.echo(f"error: {what} cannot be negative, not {text!r}", err=True)
        raise typer.Exit(1)
    parts = text.split(":")
    try:
        # Digits only: int() alone would take "-00", "+5" or " 5".
        if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError
        hours, minutes, seconds = (int(p) for p in [*parts, "0"][:3])
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
            raise ValueError
    except ValueError:
        typer.echo(f"error: {what} must be HH:MM or HH:MM:SS, not {text!r}", err=True)
        raise typer.Exit(1) from None
    return hours * 3600 + minutes * 60 + seconds


def _settings_record(found) -> dict[str, Any]:
    from b24local.scopes.timeman.report import settings_result

    return settings_result(found, None)


@timeman_app.command("settings")
def timeman_settings(
    user: Annotated[
        int | None, typer.Option("--user", help="A user's settings (default: the portal's).")
    ] = None,
    tracking: Annotated[
        bool | None, typer.Option("--tracking/--no-tracking", help="UF_TIMEMAN.")
    ] = None,
    free: Annotated[bool | None, typer.Option("--free/--no-free", help="UF_TM_FREE.")] = None,
    max_start: Annotated[str | None, typer.Option(help="UF_TM_MAX_START, HH:MM[:SS].")] = None,
    min_finish: Annotated[str | None, typer.Option(help="UF_TM_MIN_FINISH, HH:MM[:SS].")] = None,
    min_duration: Annotated[
        str | None, typer.Option(help="UF_TM_MIN_DURATION, HH:MM[:SS].")
    ] = None,
    allowed_delta: Annotated[
        str | None, typer.Option(help="UF_TM_ALLOWED_DELTA, HH:MM[:SS].")
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Show work-time settings, changing those given first."""
    changes = {
        "enabled": tracking,
        "free": free,
        "max_start": _clock_seconds(max_start, "--max-start"),
        "min_finish": _clock_seconds(min_finish, "--min-finish"),
        "min_duration": _clock_seconds(min_duration, "--min-duration"),
        "allowed_delta": _clock_seconds(allowed_delta, "--allowed-delta"),
    }
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.timeman_settings(store, user_id=user, domain=portal, **changes),
    )
    record = _settings_record(found)
    plain = "\n".join(f"{key}\t{str(value).lower() if isinstance(value, bool) else value}"
                      for key, value in record.items())  # fmt: skip
    _emit(record, as_json, plain)


def _network_output(found, as_json: bool) -> None:
    records = [{"ip_range": r.ip_range, "name": r.name} for r in found]
    _emit(records, as_json, "\n".join(f"{r.ip_range}\t{r.name}".rstrip() for r in found))


@network_app.command("list")
def network_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List the office networks: range, name."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_network_ranges(store, portal))
    _network_output(found, as_json)


@network_app.command("set")
def network_set(
    ranges: Annotated[
        list[str] | None,
        typer.Argument(help="RANGE[=NAME]: an address or FIRST-LAST, IPv4 or IPv6."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every range.")] = False,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Replace the office networks with the ranges given."""
    if not ranges and not clear:
        typer.echo("error: give ranges (RANGE[=NAME] ...), or --clear", err=True)
        raise typer.Exit(1)
    pairs = [(text.partition("=")[0], text.partition("=")[2]) for text in ranges or []]
    found = _run(
        _settings(data_dir, db), lambda store: admin.set_network_ranges(store, pairs, portal)
    )
    _network_output(found, as_json)


@timeman_app.command("timecontrol")
def timeman_timecontrol(
    changes: Annotated[
        list[str] | None,
        typer.Argument(
            help="NAME=VALUE as timeman.timecontrol.settings.set takes them "
            "(ACTIVE=1, MINIMUM_IDLE_FOR_REPORT=20, REPORT_FULL_USERS=3,7 ...)."
        ),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Show time control's settings, changing those given first."""
    parsed: dict[str, Any] = {}
    for text in changes or []:
        name, given, value = text.partition("=")
        if not given:
            typer.echo(f"error: {text!r} is not NAME=VALUE", err=True)
            raise typer.Exit(1)
        name = name.strip().upper()
        parsed[name] = [v for v in value.split(",") if v] if name.endswith("_USERS") else value
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.timecontrol_settings(store, _now(), parsed, portal),
    )
    record = found.as_result()
    shown = {
        key: ",".join(map(str, value))
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else value
        for key, value in record.items()
    }
    plain = "\n".join(f"{key}\t{value}".rstrip() for key, value in shown.items())
    _emit(record, as_json, plain)


def _day_record(stored) -> dict[str, Any]:
    day = stored.day
    return {
        "id": stored.id,
        "user_id": stored.user_id,
        "start": day.start.isoformat(),
        "finish": day.finish.isoformat() if day.finish else None,
        "active": day.active,
    }


@timeman_app.command("pending")
def timeman_pending(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """Workdays whose edits wait for a supervisor: ID, user, start, finish."""
    found = _run(_settings(data_dir, db), lambda store: admin.pending_workdays(store, portal))
    records = [_day_record(d) for d in found]
    plain = "\n".join(
        "\t".join([str(r["id"]), str(r["user_id"]), r["start"], r["finish"] or ""]).rstrip()
        for r in records
    )
    _emit(records, as_json, plain)


def _decide(
    approved: bool, workday_id: int, by: int, server, dev_token, portal, data_dir, db, as_json
) -> None:
    from b24local.devclient import server_now

    settings = _settings(data_dir, db)
    if server:
        now = _ask_dev_server(
            settings, dev_token, lambda token, ca: server_now(server, token, ca_file=ca)
        )
    else:
        now = _now()
    decided = _run(
        settings,
        lambda store: admin.decide_workday(
            store, now, workday_id=workday_id, supervisor_id=by, approved=approved, domain=portal
        ),
    )
    _emit(_day_record(decided), as_json, str(decided.id))


Supervisor = Annotated[int, typer.Option("--by", help="The supervisor deciding (a user ID).")]
WorkdayId = Annotated[int, typer.Argument(help="The workday's ID from `timeman pending`.")]


@timeman_app.command("approve")
def timeman_approve(
    workday_id: WorkdayId,
    by: Supervisor,
    server: DevServer = None,
    dev_token: DevToken = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Confirm a workday's pending edits (at the time of --server's clock, if given)."""
    _decide(True, workday_id, by, server, dev_token, portal, data_dir, db, as_json)


@timeman_app.command("reject")
def timeman_reject(
    workday_id: WorkdayId,
    by: Supervisor,
    server: DevServer = None,
    dev_token: DevToken = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Refuse a workday's pending edits: claimed times go back to the real ones."""
    _decide(False, workday_id, by, server, dev_token, portal, data_dir, db, as_json)


@timeman_app.command("history")
def timeman_history(
    workday_id: WorkdayId,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every transition and edit of a workday: when, who, what, report."""
    events = _run(
        _settings(data_dir, db), lambda store: admin.workday_history(store, workday_id, portal)
    )
    plain = "\n".join(
        "\t".join(
            [
                e["at"].isoformat(),
                str(e["actor_id"]),
                e["action"],
                e["claimed_at"].isoformat() if e["claimed_at"] else "",
                e["report"],
            ]
        ).rstrip()
        for e in events
    )
    _emit(events, as_json, plain)


@timeman_app.command("records")
def timeman_records(
    user: Annotated[int, typer.Argument(help="Whose records (a user ID).")],
    since: Annotated[
        str | None, typer.Option("--since", help="Days started at or after (ISO date or time).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Days started before (ISO date or time).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 50,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A user's workday records, newest first, as REST 3.0 timeman.record.list shows them:
    ID, start, end, worked seconds, break seconds, state."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.workday_records(
            store, _now(), user_id=user, since=since, until=until, limit=limit, domain=portal
        ),
    )
    plain = "\n".join(
        "\t".join(
            str(r[k]) if r[k] is not None else ""
            for k in ("id", "startTime", "endTime", "duration", "breakLength", "state")
        ).rstrip()
        for r in found
    )
    _emit(found, as_json, plain)


# --- tls and db ----------------------------------------------------------------------


@tls_app.command("ca-path")
def tls_ca_path(data_dir: DataDir = None) -> None:
    """Print the local CA certificate's path (creating the CA if needed)."""
    from b24local.tls import ensure_ca

    settings = _settings(data_dir, None)
    typer.echo(str(ensure_ca(settings.data_dir).ca_cert))


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, db: Db = None) -> None:
    """Apply pending schema migrations (serve does this by itself)."""
    _run(_settings(data_dir, db), lambda store: asyncio.sleep(0))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()


import b24local.cli_faults  # noqa: E402  (registers `b24local fault`)
import b24local.cli_outgoing  # noqa: E402  (registers `b24local outgoing-webhook`)
import b24local.cli_schedule  # noqa: E402, F401  (registers `b24local schedule`)
from b24local.cli_state import state_app  # noqa: E402

app.add_typer(state_app, name="state")
