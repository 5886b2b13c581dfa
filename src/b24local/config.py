"""Settings from command-line flags and ``B24LOCAL_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from b24local.rest.transport import RequestLimits
from b24local.store.engine import sqlite_url

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8024


def default_data_dir() -> Path:
    configured = os.environ.get("B24LOCAL_DATA_DIR")
    return Path(configured) if configured else Path(user_data_dir("b24local", appauthor=False))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _journal_size() -> int:
    """``B24LOCAL_JOURNAL_SIZE`` (at most the journal's ceiling), else the default."""
    from b24local.rest.journal import DEFAULT_SIZE, MAX_SIZE

    configured = os.environ.get("B24LOCAL_JOURNAL_SIZE", "").strip()
    if configured.isascii() and configured.isdigit():
        return min(int(configured), MAX_SIZE)
    return DEFAULT_SIZE


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    #: Any SQLAlchemy URL; ``None`` means the embedded SQLite file in ``data_dir``.
    db: str | None = field(default_factory=lambda: os.environ.get("B24LOCAL_DB") or None)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_https: bool = False
    dev: bool = False
    #: How clients reach the server (``https://host[:port][/path]``), winning over the
    #: ``Host`` header in the addresses answers give out; None: as ``Host`` says.
    public_url: str | None = None
    #: Addresses whose X-Forwarded-* headers are believed; none by default.
    trusted_proxies: tuple[str, ...] = ()
    request_limits: RequestLimits = field(default_factory=RequestLimits)
    #: The request-rate and operating-time limits of the cloud; off for fast tests.
    limits: bool = True
    #: Leaky bucket for every portal, each overriding the plans' value on its own
    #: (a portal's own setting wins).
    rate_threshold: float | None = None
    rate_drain: float | None = None
    #: Seconds of run time per method and client within ten minutes.
    operating_limit: float = 480.0
    #: Keep the limits in this Redis (shared by every process using it); None: in
    #: this process's memory.
    redis_url: str | None = None
    #: What this server's Redis keys begin with (keeps servers sharing a Redis apart).
    redis_prefix: str = "b24local:"
    #: PostgreSQL connections each process keeps for calls; None: the store's default.
    db_pool: int | None = None
    #: One call may run this many seconds; then it is cancelled and rolled back.
    time_limit: float = 60.0
    #: Refuse event handlers on loopback and private addresses (a self-hosted server
    #: that must not be made to call into its own network).
    forbid_private_handlers: bool = field(
        default_factory=lambda: _flag("B24LOCAL_FORBID_PRIVATE_HANDLERS")
    )
    #: Seconds an event handler has to answer one delivery.
    event_timeout: float = 5.0
    #: Attempts of one delivery before it is given up (``failed``).
    event_attempts: int = 5
    #: Calls the ``--dev`` call journal keeps (the oldest go first); 0: none.
    journal_size: int = field(default_factory=lambda: _journal_size())

    @property
    def db_url(self) -> str:
        return self.db or sqlite_url(self.data_dir)

    @property
    def scheme(self) -> str:
        return "https" if self.tls or self.tls_cert else "http"

    @property
    def public_base(self) -> str:
        """The address to print for clients: a wildcard bind is reached via loopback."""
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{self.scheme}://{host}:{self.port}"
