"""The pytest plugin: a local Bitrix24 portal for each test, nothing to copy.

Installed with the package (the ``pytest11`` entry point ``b24local``). Fixtures:

- ``b24local_server`` (session): a ``b24local serve --dev`` started once, in a child
  process or in a thread (``--b24local-mode``), stopped at the end;
- ``b24local``: a clean portal for one test (reset before it), with its URL, the
  administrator's all-scopes webhook, and controls for users, departments, the
  clock, faults, the call journal and snapshots (:class:`Portal`);
- ``b24local_app``: an OAuth application with a token pair for the administrator.

Options (command line, or the same name with underscores in the ini file):
``--b24local-mode process|inprocess``, ``--b24local-seed FILE``, ``--b24local-tls``,
``--b24local-limits on|off``. Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from b24local.pytest_plugin.portal import App, DevApi, Portal
    from b24local.pytest_plugin.servers import RunningServer, ServerOptions

__all__ = ["App", "Portal"]

MODES = ("process", "inprocess")
_OPTIONS = pytest.StashKey["ServerOptions"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("b24local", "b24local: a local Bitrix24 server for tests")
    group.addoption(
        "--b24local-mode",
        choices=MODES,
        default=None,
        help="process: a `b24local serve --dev` child process (default); inprocess: the "
        "server in a thread of the test process, faster to start.",
    )
    group.addoption(
        "--b24local-seed",
        default=None,
        metavar="FILE",
        help="A state file (YAML or JSON) the server starts from, and every reset returns to.",
    )
    group.addoption(
        "--b24local-tls",
        action="store_true",
        default=None,
        help="Serve HTTPS with b24local's local CA (which the `b24local` fixture makes "
        "requests, httpx and aiohttp trust).",
    )
    group.addoption(
        "--b24local-limits",
        choices=("on", "off"),
        default=None,
        help="The cloud's rate and operating-time limits (default: on, as `serve` has them).",
    )
    parser.addini("b24local_mode", "process or inprocess (see --b24local-mode)", default="")
    parser.addini("b24local_seed", "A state file, relative to the ini file", default="")
    parser.addini("b24local_tls", "Serve HTTPS with the local CA", type="bool", default=False)
    parser.addini("b24local_limits", "on or off (see --b24local-limits)", default="")


def pytest_configure(config: pytest.Config) -> None:
    # A bad option is a usage error at once, not a failure of each test using it.
    config.stash[_OPTIONS] = server_options(config)


def server_options(config: pytest.Config) -> ServerOptions:
    """The session's choices: the command line wins over the ini file."""
    from b24local.pytest_plugin.servers import ServerOptions

    mode = config.getoption("b24local_mode") or config.getini("b24local_mode") or "process"
    if mode not in MODES:
        raise pytest.UsageError(f"b24local_mode is one of {', '.join(MODES)}, not {mode!r}")
    limits = config.getoption("b24local_limits") or config.getini("b24local_limits") or "on"
    if limits not in ("on", "off"):
        raise pytest.UsageError(f"b24local_limits is on or off, not {limits!r}")
    tls = config.getoption("b24local_tls")
    seed = None
    if given := config.getoption("b24local_seed"):
        seed = Path(config.invocation_params.dir, given)
    elif given := config.getini("b24local_seed"):
        seed = Path(config.inipath.parent if config.inipath else config.rootpath, given)
    if seed is not None and not seed.is_file():
        raise pytest.UsageError(f"b24local seed file {seed} does not exist")
    return ServerOptions(
        mode=mode,
        tls=bool(config.getini("b24local_tls") if tls is None else tls),
        seed=seed,
        limits=limits == "on",
    )


@pytest.fixture(scope="session")
def b24local_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A ``--dev`` server for the whole session: ``.url``, ``.webhook_url``,
    ``.dev_token``, ``.ca_path``, ``.mode``, ``.startup_seconds``."""
    from b24local.pytest_plugin import servers

    options = pytestconfig.stash[_OPTIONS]
    root = tmp_path_factory.mktemp("b24local")
    try:
        server = servers.start(options, root / "data")
    except servers.ServerStartError as error:
        failure = str(error)
    else:
        failure = None
    if failure is not None:  # outside the except: no "during handling" chain
        pytest.fail(f"b24local did not start: {failure}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def b24local_dev(b24local_server: RunningServer) -> Iterator[DevApi]:
    """The session's HTTP client for the dev surface: ``b24local_dev("GET", "clock")``."""
    from b24local.pytest_plugin.portal import DevApi

    dev = DevApi(b24local_server)
    try:
        yield dev
    finally:
        dev.close()


@pytest.fixture(scope="session")
def b24local_ca_bundle(
    b24local_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Path | None:
    """With TLS, a CA bundle of the usual public roots plus b24local's CA (None
    without TLS): what ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` point at in a test."""
    if b24local_server.ca_path is None:
        return None
    bundle = tmp_path_factory.mktemp("b24local-ca") / "ca-bundle.pem"
    bundle.write_text(_public_roots() + "\n" + b24local_server.ca_path.read_text())
    return bundle


def _public_roots() -> str:
    """The roots a client would trust anyway, so that a test trusting b24local's CA
    still reaches real HTTPS sites."""
    try:
        import certifi

        return Path(certifi.where()).read_text()
    except ImportError:
        import ssl

        cafile = ssl.get_default_verify_paths().cafile
        return Path(cafile).read_text() if cafile and Path(cafile).is_file() else ""


@pytest.fixture
def b24local(
    b24local_server: RunningServer,
    b24local_dev: DevApi,
    b24local_ca_bundle: Path | None,
    monkeypatch: pytest.MonkeyPatch,
) -> Portal:
    """A clean portal for this test: reset to the state right after start (the seed
    loaded), journal and faults cleared, the clock at the real time and running.

    The environment is set for clients given only the URL: no proxy for loopback
    and, with TLS, ``REQUESTS_CA_BUNDLE`` and ``SSL_CERT_FILE`` trusting the local CA."""
    from b24local.pytest_plugin.portal import Portal

    loopback = "127.0.0.1,localhost"
    for name in ("NO_PROXY", "no_proxy"):
        present = os.environ.get(name)
        monkeypatch.setenv(name, f"{present},{loopback}" if present else loopback)
    if b24local_ca_bundle is not None:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(b24local_ca_bundle))
        monkeypatch.setenv("SSL_CERT_FILE", str(b24local_ca_bundle))
    portal = Portal(b24local_server, b24local_dev)
    portal.reset()
    return portal


@pytest.fixture
def b24local_app(b24local: Portal) -> App:
    """An OAuth application with every scope, installed in this test's portal, and a
    token pair for the administrator (user 1): ``.client_id``, ``.client_secret``,
    ``.access_token``, ``.refresh_token``, ``.client_endpoint``, ``.domain``..."""
    return b24local.add_app()


def __getattr__(name: str):
    # `from b24local.pytest_plugin import Portal, App` for type hints, without
    # importing httpx when pytest loads the plugin.
    if name in ("Portal", "App"):
        from b24local.pytest_plugin import portal

        return getattr(portal, name)
    raise AttributeError(name)
