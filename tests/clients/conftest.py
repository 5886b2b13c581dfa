"""A real ``b24local serve --tls --dev`` process for client tests.

``live_server`` starts the console script on a free port with a fresh data
directory, waits until it has printed its webhook, dev token and CA path and
until a TLS handshake against the port succeeds, and stops it with SIGTERM on
teardown. ``launch_server`` starts extra servers (e.g. to test shutdown), optionally
on another database (``launch(db="postgresql://...?schema=NAME")``) or with extra
``serve`` options (``launch(args=[...])``).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: How long a server may take to print its banner and accept TLS connections.
START_DEADLINE = 30.0
#: How long a server may take to stop after a signal.
STOP_DEADLINE = 15.0

#: A clean shutdown after SIGTERM exits 0.
TOLERATED_SIGTERM_EXIT = (0,)

_WEBHOOK = re.compile(r"^Incoming webhook: (https://\S+/rest/(\d+)/([^/\s]+)/)\s*$")
#: What a restart prints instead of the webhook, whose code it no longer knows.
_WEBHOOK_HIDDEN = re.compile(r"^Incoming webhook: shown on first start only")
_DEV_TOKEN = re.compile(r"^Dev token: (\S+)\s*$")
_CA = re.compile(r"^CA certificate: (.+?)\s*$")
_LISTENING = re.compile(r"listening on (https://\S+)\s*$")


def console_script() -> Path:
    """The ``b24local`` console script of the interpreter running the tests."""
    script = Path(sys.executable).parent / "b24local"
    if script.exists():
        return script
    found = shutil.which("b24local")
    if found is None:
        pytest.fail("the b24local console script is not installed next to the interpreter")
    return Path(found)


def server_env() -> dict[str, str]:
    """The test environment without settings that would redirect the server's data."""
    env = {k: v for k, v in os.environ.items() if k not in ("B24LOCAL_DB", "B24LOCAL_DATA_DIR")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``b24local ARGS`` to its end, as a user would, with ``env`` added to the
    environment; nothing is checked."""
    return subprocess.run(
        [str(console_script()), *args],
        capture_output=True,
        text=True,
        env={**server_env(), **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def b24local_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """:func:`run_cli` for test modules (conftest functions are not importable)."""
    return run_cli


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str  # "https://127.0.0.1:PORT"
    port: int
    webhook_url: str  # "https://127.0.0.1:PORT/rest/1/CODE/"
    user_id: int
    code: str
    dev_token: str
    ca_path: Path
    data_dir: Path
    process: subprocess.Popen[str]
    stderr_path: Path
    stdout_lines: list[str] = field(default_factory=list)
    #: What the server prints after its banner (the pump's lines; None at EOF).
    later_output: queue.Queue[str | None] = field(default_factory=queue.Queue)
    #: The ``--db`` URL the server was started with (None: SQLite in ``data_dir``).
    db: str | None = None

    @property
    def domain(self) -> str:
        """``127.0.0.1:PORT``: what SDKs take as the portal domain."""
        return f"127.0.0.1:{self.port}"

    @property
    def webhook_token(self) -> str:
        """``USER_ID/CODE``: the two path segments SDKs take as the webhook token."""
        return f"{self.user_id}/{self.code}"

    @property
    def env(self) -> dict[str, str]:
        """An environment for client processes: no proxy for loopback, no b24local settings."""
        return server_env()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def output_to_end(self) -> str:
        """Everything printed after the banner, once the process has stopped."""
        printed = []
        while (line := self.later_output.get(timeout=STOP_DEADLINE)) is not None:
            printed.append(line)
        return "".join(printed)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))

    def run_cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run ``b24local ARGS --data-dir DIR [--db URL]`` against this server's data,
        with ``env`` added to the environment, whatever its outcome."""
        database = ["--db", self.db] if self.db else []
        return run_cli(*args, "--data-dir", str(self.data_dir), *database, env=env, timeout=timeout)

    def cli(self, *args: str, timeout: float = 30) -> str:
        """Run ``b24local ARGS`` as :meth:`run_cli` does; fail unless it succeeds, and
        return stdout."""
        done = self.run_cli(*args, timeout=timeout)
        if done.returncode != 0:
            pytest.fail(
                f"b24local {' '.join(args)} exited {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done.stdout.strip()

    def dev(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the ``--dev`` control surface (``/_b24local/...``) with the dev token."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.dev_token}",
                "Content-Type": "application/json",
            },
        )
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=self.ssl_context()),
        )
        try:
            with opener.open(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            pytest.fail(f"{method} {path} answered {error.code}: {error.read()!r}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig``, wait for the process to end, and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                pytest.fail(
                    f"the server did not stop within {STOP_DEADLINE:.0f} s of "
                    f"{signal.Signals(sig).name}\nstderr:\n{self.stderr()}"
                )
        return self.process.returncode


def _pump(stream, lines: queue.Queue[str | None]) -> None:
    """Forward every stdout line to ``lines`` (None at EOF), draining the pipe."""
    try:
        for line in stream:
            lines.put(line)
    finally:
        lines.put(None)


def _tls_ready(port: int, context: ssl.SSLContext) -> bool:
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock,
            context.wrap_socket(sock, server_hostname="127.0.0.1"),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def start_server(
    data_dir: Path,
    log_dir: Path,
    *,
    db: str | None = None,
    args: Sequence[str] = (),
    ca: Path | None = None,
    restart: LiveServer | None = None,
) -> LiveServer:
    """Start ``b24local serve --tls --dev [--db URL] [ARGS]`` and wait until it answers
    TLS handshakes. The rate limits are off unless ``args`` name ``--limits``. With
    ``--tls-cert``/``--tls-key`` among ``args`` the server prints no CA line: ``ca``
    names the CA to trust instead. ``restart`` names a stopped server whose data the
    new one serves: it prints no webhook, so the old one's code is kept."""
    if "--limits" not in args:
        # The cloud's rate limit is on by default; client tests opt into it.
        args = ["--limits", "off", *args]
    port = free_port()
    stderr_path = log_dir / f"serve-{port}.stderr"
    deadline = time.monotonic() + START_DEADLINE
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [
                str(console_script()),
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--tls",
                "--dev",
                *(["--db", db] if db else []),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=server_env(),
            text=True,
        )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()

    seen: list[str] = []

    def fail(why: str) -> None:
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        stderr_text = stderr_path.read_text(errors="replace")
        pytest.fail(
            f"b24local serve: {why} (exit status {process.returncode})\n"
            f"stdout:\n{''.join(seen)}\nstderr:\n{stderr_text}"
        )

    found: dict[str, re.Match[str]] = {}
    needed = {"webhook", "token"} | ({"ca"} if ca is None else set())
    while not needed <= found.keys():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            fail(f"no webhook/dev token/CA lines within {START_DEADLINE:.0f} s")
        try:
            line = lines.get(timeout=min(remaining, 0.5))
        except queue.Empty:
            if process.poll() is not None:
                fail("the process died before printing its banner")
            continue
        if line is None:
            fail("stdout closed before the banner was complete")
            raise AssertionError  # unreachable: fail() raises
        seen.append(line)
        webhook_line = _WEBHOOK if restart is None else _WEBHOOK_HIDDEN
        for name, pattern in (("webhook", webhook_line), ("token", _DEV_TOKEN), ("ca", _CA)):
            match = pattern.search(line)
            if match:
                found[name] = match

    base_url = f"https://127.0.0.1:{port}"
    if restart is None:
        webhook_url, user_id, code = found["webhook"].group(1, 2, 3)
    else:
        user_id, code = str(restart.user_id), restart.code
        webhook_url = f"{base_url}/rest/{user_id}/{code}/"
    listening = next((m for m in map(_LISTENING.search, seen) if m), None)
    if listening is None or listening.group(1) != base_url:
        fail(f"expected a 'listening on {base_url}' line")
    server = LiveServer(
        base_url=base_url,
        port=port,
        webhook_url=webhook_url,
        user_id=int(user_id),
        code=code,
        dev_token=found["token"].group(1),
        ca_path=ca or Path(found["ca"].group(1)),
        data_dir=data_dir,
        process=process,
        stderr_path=stderr_path,
        stdout_lines=seen,
        later_output=lines,
        db=db,
    )
    # (With --public-url the webhook is printed at the public address.)
    if "--public-url" not in args and not server.webhook_url.startswith(base_url + "/rest/"):
        fail(f"the webhook URL {server.webhook_url} is not under {base_url}")
    if not server.ca_path.is_file():
        fail(f"the CA certificate {server.ca_path} does not exist")

    context = server.ssl_context()
    while not _tls_ready(port, context):
        if process.poll() is not None:
            fail("the process died before accepting TLS connections")
        if time.monotonic() > deadline:
            fail(f"no TLS handshake on port {port} within {START_DEADLINE:.0f} s")
        time.sleep(0.1)
    return server


def serve_banner(data_dir: Path, *, db: str | None = None) -> list[str]:
    """Start ``b24local serve`` on ``data_dir``, return its banner (the stdout lines up
    to the webhook line), and stop it with SIGTERM."""
    process = subprocess.Popen(
        [str(console_script()), "serve", "--data-dir", str(data_dir), "--port", "0",
         *(["--db", db] if db else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=server_env(),
        text=True,
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    banner: list[str] = []
    deadline = time.monotonic() + START_DEADLINE
    try:
        while not banner or not banner[-1].startswith("Incoming webhook:"):
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None:
                pytest.fail(f"b24local serve ended before its banner: {banner}")
            banner.append(line.rstrip("\n"))
    except queue.Empty:
        pytest.fail(f"no banner within {START_DEADLINE:.0f} s: {banner}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return banner


@pytest.fixture(scope="session")
def banner_of() -> Callable[..., list[str]]:
    """:func:`serve_banner` for test modules."""
    return serve_banner


def _stop_after_test(server: LiveServer) -> None:
    # Client objects caught in reference cycles (an SDK exception kept by
    # pytest.raises holds its requests.Response and thereby its socket) would keep
    # an idle keep-alive TLS connection open, and the server then waits ~30 s for
    # it (test_shutdown.py covers that case). Free them first.
    gc.collect()
    status = server.stop(signal.SIGTERM)
    stderr = server.stderr()
    assert status in TOLERATED_SIGTERM_EXIT, (
        f"SIGTERM: exit status {status}, expected 0\nstderr:\n{stderr}"
    )
    # Whatever the status, the shutdown must have been the graceful one.
    assert "Application shutdown complete" in stderr, stderr
    assert "Traceback" not in stderr, stderr


@pytest.fixture(scope="module")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, new_pg_schema
) -> Iterator[LiveServer]:
    """One server per test module; stopped with SIGTERM at the module's end.

    It keeps its data in SQLite; a module parametrizing ``live_server`` indirectly
    with ``"postgresql"`` gets one on a fresh PostgreSQL schema as well."""
    root = tmp_path_factory.mktemp("b24local-live")
    with contextlib.ExitStack() as database:
        db = None
        if getattr(request, "param", "sqlite") == "postgresql":
            db = database.enter_context(new_pg_schema("b24local_live"))
        server = start_server(root / "data", root, db=db)
        try:
            yield server
        finally:
            # Stopped before its schema is dropped.
            _stop_after_test(server)


@pytest.fixture(scope="module")
def launch_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LiveServer]]:
    """Start extra servers, each with its own data; any still running at the end are killed.

    ``launch()`` takes optional keywords: ``db`` (a ``--db`` URL), ``args`` (more
    ``serve`` options), ``ca`` (the CA to trust for ``--tls-cert``) and ``restart`` (a
    stopped server whose data directory and database to serve again).
    """
    started: list[LiveServer] = []

    def launch(
        *,
        db: str | None = None,
        args: Sequence[str] = (),
        ca: Path | None = None,
        restart: LiveServer | None = None,
    ) -> LiveServer:
        if restart is not None:
            data_dir, root, db = restart.data_dir, restart.stderr_path.parent, restart.db
        else:
            root = tmp_path_factory.mktemp("b24local-extra")
            data_dir = root / "data"
        server = start_server(data_dir, root, db=db, args=args, ca=ca, restart=restart)
        started.append(server)
        return server

    yield launch
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=5)
