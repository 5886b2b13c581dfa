"""SQLite transactions: statements inline on the event loop, writes committed in groups.

An embedded SQLite lookup by key takes microseconds: less than handing it to a
worker thread and back (aiosqlite does that several times per statement), and less
than SQLAlchemy's bookkeeping of checking out a connection and opening a
transaction. So transactions run on connections held open for the life of the
store, their statements executed right on the event loop's thread through a plain
(synchronous) SQLAlchemy connection, and ``BEGIN``/``COMMIT`` are sent to SQLite
directly. Only what may wait goes to a worker thread: ``COMMIT`` of a write (an
fsync), and ``BEGIN IMMEDIATE`` when another process holds the write lock.

Reads begin their transaction at their first statement that the row cache
(:mod:`b24local.store.snapshot`) cannot answer; a call whose lookups are all cached
never touches the database beyond one ``PRAGMA data_version`` (and, when that
moved, one read of the change log: :mod:`b24local.store.changes`).

Writes are serialised, as SQLite serialises them anyway, and committed in groups:
the calls that queue up while one group commits join the next group's transaction,
each inside a savepoint of its own, and one fsync makes all of them durable. A call
whose savepoint is rolled back leaves nothing behind; a call that succeeded is
answered only once the group's ``COMMIT`` returned, so nothing is acknowledged before
it is on disk. Under light load a group is one call, committed at once.

Under load the event loop's turns are long (each runs every read that arrived), so
a write costs as many of them as it waits for. Groups therefore pass from one to the
next in one place: the callback that sees a ``COMMIT`` return opens the next group
and admits every call queued for it at once, so a write waits at most for the group
committing when it arrived and one ``COMMIT`` of its own, a few turns in all, however
many writers queue.

Each of those hand-offs — a worker thread reporting back through a callback, a
future waking the task that awaits it — costs one more turn. So while turns are
long, a waiting write does not sleep on a future: it looks once per turn whether
the thread is done, and the first waiter to see it does the callback's work then
and there (answers the group, opens the next, admits the queue). Everyone waiting
sees the outcome in that same turn, so a write queued behind a committing group
runs in the first turn after that ``COMMIT`` returned and is answered in the first
turn after its own. When turns are short (a quiet loop) it sleeps on the future
instead, as looking would only spin; the thread's callback wakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import FrozenResult, Result

from .changes import READ_AT_MOST, RETENTION_SECONDS, ChangeFeed
from .snapshot import MISSING, RowCache, is_prebuilt, key_of

T = TypeVar("T")

#: At most this many calls share one commit, so a steady stream of writes still
#: gets answered.
MAX_GROUP = 64
#: Idle read connections kept open; more are opened when calls overlap.
IDLE_READERS = 8
#: A turn of the event loop at least this long (seconds) is worth saving: a
#: waiting write looks each turn whether it may go on rather than sleeping on a
#: future, which costs one more turn to wake it. Shorter turns mean a quiet loop,
#: where looking would spin.
LONG_TURN = 0.001


def _raw(conn: Connection) -> sqlite3.Connection:
    return conn.connection.dbapi_connection  # type: ignore[return-value]


class _Written:
    """What a prebuilt write that returns no rows, run by its plan, answers."""

    __slots__ = ("rowcount",)

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount


class _Plan:
    """A prebuilt statement compiled once, run straight on the driver.

    SQLAlchemy's execution machinery costs several times what SQLite takes to
    answer a lookup by key. The plan keeps what SQLAlchemy worked out the first
    time — the SQL, the order of its parameters, each type's conversions — and
    the shape of the result, so later runs only convert, execute and wrap.
    """

    __slots__ = ("_binds", "_compiled", "_names", "_results", "_sql", "_template")

    def __init__(self, statement: Any, dialect: Any, template: FrozenResult | None) -> None:
        compiled = statement.compile(dialect=dialect)
        self._compiled = compiled
        self._sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self._names
        )
        #: The shape of a ``SELECT``'s result; None for a statement that returns no rows.
        self._template = template
        self._results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in (statement.selected_columns if template is not None else ())
        )

    @staticmethod
    def fits(statement: Any, dialect: Any) -> bool:
        """Plain ``SELECT``s, and writes that return nothing, whose SQL does not
        depend on the parameters (an expanding ``IN`` list does)."""
        selects = getattr(statement, "is_select", False)
        writes = getattr(statement, "is_dml", False)
        if not (selects or (writes and not statement.returning_column_descriptions)):
            return False
        compiled = statement.compile(dialect=dialect)
        return bool(
            compiled.positional
            and not compiled.post_compile_params
            and not compiled.literal_execute_params
        )

    def run(self, raw: sqlite3.Connection, parameters: Any) -> FrozenResult | _Written:
        values = self._compiled.construct_params(parameters)
        args = tuple(
            values[name] if bind is None else bind(values[name])
            for name, bind in zip(self._names, self._binds, strict=True)
        )
        cursor = raw.execute(self._sql, args)
        if self._template is None:
            return _Written(cursor.rowcount)
        results = self._results
        rows = [
            tuple(
                value if convert is None else convert(value)
                for convert, value in zip(results, row, strict=True)
            )
            for row in cursor.fetchall()
        ]
        return self._template.with_new_rows(rows)


class Session:
    """One transaction, with what the store modules use of
    :class:`~sqlalchemy.ext.asyncio.AsyncConnection`."""

    __slots__ = ("_begun", "_conn", "_lender", "_plans", "_raw", "_rows", "generation")

    #: A failed statement leaves SQLite's transaction usable.
    failures_abort = False
    #: A lookup here costs less than a batch's second parse of its commands: no
    #: prefetch (store/prefetch.py).
    prefetches = False

    def __init__(
        self,
        conn: Connection | None,
        plans: dict[Any, _Plan | None],
        *,
        rows: RowCache | None,
        generation: int,
        begun: bool,
        raw: sqlite3.Connection | None = None,
        lender: SqliteTransactions | None = None,
    ) -> None:
        #: None until a read's first statement the cache cannot answer: then a
        #: connection is borrowed from ``lender``.
        self._conn = conn
        self._raw = raw if raw is not None or conn is None else _raw(conn)
        self._lender = lender
        self._plans = plans
        #: The snapshot row cache; None in a write, which must see its own changes.
        self._rows = rows
        #: The change feed's generation when the transaction began (see ``fresh()``):
        #: what it reads is put in a cache only if nothing it read has changed since.
        self.generation = generation
        self._begun = begun

    @property
    def row_cache(self) -> RowCache | None:
        """The row cache a read answers from (None in a write): a batch's prefetch
        puts rows there (store/prefetch.py)."""
        return self._rows

    @property
    def dialect(self):
        if self._conn is None:
            assert self._lender is not None
            return self._lender._engine.dialect
        return self._conn.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result:
        if kwargs or not is_prebuilt(statement):
            self._begin()
            return self._conn.execute(statement, parameters, **kwargs)
        key = key_of(statement, parameters)
        rows = self._rows
        if key is not None and rows is not None:
            hit = rows.get(key)
            if hit is not None:
                return hit()
        self._begin()
        outcome = self._prebuilt(statement, parameters)
        if not isinstance(outcome, FrozenResult):
            return outcome  # type: ignore[return-value]  # what a write needs: rowcount
        if key is not None and rows is not None:
            rows.put(key, outcome, self.generation)
        return outcome()

    async def make(self, statement: Any, parameters: Any, convert: Callable[[Result], T]) -> T:
        """``convert`` of the statement's result. For a ``cached`` statement in a read,
        what it made is kept with the rows: converters must be pure, and what they
        make immutable."""
        key = key_of(statement, parameters)
        rows = self._rows
        if key is None or rows is None:
            return convert(await self.execute(statement, parameters))
        made_key = (key, convert)
        made = rows.made(made_key)
        if made is MISSING:
            made = convert(await self.execute(statement, parameters))
            rows.keep_made(made_key, made, self.generation)
        return made

    def _prebuilt(self, statement: Any, parameters: Any) -> FrozenResult | _Written | Result:
        """Run a prebuilt statement: by its plan once there is one. A ``SELECT``
        answers frozen rows."""
        plan = self._plans.get(statement)
        if plan is not None:
            return plan.run(self._raw, parameters)
        result = self._conn.execute(statement, parameters)
        selects = getattr(statement, "is_select", False)
        outcome = result.freeze() if selects else result
        if statement not in self._plans:
            dialect = self._conn.dialect
            template = outcome if isinstance(outcome, FrozenResult) else None
            fits = _Plan.fits(statement, dialect)
            self._plans[statement] = _Plan(statement, dialect, template) if fits else None
        return outcome

    def _begin(self) -> None:
        if not self._begun:
            if self._conn is None:
                assert self._lender is not None
                self._conn, self._raw = self._lender._checkout()
            self._raw.execute("BEGIN")  # type: ignore[union-attr]
            self._begun = True

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        """A savepoint: rolled back alone if the block fails."""
        self._begin()
        with self._conn.begin_nested():
            yield

    def end(self, *, commit: bool) -> None:
        """End a read transaction (a write's group ends it)."""
        if self._begun:
            self._raw.execute("COMMIT" if commit else "ROLLBACK")
            self._begun = False


class _Read:
    """A read transaction: ``async with transactions.read() as session``. It borrows
    a connection only for a statement the row cache cannot answer, so a call that
    awaits something else meanwhile (limits kept in Redis) holds none.

    A class rather than a generator-based context manager: every call opens one,
    and this is the cheaper of the two.
    """

    __slots__ = ("_owner", "_session")

    def __init__(self, owner: SqliteTransactions) -> None:
        self._owner = owner

    async def __aenter__(self) -> Session:
        owner = self._owner
        self._session = Session(
            None, owner._plans, rows=owner._rows, generation=owner.fresh(), begun=False,
            lender=owner,
        )  # fmt: skip
        return self._session

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        session = self._session
        try:
            session.end(commit=kind is None)
        finally:
            if session._conn is not None:
                self._owner._checkin(session._conn, session._raw)  # type: ignore[arg-type]


class _Write:
    """A write call's transaction: a savepoint in its group's (see the module notes)."""

    __slots__ = ("_group", "_owner", "_raw")

    def __init__(self, owner: SqliteTransactions) -> None:
        self._owner = owner

    async def __aenter__(self) -> Session:
        owner = self._owner
        group = await owner._join()
        try:
            # Uncontended (no suspension) unless a member's call awaits inside its
            # transaction: the members take turns.
            await owner._lock.acquire()
        except BaseException:
            owner._leave(group)
            raise
        try:
            writer = owner._writer
            assert writer is not None
            raw = _raw(writer)
            owner.prune_log(raw)
            raw.execute("SAVEPOINT b24local_call")
        except BaseException:
            owner._lock.release()
            owner._leave(group)
            raise
        self._group, self._raw = group, raw
        # Callers cached are still good (see rest/authcache.py); rows are read afresh.
        return Session(
            writer, owner._plans, rows=None, generation=owner.fresh(), begun=True, raw=raw
        )

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        owner, group, raw = self._owner, self._group, self._raw
        answer = None
        try:
            if kind is None:
                raw.execute("RELEASE b24local_call")
                answer = group.member()
            else:
                raw.execute("ROLLBACK TO b24local_call")
                raw.execute("RELEASE b24local_call")
        finally:
            owner._lock.release()
            owner._leave(group)
        if answer is not None:
            # Answer only once the group is on disk.
            await owner._until(answer)


class _Group:
    """Write calls sharing one transaction and one commit."""

    __slots__ = ("admitted", "answers", "pending")

    def __init__(self) -> None:
        #: Calls let into the group; at most MAX_GROUP.
        self.admitted = 0
        #: Calls let in that have not finished: the group commits when none is left.
        self.pending = 0
        #: What each call whose changes the commit makes durable awaits: a future of
        #: its own, so that cancelling one call cancels nobody else's.
        self.answers: list[asyncio.Future[None]] = []

    def admit(self) -> _Group:
        self.admitted += 1
        self.pending += 1
        return self

    def member(self) -> asyncio.Future[None]:
        answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.answers.append(answer)
        return answer

    def answer(self, error: BaseException | None) -> None:
        for answer in self.answers:
            if answer.done():
                continue  # its call was cancelled
            if error is None:
                answer.set_result(None)
            else:
                answer.set_exception(error)


class _Hop:
    """A worker thread's report: set by the thread, taken on the loop."""

    __slots__ = ("done", "error", "then")

    def __init__(self, then: Callable[[BaseException | None], None]) -> None:
        self.then = then
        self.error: BaseException | None = None
        self.done = False


class SqliteTransactions:
    """Hands out read and write transactions on one SQLite database."""

    def __init__(self, engine: Engine, feed: ChangeFeed) -> None:
        self._engine = engine
        #: Read connections not in use, with their driver connections.
        self._idle: list[tuple[Connection, sqlite3.Connection]] = []
        #: What this process knows of the change log, and the caches it keeps exact.
        self.feed = feed
        self._rows = RowCache(feed)
        self._plans: dict[Any, _Plan | None] = {}
        database = engine.url.database
        assert database is not None
        self._watcher = sqlite3.connect(database, check_same_thread=False)
        self._known_version: int | None = None
        #: The ``data_version`` at the last reading of the change log, and the last
        #: change read (None: the log is yet to be read, or missing).
        self._log_version: int | None = None
        self._log_seq: int | None = None
        self._writer: Connection | None = None
        #: The writer's busy timeout (ms), restored after a ``BEGIN IMMEDIATE`` that
        #: must not wait on the loop.
        self._busy_timeout = 0
        #: Held by the write call running in the group: one at a time.
        self._lock = asyncio.Lock()
        #: The group admitting calls: its transaction is open.
        self._group: _Group | None = None
        #: Calls waiting for the next group, in order of arrival.
        self._waiting: deque[asyncio.Future[_Group]] = deque()
        #: A ``BEGIN IMMEDIATE`` or ``COMMIT`` in a worker thread: the writer
        #: connection is the thread's until it reports back.
        self._in_thread: asyncio.Future[None] | None = None
        #: What that thread reports, as soon as it is done.
        self._hop: _Hop | None = None

    def fresh(self) -> int:
        """Bring the caches up to date with every commit, by any connection of any
        process, that a call now running could know of; answer the feed's generation.

        ``PRAGMA data_version``, read on the watcher (which never writes), changes
        whenever anything was committed; only then is the change log read. One
        reading serves every call that runs before :meth:`_forget_version`, queued
        when it was taken. Those calls were all received before the reading, so it
        shows every commit their clients could have known of; whatever the next poll
        for I/O delivers (a new request, a finished commit) runs after the forgetting
        and reads afresh. Under load this saves most readings, which cost a lock on
        the WAL index each.

        A call's cached rows are as of the reading, and what it reads from the
        database is as of its first statement: a commit landing in between can show
        in the one and not the other. That is the read-committed contract PostgreSQL
        reads have here too, each statement with its own snapshot."""
        known = self._known_version
        if known is None:
            known = self._watcher.execute("PRAGMA data_version").fetchone()[0]
            self._known_version = known
            asyncio.get_running_loop().call_soon(self._forget_version)
            if known != self._log_version:
                self._read_log()
                self._log_version = known
            elif self._log_seq is not None:
                # Nothing committed since the last reading, so nothing pruned:
                # the log is as good as read now.
                self.feed.apply(())
        return self.feed.generation

    def _read_log(self) -> None:
        watcher, feed = self._watcher, self.feed
        try:
            rows: list[Any] = []
            afresh = self._log_seq is None or feed.stale()
            if not afresh:
                rows = watcher.execute(
                    "SELECT seq, tbl, portal_id, user_id FROM store_changes "
                    "WHERE seq > ? ORDER BY seq LIMIT ?",
                    (self._log_seq, READ_AT_MOST + 1),
                ).fetchall()
                afresh = len(rows) > READ_AT_MOST
            if afresh:
                # Rows this process never read may have been pruned, or there are
                # too many changes to retire one by one: forget everything, and
                # read on from the newest change.
                top = watcher.execute("SELECT MAX(seq) FROM store_changes").fetchone()[0]
                feed.forget_all()
                self._log_seq = top or 0
                return
        except sqlite3.OperationalError:
            # No change log (a database not yet migrated): nothing can stay cached.
            feed.forget_all()
            self._log_seq = None
            return
        if rows:
            self._log_seq = rows[-1][0]
        feed.apply((table, portal, user) for _seq, table, portal, user in rows)

    def prune_log(self, raw: sqlite3.Connection) -> None:
        """Drop changes older than the log's retention, now and then, in the open
        write group (before the call's savepoint: kept whatever the call does)."""
        if not self.feed.prune_due():
            return
        # SQLite commits in seq order: every change up to the last one read had
        # committed when it was read.
        below = self.feed.prune_below(self._log_seq) or 0
        with contextlib.suppress(sqlite3.OperationalError):
            raw.execute(
                "DELETE FROM store_changes WHERE seq <= ? "
                "AND changed_at < (julianday('now') - 2440587.5) * 86400.0 - ?",
                (below, RETENTION_SECONDS),
            )

    def _forget_version(self) -> None:
        self._known_version = None

    def read(self) -> _Read:
        return _Read(self)

    def _checkout(self) -> tuple[Connection, sqlite3.Connection]:
        if self._idle:
            return self._idle.pop()
        conn = self._engine.connect()
        return conn, _raw(conn)

    def _checkin(self, conn: Connection, raw: sqlite3.Connection) -> None:
        if len(self._idle) < IDLE_READERS:
            self._idle.append((conn, raw))
        else:
            conn.close()

    def write(self) -> _Write:
        return _Write(self)

    async def _join(self) -> _Group:
        """A place in the open group, in a new one, or in the queue for the next."""
        group = self._group
        if group is not None and group.admitted < MAX_GROUP:
            return group.admit()
        if group is None and self._in_thread is None and not self._waiting:
            group = self._begin()
            if group is not None:
                return group.admit()
        waiter: asyncio.Future[_Group] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await self._until(waiter)
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._leave(waiter.result())  # admitted, then cancelled before it ran
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _leave(self, group: _Group) -> None:
        """A call is done with its group: the last one out commits it."""
        group.pending -= 1
        if group.pending == 0:
            self._commit(group)

    def _begin(self) -> _Group | None:
        """Open a group with ``BEGIN IMMEDIATE`` on the loop: it takes microseconds
        while no other process holds the write lock. If one does, begin in a worker
        thread (SQLite's busy handler sleeps) and admit the queue when it returns;
        None then."""
        if self._writer is None:
            self._writer = self._engine.connect()
            raw = _raw(self._writer)
            self._busy_timeout = raw.execute("PRAGMA busy_timeout").fetchone()[0]
        raw = _raw(self._writer)
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        else:
            self._group = _Group()
            return self._group
        finally:
            raw.execute(f"PRAGMA busy_timeout={self._busy_timeout}")
        self._to_thread(lambda: raw.execute("BEGIN IMMEDIATE"), self._begun)
        return None

    def _begun(self, error: BaseException | None) -> None:
        if error is not None:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_exception(error)
            return
        self._group = _Group()
        self._admit(self._group)

    def _admit(self, group: _Group) -> None:
        """Let the queue into ``group``, all at once: they run in the next turn."""
        while self._waiting and group.admitted < MAX_GROUP:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(group.admit())
        if group.pending == 0:
            self._commit(group)  # everyone queued had gone: an empty transaction

    def _commit(self, group: _Group) -> None:
        self._group = None
        raw = _raw(self._writer)  # type: ignore[arg-type]

        def commit() -> None:
            try:
                raw.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")
                raise

        self._to_thread(commit, lambda error: self._committed(group, error))

    def _committed(self, group: _Group, error: BaseException | None) -> None:
        if error is None:
            # Calls answered after this see the commit: read the version afresh.
            self._known_version = None
        else:
            # The members saw each other's changes, now undone, and may have cached
            # callers built from them; no change in the log will retire those.
            self.feed.forget_all()
        group.answer(error)
        # The next group begins once the last has committed: SQLite has one writer.
        while self._waiting and self._waiting[0].done():
            self._waiting.popleft()  # cancelled while queued
        if self._waiting:
            try:
                group = self._begin()
            except Exception as failure:
                self._begun(failure)
            else:
                if group is not None:
                    self._admit(group)

    def _to_thread(
        self, work: Callable[[], object], then: Callable[[BaseException | None], None]
    ) -> None:
        """Run ``work`` on the writer in a worker thread, then ``then(error)`` on the
        loop: called by the first waiting write to see the thread done (see
        :meth:`_until`), or else by the callback the thread schedules, whichever
        comes first. Either takes one turn of the loop at most, where awaiting the
        thread's future would take several."""
        loop = asyncio.get_running_loop()
        hop = self._hop = _Hop(then)

        def run() -> None:
            try:
                work()
            except BaseException as failure:
                hop.error = failure
            hop.done = True  # after the error: a waiter may look at any moment
            loop.call_soon_threadsafe(self._back_from_thread, hop)

        self._in_thread = loop.run_in_executor(None, run)

    def _back_from_thread(self, hop: _Hop) -> None:
        if hop is not self._hop:
            return  # a waiting write took the report first
        self._hop = self._in_thread = None
        hop.then(hop.error)

    async def _until(self, future: asyncio.Future[T]) -> T:
        """``await future``, sooner while turns are long (see the module notes)."""
        loop = asyncio.get_running_loop()
        try:
            while not future.done():
                hop = self._hop
                if hop is not None and hop.done:
                    self._back_from_thread(hop)
                    continue
                started = loop.time()
                await asyncio.sleep(0)
                if not future.done() and loop.time() - started < LONG_TURN:
                    break  # a quiet loop: sleep until woken
        except BaseException:
            future.cancel()  # as ``await future`` does when its task is cancelled
            raise
        return await future

    async def close(self) -> None:
        while self._in_thread is not None:
            with contextlib.suppress(Exception):
                await self._in_thread
            await asyncio.sleep(0)  # its report back to the loop comes right after
        for conn, _raw_conn in self._idle:
            conn.close()
        self._idle.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._watcher.close()
