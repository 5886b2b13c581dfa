"""Failures of the database itself, told apart from the failures of one call.

A call that meets one of these did nothing wrong: the database went away (a
restart, a dropped connection) or every pooled connection stayed busy for the
whole checkout timeout. Its transaction is rolled back with the connection, so it
leaves nothing half-written, and SQLAlchemy's pool, on seeing a connection lost,
retires every connection opened before it: the calls after the database is back
connect afresh, with no restart of the server.
"""

from __future__ import annotations

import sqlalchemy as sa

try:  # PostgreSQL's driver; absent, nothing of it can be raised
    from asyncpg.exceptions import (
        InterfaceError,
        OperatorInterventionError,
        PostgresConnectionError,
        TooManyConnectionsError,
    )

    _DRIVER: tuple[type[BaseException], ...] = (
        # connection lost, server shutting down or not yet accepting, connection closed
        PostgresConnectionError,
        OperatorInterventionError,
        InterfaceError,
    )
    _FULL: tuple[type[BaseException], ...] = (TooManyConnectionsError,)
except ImportError:  # pragma: no cover
    _DRIVER = _FULL = ()

_UNREACHABLE = (OSError, *_DRIVER)


def pool_exhausted(error: BaseException) -> bool:
    """No connection to be had: none of the pool's came free within its checkout
    timeout, or the database refused a new one (``max_connections`` reached, say by
    more processes than it was sized for)."""
    return isinstance(error, sa.exc.TimeoutError) or _caused_by(error, _FULL)


def unreachable(error: BaseException) -> bool:
    """The database could not be reached, or the connection broke under the call."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return _caused_by(error, _UNREACHABLE)


def _caused_by(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    # SQLAlchemy wraps its adapter's error, which wraps the driver's; opening a
    # connection raises the driver's own (refused, starting up) unwrapped.
    cause: BaseException | None = error
    for _depth in range(4):
        if cause is None:
            return False
        if isinstance(cause, kinds):
            return True
        cause = cause.__cause__ or (cause.orig if isinstance(cause, sa.exc.DBAPIError) else None)
    return False
