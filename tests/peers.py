"""Calls from another address than the test client's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.testclient import TestClient


@contextmanager
def client_from(server, host: str) -> Iterator[TestClient]:
    """A client whose peer address is ``host``.

    It shares the running server's event loop (its portal) instead of entering its own
    ``with`` block: a second loop could not use the store's pooled PostgreSQL
    connections, which belong to the first.
    """
    remote = TestClient(server.http.app, base_url=str(server.http.base_url), client=(host, 5000))
    remote.portal = server.http.portal
    try:
        yield remote
    finally:
        remote.close()
