"""Callers already authenticated, reused until the rows they were built from change.

Resolving the portal, the webhook or token, and the user with their departments
is most of a short call's work. The answer holds until one of those rows changes,
and the change log tells every process when one does
(:mod:`b24local.store.changes`): a caller is kept under the tags of what it was
built from — any portal (a new one may claim the host name), and the caller's
portal's webhooks, tokens and applications, the user's row and departments — so
a status change or a workday leaves it alone, while ``b24local webhook remove``
from another process retires it. Expiry is a matter of time, not of commits, so
it is checked against ``now`` on every use.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from b24local.store.changes import ChangeFeed, Tag

from .auth import Caller


@dataclass(frozen=True, slots=True)
class _Entry:
    caller: Caller
    #: When the webhook or token stops working; None: never.
    expires_at: datetime | None


def tags_of(caller: Caller) -> tuple[Tag, ...]:
    """The rows a caller was built from, as change-log tags."""
    portal, user = caller.portal.id, caller.user.id
    return (
        ("portals",),
        ("users", portal, user),
        ("user_departments", portal, user),
        ("webhooks", portal),
        ("access_tokens", portal),
        ("apps", portal),
    )


class AuthCache:
    def __init__(self, feed: ChangeFeed, size: int = 10_000) -> None:
        self._feed = feed
        self._entries = feed.cache(size)

    def clear(self) -> None:
        """Forget every caller (a dev API reset)."""
        self._entries.clear()

    def get(self, key: Hashable, now: datetime) -> Caller | None:
        """The caller remembered for ``key``, unless it has expired."""
        entry: _Entry | None = self._entries.get(key)
        if entry is None or (entry.expires_at is not None and entry.expires_at <= now):
            return None
        self._entries.touch(key)
        return entry.caller

    def put(
        self, key: Hashable, caller: Caller, generation: int, expires_at: datetime | None
    ) -> None:
        """Remember ``caller``, built by a transaction that began at ``generation``
        of the change feed, unless what it was built from has changed since."""
        tags = tags_of(caller)
        if self._feed.may_put(tags, generation):
            self._entries.put(key, _Entry(caller, expires_at), tags)
