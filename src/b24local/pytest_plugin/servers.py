"""Starting a ``--dev`` server for a test session, one of two ways.

``process``: ``b24local serve --dev`` in a child process, exactly what a user runs,
on a port the server picks (``--port 0``) and reports in its banner. ``inprocess``:
the same app in a thread of the test process, served by uvicorn; it starts faster
and needs no console script, but shares the interpreter with the tests.

Either way the server gets a fresh data directory, is bootstrapped as the first
``serve`` does (a portal, its administrator and an all-scopes webhook), and is
stopped when the session ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: How long a server may take to start before the session gives up on it.
START_DEADLINE = 60.0
#: How long a server may take to stop.
STOP_DEADLINE = 15.0
MODES = ("process", "inprocess")

_LISTENING = re.compile(r"listening on (https?://\S+)")
_WEBHOOK = re.compile(r"^Incoming webhook: (https?://\S+/rest/\d+/[^/\s]+/)\s*$", re.MULTILINE)
_DEV_TOKEN = re.compile(r"^Dev token: (\S+)\s*$", re.MULTILINE)
_CA = re.compile(r"^CA certificate: (.+?)\s*$", re.MULTILINE)
#: Settings that would point a child server at someone else's data or address.
_FOREIGN_ENV = ("B24LOCAL_DB", "B24LOCAL_DATA_DIR", "B24LOCAL_PUBLIC_URL")


class ServerStartError(RuntimeError):
    """The server did not come up; the message carries what it printed."""


@dataclass(frozen=True)
class ServerOptions:
    """What the session asked for (``--b24local-*`` options or their ini keys)."""

    mode: str = "process"
    tls: bool = False
    seed: Path | None = None
    #: The cloud's rate and operating-time limits, on as ``serve`` has them.
    limits: bool = True


@dataclass
class RunningServer:
    """A started ``--dev`` server, as the session fixture hands it out."""

    mode: str
    #: ``http://127.0.0.1:PORT`` (``https://`` with TLS).
    url: str
    #: The administrator's all-scopes webhook: ``URL/rest/1/CODE/``.
    webhook_url: str
    dev_token: str
    #: The local CA to trust (TLS only).
    ca_path: Path | None
    data_dir: Path
    #: Seconds from asking for the server to its first answered call.
    startup_seconds: float
    _stop: Callable[[], None] = field(repr=False)

    def stop(self) -> None:
        self._stop()


def start(options: ServerOptions, data_dir: Path) -> RunningServer:
    if options.mode not in MODES:
        raise ValueError(f"b24local mode is one of {', '.join(MODES)}, not {options.mode!r}")
    launch = _start_process if options.mode == "process" else _start_inprocess
    began = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    hook = asyncio.run(_seed(options.seed, data_dir)) if options.seed is not None else None
    server = launch(options, data_dir, hook)
    try:
        _wait_until_answering(server, began)
    except BaseException:
        server.stop()
        raise
    return server


# --- a child process ----------------------------------------------------------------


def serve_command(options: ServerOptions, data_dir: Path) -> list[str]:
    """``python -m b24local serve --dev ...`` as the process mode runs it."""
    command = [sys.executable, "-m", "b24local", "serve", "--dev", "--data-dir", str(data_dir)]
    command += ["--host", "127.0.0.1", "--port", "0", "--log-level", "warning"]
    command += ["--limits", "on" if options.limits else "off"]
    if options.tls:
        command.append("--tls")
    return command


def _start_process(options: ServerOptions, data_dir: Path, hook: str | None) -> RunningServer:
    # Beside the data, for a reader looking into a failed session's temp directory.
    out_path, err_path = data_dir.parent / "serve.stdout", data_dir.parent / "serve.stderr"
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        # Output goes to files, not pipes: nobody has to keep draining them.
        process = subprocess.Popen(
            serve_command(options, data_dir),
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip

    def printed() -> str:
        text = out_path.read_text(errors="replace")
        return f"stdout:\n{text}\nstderr:\n{err_path.read_text(errors='replace')}"

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    deadline = time.monotonic() + START_DEADLINE
    # The banner is printed in one piece once the server listens.
    while True:
        text = out_path.read_text(errors="replace")
        found = _banner(text, tls=options.tls, hook=hook)
        if found is not None:
            break
        if process.poll() is not None:
            raise ServerStartError(f"b24local serve exited {process.returncode}\n{printed()}")
        if time.monotonic() > deadline:
            stop()
            raise ServerStartError(f"no banner within {START_DEADLINE:.0f} s\n{printed()}")
        time.sleep(0.01)
    url, webhook_url, dev_token, ca_path = found
    return RunningServer(
        "process", url, webhook_url, dev_token, ca_path, data_dir, 0.0, _stop=stop
    )  # fmt: skip


def _banner(text: str, *, tls: bool, hook: str | None) -> tuple[str, str, str, Path | None] | None:
    """The address, webhook, dev token and CA a complete banner names; None until
    then. ``hook`` (a seeded store's webhook path) stands for the first-start
    webhook, which a store that holds data does not print."""
    listening, webhook = _LISTENING.search(text), _WEBHOOK.search(text)
    token, ca = _DEV_TOKEN.search(text), _CA.search(text)
    if not (listening and token and (webhook or hook)) or (tls and ca is None):
        return None
    url = listening.group(1)
    webhook_url = url + hook if hook else webhook.group(1)  # type: ignore[union-attr]
    return url, webhook_url, token.group(1), Path(ca.group(1)) if ca else None


# --- a thread of this process -------------------------------------------------------


def _start_inprocess(options: ServerOptions, data_dir: Path, hook: str | None) -> RunningServer:
    import uvicorn

    from b24local import admin
    from b24local.app import create_app
    from b24local.clock import AdjustableClock, SystemClock
    from b24local.config import Settings

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    settings = Settings(
        data_dir=data_dir, db=None, host="127.0.0.1", port=sock.getsockname()[1],
        tls=options.tls, dev=True, limits=options.limits,
    )  # fmt: skip
    ssl: dict[str, str] = {}
    ca_path = None
    if options.tls:
        from b24local.tls import ensure_server_cert

        files = ensure_server_cert(data_dir)
        ssl = {"ssl_certfile": str(files.server_cert), "ssl_keyfile": str(files.server_key)}
        ca_path = files.ca_cert

    async def first_start() -> str:
        # What `serve` does before it listens: the store migrated, the portal and
        # its administrator made, the all-scopes webhook issued (a seeded store
        # has all three, and the webhook is the plugin's own).
        store = await admin.open_store(settings.db_url)
        try:
            now = SystemClock().now()
            await admin.bootstrap(store, now)
            issued = await admin.first_start_webhook(store, now)
        finally:
            await store.close()
        if issued is None:
            assert hook is not None, "a fresh data directory has no webhook yet"
            return hook
        return f"/rest/{issued[0].user_id}/{issued[1]}/"

    webhook_url = settings.public_base + asyncio.run(first_start())
    dev_token = secrets.token_urlsafe(24)
    app = create_app(settings, clock=AdjustableClock(), dev_token=dev_token)
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=2,
        **ssl,
    )  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="b24local-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_DEADLINE
    while not server.started:
        if not thread.is_alive():
            raise ServerStartError("the in-process server stopped while starting (see the log)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise ServerStartError(f"the in-process server did not start in {START_DEADLINE} s")
        time.sleep(0.005)

    def stop() -> None:
        server.should_exit = True
        thread.join(STOP_DEADLINE)
        sock.close()

    return RunningServer(
        "inprocess", settings.public_base, webhook_url, dev_token, ca_path, data_dir, 0.0,
        _stop=stop,
    )  # fmt: skip


async def _seed(seed: Path, data_dir: Path) -> str:
    """Load the state file into the fresh store in ``data_dir`` as ``serve --seed``
    does, and issue the plugin's own webhook (every scope) to the default portal's
    first administrator, since the seed's webhooks may be narrower, or known only
    by hash. Both are in the store before the server starts, so in its reset
    point. The webhook's path (``/rest/ID/CODE/``)."""
    from b24local import admin
    from b24local.clock import SystemClock
    from b24local.state import fileformat, loading
    from b24local.store import users
    from b24local.store.engine import sqlite_url

    try:
        state = fileformat.read(seed)
    except fileformat.StateError as error:
        raise ServerStartError(f"{seed}: {error}") from None
    now = SystemClock().now()
    store = await admin.open_store(sqlite_url(data_dir))
    try:
        try:
            await loading.load(store, state, now)
        except fileformat.StateError as error:
            raise ServerStartError(f"{seed}: {error}") from None
        async with store.transaction() as conn:
            portal = await admin.portal_for(conn)
            administrator = await users.first_admin(conn, portal.id)
        if administrator is None:
            raise ServerStartError(
                f"{seed}: the default portal needs an active administrator for the "
                "plugin's webhook (b24local.webhook_url)"
            )
        hook, code = await admin.add_webhook(
            store, now, user_id=administrator, scopes=admin.implemented_scopes(),
            title="pytest plugin",
        )  # fmt: skip
    finally:
        await store.close()
    return f"/rest/{hook.user_id}/{code}/"


def _wait_until_answering(server: RunningServer, began: float) -> None:
    """Poll ``server.time`` through the webhook until it answers: the moment a test
    can start (and the figure ``startup_seconds`` reports)."""
    import httpx

    verify = _verify(server.ca_path)
    deadline = time.monotonic() + START_DEADLINE
    with httpx.Client(verify=verify, trust_env=False, timeout=5) as client:
        while True:
            try:
                if client.get(server.webhook_url + "server.time").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(f"{server.url} did not answer in {START_DEADLINE:.0f} s")
            time.sleep(0.01)
    server.startup_seconds = time.perf_counter() - began


def _verify(ca_path: Path | None) -> bool | object:
    if ca_path is None:
        return True
    import ssl

    return ssl.create_default_context(cafile=str(ca_path))
