"""``b24local serve``: bind, make the store ready, and run uvicorn with our
connection guard."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import socket
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from b24local import __version__, admin
from b24local.accepting import Acceptor
from b24local.accesslog import WithoutSecrets
from b24local.clock import SystemClock
from b24local.config import DEFAULT_HOST, DEFAULT_PORT, Settings
from b24local.connections import ConnectionLimits, Guard
from b24local.entities import Webhook
from b24local.rest.journal import DEFAULT_SIZE as DEFAULT_JOURNAL_SIZE
from b24local.store.engine import Store
from b24local.workers import Supervisor, bind, reuse_port_available

from .calls import JournalSize
from .common import DataDir, Db, _now, _positive, _public_url, _run, _settings

#: A command of the top level (added to the root without a name).
app = typer.Typer()


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
    redis: Annotated[
        str | None,
        typer.Option(
            envvar="B24LOCAL_REDIS_URL",
            help="Keep the limits in this Redis (redis://host:port/db), shared by every "
            "server using it; default: in this process's memory.",
            callback=_redis_url,
        ),
    ] = None,
    redis_prefix: Annotated[
        str,
        typer.Option(
            envvar="B24LOCAL_REDIS_PREFIX",
            help="What this server's Redis keys begin with (servers sharing a Redis apart).",
        ),
    ] = "b24local:",
    db_pool: Annotated[
        int | None,
        typer.Option(
            envvar="B24LOCAL_DB_POOL",
            help="PostgreSQL connections each process keeps for calls (default 40; one "
            "more is held for the change log). Size max_connections for all processes.",
            callback=_positive,
        ),
    ] = None,
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
    workers: Annotated[
        int,
        typer.Option(
            envvar="B24LOCAL_WORKERS",
            help="Server processes sharing the port (restarted when one dies).",
            callback=_positive,
        ),
    ] = 1,
) -> None:
    """Start the server; a first start makes a portal, admin and webhook, or loads --seed."""
    from b24local.app import create_app
    from b24local.clock import AdjustableClock

    from .state import check_dev_token, seed_store

    if limits not in ("on", "off"):
        typer.echo("error: --limits is on or off", err=True)
        raise typer.Exit(2)
    if (tls_cert is None) != (tls_key is None):
        typer.echo("error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(2)
    dev_token = check_dev_token(dev_token, dev)
    if workers > 1 and not hasattr(os, "fork"):
        typer.echo("error: --workers needs a system with fork() (Linux, macOS)", err=True)
        raise typer.Exit(2)
    if workers > 1 and dev:
        typer.echo(
            "error: --dev keeps its clock, faults and call journal in one process: use --workers 1",
            err=True,
        )
        raise typer.Exit(2)
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
        redis_url=redis or None,
        redis_prefix=redis_prefix,
        db_pool=db_pool,
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
            # Only here: cryptography takes a while to import.
            from b24local.tls import ensure_server_cert

            files = ensure_server_cert(settings.data_dir)
            ssl = {"ssl_certfile": str(files.server_cert), "ssl_keyfile": str(files.server_key)}
            settings = replace(settings, tls_cert=files.server_cert, tls_key=files.server_key)
    # Bound before the first-start webhook is issued: its code is shown only once.
    reuse_port = workers > 1 and reuse_port_available()
    sock = _listen(host, port, reuse_port=reuse_port)
    settings = replace(settings, port=sock.getsockname()[1])

    seeded = seed_store(settings, seed, _now()) if seed is not None else []
    boot, issued = _run(settings, _first_start)

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
    # Where a team clicks first: the pages log in with a password set by the CLI.
    pages = boot.portal.public_url or settings.public_url or base
    lines.append(f"Web pages: {pages}/ (set a password with `b24local user password ID`)")

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
    # After the Config, which sets uvicorn's logging up.
    logging.getLogger("uvicorn.access").addFilter(WithoutSecrets())
    # What start-up made (modules, the registry, the app) lives as long as the
    # process: frozen, the collector's full passes no longer walk it (with 1,000
    # people the team board's p95 fell from ~130 ms to ~50 ms).
    gc.collect()
    gc.freeze()
    if workers == 1:
        Server(config, banner="\n".join(lines)).run(sockets=[sock])
        return
    if settings.limits and not _shared_limits(settings):
        typer.echo(
            f"warning: with --workers {workers} each process keeps its own rate and "
            f"operating-time limits, so a client may make up to {workers} times as many "
            "calls; --limits off, or --redis URL to share them",
            err=True,
        )
    lines.append(f"Workers: {workers}")
    status = _run_workers(workers, config, sock, reuse_port=reuse_port, banner="\n".join(lines))
    raise typer.Exit(status)


def _run_workers(
    count: int, config: uvicorn.Config, sock: socket.socket, *, reuse_port: bool, banner: str
) -> int:
    """``count`` worker processes serving ``config``; the banner once all serve."""
    host, port = sock.getsockname()[:2]

    def work(serving: Callable[[], None]) -> int:
        if reuse_port:
            sock.close()  # the parent's, bound to hold the port; each worker listens on its own
            own = bind(host, port, reuse_port=True)
        else:
            own = sock  # one socket accepted on by every worker
        server = Server(config, banner=None, on_serving=serving)
        server.run(sockets=[own])
        return 0 if server.started else 3  # uvicorn's own status for a failed start

    def serving() -> None:
        typer.echo(banner)
        sys.stdout.flush()

    return Supervisor(count, work, log=lambda text: typer.echo(text, err=True)).run(serving)


def _shared_limits(settings: Settings) -> bool:
    """Whether the limits are kept where every process sees them (not in memory)."""
    return settings.redis_url is not None


async def _first_start(store: Store) -> tuple[admin.Bootstrap, tuple[Webhook, str] | None]:
    """The default portal and, on the very first start, the webhook to show."""
    now = _now()
    return await admin.bootstrap(store, now), await admin.first_start_webhook(store, now)


def _redis_url(value: str | None) -> str | None:
    if value:
        from b24local.rest.redislimits import check_url

        try:
            check_url(value)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
    return value


def _check_tls(cert: Path, key: Path) -> None:
    from b24local.tls import TlsError, check_pair

    try:
        check_pair(cert, key)
    except TlsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """The listening socket, bound here so that a port in use is a one-line error
    before anything is printed or created (uvicorn binds the same way)."""
    try:
        sock = bind(host, port, reuse_port=False)
        if reuse_port:
            # Checked without SO_REUSEPORT first: another server holding the port
            # with it (another `serve --workers`) must be an error, not a silent
            # partner that gets half the connections.
            port = sock.getsockname()[1]
            sock.close()
            sock = bind(host, port, reuse_port=True)
        return sock
    except OSError as error:
        typer.echo(f"error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None


class Server(uvicorn.Server):
    """uvicorn, printing the banner (or calling ``on_serving``) once it serves, and
    exiting 0 on a signal."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        banner: str | None,
        on_serving: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.banner = banner
        self.on_serving = on_serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn would serve `sockets` through the loop's own server, which on
        # uvloop accepts one connection per loop turn; listen with ours instead.
        await super().startup([] if sockets is not None else None)
        if sockets is not None:
            self.servers = [await self._listener(sock) for sock in sockets]  # type: ignore[misc]
        if not self.should_exit:
            if self.banner is not None:
                typer.echo(self.banner)
                sys.stdout.flush()
            if self.on_serving is not None:
                self.on_serving()

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
