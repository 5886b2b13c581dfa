"""Limits on guessing passwords at the log-in page.

Failures are counted per login (on its portal) and per client address. Ten
failures for one login within 15 minutes lock that login for 15 minutes; thirty
from one address (across any logins: someone trying many accounts, or a few people
behind one NAT mistyping) lock the address. A locked attempt is answered 429 with
``Retry-After``, whether the login exists or not and whatever the password.

An attempt is counted *before* its password is checked, and taken back if the
password was right: attempts sent at once cannot all pass a limit not yet reached.
The counters live in the database, so every server process on it shares them and
a restart does not clear them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.store import credentials, login_failures

WINDOW = timedelta(minutes=15)
PER_LOGIN = 10
PER_ADDRESS = 30
#: Longer than any login (an e-mail address is at most 254 characters).
_LONGEST_LOGIN = 320


@dataclass(frozen=True, slots=True)
class Attempt:
    """The counters one posted log-in form is counted against."""

    login_key: str
    address_key: str

    @classmethod
    def of(cls, portal_id: int, login: str, address: str) -> Attempt:
        return cls(
            credentials.digest(f"login\0{portal_id}\0{_normal(login)}"),
            credentials.digest(f"address\0{address}"),
        )

    @property
    def limits(self) -> tuple[tuple[str, int], ...]:
        return ((self.login_key, PER_LOGIN), (self.address_key, PER_ADDRESS))


def _normal(login: str) -> str:
    """The login as :func:`b24local.store.users.login_account` reads it: ``01`` is
    user 1, e-mail addresses in any case are one."""
    login = login.strip()[:_LONGEST_LOGIN].lower()
    return (login.lstrip("0") or "0") if login.isascii() and login.isdigit() else login


async def begin(conn: AsyncConnection, attempt: Attempt, now: datetime) -> int | None:
    """Count ``attempt`` as a failure, or, if a counter is locked, count nothing and
    answer how many seconds to wait."""
    await login_failures.drop_expired(conn, now)
    claimed = [
        (key, limit, await login_failures.claim(conn, key, now)) for key, limit in attempt.limits
    ]
    ends = [
        row.expires_at
        for _key, limit, row in claimed
        if row.failures >= limit and row.expires_at > now
    ]
    if ends:
        return max(1, math.ceil((max(ends) - now).total_seconds()))
    for key, limit, row in claimed:
        await login_failures.count(conn, key, row, limit=limit, window=WINDOW, now=now)
    return None


def locked_minutes(wait: int) -> int:
    """A wait of ``wait`` seconds as people are told it: whole minutes, rounded up."""
    return math.ceil(wait / 60)


def locked_message(wait: int) -> str:
    """What the page says to a locked attempt: the same for every login, known or not."""
    minutes = locked_minutes(wait)
    return (
        "Too many failed log-in attempts for this login or from this address. "
        f"Try again in {minutes} minute{'s' if minutes > 1 else ''}."
    )


async def succeeded(conn: AsyncConnection, attempt: Attempt) -> None:
    """The password was right: the login's failures are forgiven (only its owner
    knows it); the address only gets this attempt back, so that an account of one's
    own does not reset the count of guesses at others'."""
    await login_failures.forget(conn, attempt.login_key)
    await login_failures.take_back(conn, attempt.address_key)
