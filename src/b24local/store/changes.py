"""What was committed, as the database itself tells it: the change log and the
caches it keeps exact.

Triggers (migration 0016) append a row to ``store_changes`` for every insert,
update and delete on the tables whose rows are cached: the table's name and the
portal and user the row belongs to. Whatever writes — this process, another
worker, another host, ``b24local`` from the command line, ``psql`` — the row is
committed with the change or not at all. Each process reads the rows it has not
seen before it answers from a cache (:class:`ChangeFeed`), and retires only the
entries that depend on what changed: a status change retires that person's
presence, not every caller and row the process knows.

A cache entry names what it was read from as *tags*: ``(table,)`` for a lookup
that may depend on any row of the table (a portal by host name, a token by its
hash), ``(table, portal)`` for one portal's rows, ``(table, portal, user)`` for
one person's. A change to table ``t`` of portal ``p`` and user ``u`` retires
the tags ``(t,)``, ``(t, p)`` and ``(t, p, u)``; a change whose portal or user is
not known (NULL) retires every tag of its table that it could touch.

An entry is put only if none of its tags was retired after the reader's
generation (the feed's count of readings that retired something, taken before
the rows were read): a row read just before a change and put just after the
change was seen would otherwise outlive it.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

#: The tables whose changes are logged, with the columns naming a row's portal and
#: user (None: the table has no user column). Migration 0016 installs the triggers
#: for exactly these; tests/unit/test_changes.py checks that they agree and that
#: they are there at the newest revision. A later migration that rebuilds one of
#: these tables on SQLite (a batch "move and copy") drops its triggers: it must
#: create them again.
TRACKED: dict[str, tuple[str, str | None]] = {
    "portals": ("id", None),
    "users": ("portal_id", "id"),
    "user_departments": ("portal_id", "user_id"),
    "presence": ("portal_id", "user_id"),
    "webhooks": ("portal_id", "user_id"),
    "access_tokens": ("portal_id", "user_id"),
    "apps": ("portal_id", None),
    "workdays": ("portal_id", "user_id"),
    "timeman_settings": ("portal_id", "user_id"),
    "network_ranges": ("portal_id", None),
    "work_schedules": ("portal_id", None),
    "settings": ("portal_id", None),
    "timecontrol_records": ("portal_id", "user_id"),
}

#: How long a change stays in the log. A process that has not read the log for
#: :data:`STALE_AFTER` may have missed pruned rows, so it forgets every entry.
RETENTION_SECONDS = 300
STALE_AFTER = RETENTION_SECONDS / 3
#: The most changes one reading retires one by one; a process that finds more (a
#: bulk import) forgets every entry instead of holding them all in memory at once.
READ_AT_MOST = 10_000
#: How often one process prunes the log (in a write transaction of its own choosing).
PRUNE_EVERY = 60.0

#: The table name of a change that retires everything (a restore).
EVERYTHING = "*"

Tag = tuple[Any, ...]
#: One logged change: table, portal (or None), user (or None).
Change = tuple[str, int | None, int | None]


def tags_of_change(table: str, portal: int | None, user: int | None) -> tuple[Tag, ...] | None:
    """The tags a change retires, or None when it may touch any tag of its table."""
    if portal is None:
        return None
    if user is None:
        tracked = TRACKED.get(table)
        if tracked is not None and tracked[1] is not None:
            return None  # a row of some person, not known which
        return ((table,), (table, portal))
    return ((table,), (table, portal), (table, portal, user))


class TaggedCache:
    """Values by key, each tagged with what it was read from; bounded, the oldest
    entry leaving first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[Any, tuple[Tag, ...]]] = OrderedDict()
        #: Tag -> keys of the entries carrying it.
        self._keys: dict[Tag, set[Hashable]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(list(self._entries))

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._entries.get(key)
        return default if entry is None else entry[0]

    def touch(self, key: Hashable) -> None:
        """Mark ``key`` as recently used (an LRU cache)."""
        if key in self._entries:
            self._entries.move_to_end(key)

    def put(self, key: Hashable, value: Any, tags: tuple[Tag, ...]) -> None:
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (value, tags)
        for tag in tags:
            self._keys.setdefault(tag, set()).add(key)
        if len(self._entries) > self._size:
            self._drop(next(iter(self._entries)))

    def retire(self, tag: Tag) -> None:
        for key in self._keys.pop(tag, ()):
            self._drop(key, skip=tag)

    def retire_table(self, table: str) -> None:
        for tag in [tag for tag in self._keys if tag[0] == table]:
            self.retire(tag)

    def clear(self) -> None:
        self._entries.clear()
        self._keys.clear()

    def _drop(self, key: Hashable, skip: Tag | None = None) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[1]:
            if tag == skip:
                continue
            keys = self._keys.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys[tag]


class ChangeFeed:
    """One process's reading of the change log, and the caches it keeps exact.

    The store reads the log (how depends on the database) and hands each batch of
    changes to :meth:`apply`; the caches ask :meth:`may_put` before they keep what
    a reader read.
    """

    #: Retired tags remembered for :meth:`may_put`; beyond, every older put is refused.
    _REMEMBERED = 50_000

    def __init__(self) -> None:
        self.caches: list[TaggedCache] = []
        #: Readings that retired something (or forgot everything) so far.
        self.generation = 0
        self._retired_at: dict[Tag, int] = {}
        self._tables_retired_at: dict[str, int] = {}
        #: Puts read before this generation are refused (the memory above was cut).
        self._floor = 0
        self._read_at = time.monotonic()
        self._pruned_at = time.monotonic()
        #: Positions in the log (see :meth:`prune_below`) by when they were noted.
        self._marks: deque[tuple[float, Any]] = deque()

    def cache(self, size: int) -> TaggedCache:
        made = TaggedCache(size)
        self.caches.append(made)
        return made

    def apply(self, changes: Iterable[Change]) -> None:
        """Retire what ``changes`` touch, in every cache."""
        self._read_at = time.monotonic()
        changes = list(changes)
        if not changes:
            return
        if any(table == EVERYTHING for table, _portal, _user in changes):
            self.forget_all()
            return
        self.generation += 1
        generation = self.generation
        for table, portal, user in set(changes):
            tags = tags_of_change(table, portal, user)
            if tags is None:
                self._tables_retired_at[table] = generation
                for cache in self.caches:
                    cache.retire_table(table)
                continue
            for tag in tags:
                self._retired_at[tag] = generation
                for cache in self.caches:
                    cache.retire(tag)
        if len(self._retired_at) > self._REMEMBERED:
            self._retired_at.clear()
            self._tables_retired_at.clear()
            self._floor = generation

    def forget_all(self) -> None:
        """Empty every cache (a reset, a log that may have been pruned unread)."""
        self.generation += 1
        self._floor = self.generation
        self._retired_at.clear()
        self._tables_retired_at.clear()
        for cache in self.caches:
            cache.clear()
        self._read_at = time.monotonic()

    def stale(self) -> bool:
        """Whether the log may have lost rows this process never read."""
        return time.monotonic() - self._read_at > STALE_AFTER

    def may_put(self, tags: tuple[Tag, ...], read_at: int) -> bool:
        """Whether rows read at generation ``read_at`` with ``tags`` are still true."""
        if read_at < self._floor:
            return False
        retired = self._retired_at
        tables = self._tables_retired_at
        for tag in tags:
            if retired.get(tag, 0) > read_at or tables.get(tag[0], 0) > read_at:
                return False
        return True

    def prune_due(self) -> bool:
        """True at most once per :data:`PRUNE_EVERY` seconds: this process prunes then."""
        moment = time.monotonic()
        if moment - self._pruned_at < PRUNE_EVERY:
            return False
        self._pruned_at = moment
        return True

    def prune_below(self, position: Any) -> Any:
        """Note ``position``, where the log stood when this process read it: the
        changes before it had all committed (SQLite: the last change read;
        PostgreSQL: the reading's snapshot). Answer the newest position noted at
        least :data:`RETENTION_SECONDS` ago (None if none yet): only changes
        before it may be pruned. A change's time is when it was written, and one
        written long before its transaction committed would otherwise be pruned
        before a process that is not stale had read it."""
        moment = time.monotonic()
        if position is not None:
            self._marks.append((moment, position))
        below = None
        while self._marks and moment - self._marks[0][0] >= RETENTION_SECONDS:
            below = self._marks.popleft()[1]
        return below
