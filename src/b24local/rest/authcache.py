"""Callers already authenticated, reused until anything is committed to the store.

Resolving the portal, the webhook or token, and the user with their departments
is most of a short call's work. The answer cannot change while nothing is
committed, and SQLite tells cheaply whether anything was, by any connection of
any process (``PRAGMA data_version``; see :meth:`Store.data_version`). So an
entry is good for exactly as long as the version it was read under; any write —
a status change here, ``b24local webhook remove`` in another process — retires
every entry at once. Expiry is a matter of time, not of commits, so it is checked
against ``now`` on every use. Stores without such a version (PostgreSQL) cache
nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from .auth import Caller


@dataclass(frozen=True, slots=True)
class _Entry:
    caller: Caller
    version: int
    #: When the webhook or token stops working; None: never.
    expires_at: datetime | None


class AuthCache:
    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._seen: int | None = None

    def clear(self) -> None:
        """Forget every caller (a dev API reset; a commit retires them anyway)."""
        self._entries.clear()
        self._seen = None

    def get(self, key: Hashable, now: datetime, version: int | None) -> Caller | None:
        """The caller remembered for ``key``, if it was read under ``version``, the
        store's version at the start of this call's transaction."""
        if version is None:
            return None
        if version != self._seen:
            self._entries.clear()
            self._seen = version
            return None
        entry = self._entries.get(key)
        if entry is None or (entry.expires_at is not None and entry.expires_at <= now):
            return None
        self._entries.move_to_end(key)
        return entry.caller

    def put(
        self, key: Hashable, caller: Caller, version: int | None, expires_at: datetime | None
    ) -> None:
        """Remember ``caller``, read under ``version``."""
        if version is None or version != self._seen:
            return
        self._entries[key] = _Entry(caller, version, expires_at)
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
