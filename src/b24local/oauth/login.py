"""Logging in with a password: the one check the OAuth page and the web pages share.

A log-in is a row of :mod:`b24local.store.sessions` and a ``B24LOCAL_SESSION``
cookie holding its secret; either page's log-in is good for the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from b24local.entities import Portal
from b24local.store import credentials, users
from b24local.store.engine import Store

from . import throttle

SESSION_COOKIE = "B24LOCAL_SESSION"
SESSION_LIFETIME = timedelta(days=30)


async def check_password(
    store: Store, portal: Portal, login: str, password: str, attempt: throttle.Attempt,
    now: datetime,
) -> tuple[int | None, int | None]:  # fmt: skip
    """Whose login and password were posted (None: nobody's), or, if guessing is
    locked for the login or the address, how many seconds to wait. The attempt
    is counted; :func:`throttle.succeeded` takes it back once the caller is done."""
    async with store.transaction(write=True) as conn:
        wait = await throttle.begin(conn, attempt, now)
        if wait:
            # Locked whoever the login is: the answer tells nothing, so no hash is
            # worked out, and a locked guesser gets no more scrypt time from us.
            return None, wait
        account = await users.login_account(conn, portal.id, login)
    # Outside any transaction and off the event loop: scrypt takes tens of ms. An
    # unknown login costs the same work, so timing tells nothing.
    user_id, stored = account or (None, None)
    if not await credentials.verify_password(password, stored):
        user_id = None
    return user_id, wait
