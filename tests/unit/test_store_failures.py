"""Which failures are the database's own: as SQLAlchemy wraps them, and as a new
connection raises them unwrapped."""

from __future__ import annotations

import sqlalchemy as sa
from asyncpg.exceptions import (
    CannotConnectNowError,
    TooManyConnectionsError,
    UniqueViolationError,
)

from b24local.store import failures


def wrapped(driver_error: Exception) -> sa.exc.DBAPIError:
    """As SQLAlchemy raises it: its error around its adapter's, around the driver's."""
    adapter = Exception(str(driver_error))
    adapter.__cause__ = driver_error
    return sa.exc.DBAPIError("SELECT 1", {}, adapter)


def test_the_database_starting_up_or_refusing_is_unreachable():
    assert failures.unreachable(wrapped(CannotConnectNowError("starting up")))
    assert failures.unreachable(ConnectionRefusedError(111, "refused"))
    assert not failures.pool_exhausted(ConnectionRefusedError(111, "refused"))


def test_no_connection_to_be_had_is_busy_not_unreachable():
    assert failures.pool_exhausted(sa.exc.TimeoutError("QueuePool limit reached"))
    full = wrapped(TooManyConnectionsError("sorry, too many clients already"))
    assert failures.pool_exhausted(full)
    assert not failures.unreachable(full)


def test_a_failing_statement_is_neither():
    broken = wrapped(UniqueViolationError("duplicate key"))
    assert not failures.unreachable(broken)
    assert not failures.pool_exhausted(broken)
    assert not failures.unreachable(ValueError("a bug"))
