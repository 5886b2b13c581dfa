"""Reset, named snapshots and health: the ``--dev`` controls over the whole state.

The reset point is the database as it was right after start (the seed or the
first-start bootstrap applied), captured when the app's lifespan opens the store.
A reset or a restore puts every table's rows back (:mod:`b24local.store.capture`)
and then clears what the process keeps in memory (``Runtime.reset_memory``: rate
limits, the caller cache, forced faults, the event sender's memory of handlers,
and whatever else registered a hook), so a test starts from the same place
whatever the one before it did.

Snapshots live in the server's memory, bounded in number; a name is a short
string of safe characters, so it can sit in a URL unescaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b24local import __version__
from b24local.devapi import _answer, _error, _route
from b24local.rest.errors import ErrorSpec
from b24local.store.capture import Snapshot, capture, restore
from b24local.store.tables import portals

if TYPE_CHECKING:
    from b24local.app import Runtime

#: Snapshots one server keeps at most; saving another under a new name is refused.
MAX_SNAPSHOTS = 32
#: A snapshot's name: 1 to 64 letters, digits, ``.``, ``_`` and ``-``, starting with
#: a letter or digit (so never ``.`` or ``..``, which a URL would not keep).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: How long a health check waits for the store before calling it down.
HEALTH_TIMEOUT = 5.0

NO_SNAPSHOT = ErrorSpec("NOT_FOUND", 404, "No snapshot of that name")
BAD_NAME = ErrorSpec("ERROR_ARGUMENT", 400, "Bad snapshot name")
TOO_MANY = ErrorSpec("ERROR_ARGUMENT", 400, "Too many snapshots")
NO_RESET_POINT = ErrorSpec("NOT_READY", 409, "The server has not finished starting")
STORE_FAILED = ErrorSpec(
    "STORE_UNAVAILABLE", 503, "The store failed (see the server's log); nothing was changed"
)

log = logging.getLogger("b24local.dev")


@dataclass(frozen=True, slots=True)
class Taken:
    snapshot: Snapshot
    taken_at: datetime


@dataclass
class DevState:
    """The reset point and the named snapshots of one server."""

    reset_point: Snapshot | None = None
    snapshots: dict[str, Taken] = field(default_factory=dict)
    #: One reset, save or restore at a time in this process.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def put_back(runtime: Runtime, snapshot: Snapshot) -> float:
    """Restore ``snapshot`` and clear the memory; the milliseconds it took. A store
    that fails raises :class:`StoreFailed`, the restore rolled back and the memory
    left as it was."""
    assert runtime.store is not None
    started = time.perf_counter()
    with store_failures("restore"):
        await restore(runtime.store, snapshot)
    await runtime.reset_memory()
    return round((time.perf_counter() - started) * 1000, 3)


class StoreFailed(Exception):
    """The store failed a reset, save or restore; logged with its trace."""


@contextlib.contextmanager
def store_failures(what: str) -> Iterator[None]:
    try:
        yield
    except (SQLAlchemyError, OSError) as error:
        log.exception("dev API %s: the store failed", what)
        raise StoreFailed(what) from error


def state_routes(authorized: Callable[[Request], bool]) -> list[Route]:
    def runtime_of(request: Request) -> Runtime:
        return request.app.state.runtime

    async def reset(request: Request) -> Response:
        runtime = runtime_of(request)
        state = runtime.dev_state
        async with state.lock:
            if state.reset_point is None:
                return _error(NO_RESET_POINT)
            try:
                ms = await put_back(runtime, state.reset_point)
            except StoreFailed:
                return _error(STORE_FAILED)
        return _answer({"reset": True, "ms": ms})

    def listing(state: DevState) -> dict:
        return {
            "snapshots": [
                {"name": name, "taken_at": taken.taken_at.isoformat()}
                for name, taken in sorted(state.snapshots.items())
            ]
        }

    async def list_snapshots(request: Request) -> Response:
        return _answer(listing(runtime_of(request).dev_state))

    def name_of(request: Request) -> str | None:
        name = request.path_params["name"]
        return name if NAME.fullmatch(name) else None

    async def save(request: Request) -> Response:
        runtime = runtime_of(request)
        state = runtime.dev_state
        name = name_of(request)
        if name is None:
            return _error(
                BAD_NAME,
                "Bad snapshot name: give 1 to 64 of A-Z a-z 0-9 . _ -,"
                " starting with a letter or digit",
            )
        async with state.lock:
            if name not in state.snapshots and len(state.snapshots) >= MAX_SNAPSHOTS:
                return _error(TOO_MANY, f"Too many snapshots: at most {MAX_SNAPSHOTS}")
            assert runtime.store is not None
            started = time.perf_counter()
            try:
                with store_failures("snapshot"):
                    snapshot = await capture(runtime.store)
            except StoreFailed:
                return _error(STORE_FAILED)
            ms = round((time.perf_counter() - started) * 1000, 3)
            taken = state.snapshots[name] = Taken(snapshot, runtime.clock.now())
        return _answer({
            "name": name, "taken_at": taken.taken_at.isoformat(), "rows": snapshot.row_count,
            "ms": ms,
        })  # fmt: skip

    async def show(request: Request) -> Response:
        state = runtime_of(request).dev_state
        name = name_of(request)
        taken = state.snapshots.get(name) if name else None
        if taken is None:
            return _error(NO_SNAPSHOT)
        return _answer({
            "name": name, "taken_at": taken.taken_at.isoformat(),
            "rows": taken.snapshot.row_count,
        })  # fmt: skip

    async def drop(request: Request) -> Response:
        state = runtime_of(request).dev_state
        name = name_of(request)
        async with state.lock:
            if name is None or state.snapshots.pop(name, None) is None:
                return _error(NO_SNAPSHOT)
        return _answer(listing(state))

    async def restore_named(request: Request) -> Response:
        runtime = runtime_of(request)
        state = runtime.dev_state
        name = name_of(request)
        async with state.lock:
            taken = state.snapshots.get(name) if name else None
            if taken is None:
                return _error(NO_SNAPSHOT)
            try:
                ms = await put_back(runtime, taken.snapshot)
            except StoreFailed:
                return _error(STORE_FAILED)
        return _answer({"restored": name, "ms": ms})

    return [
        _route("/_b24local/reset", authorized, POST=reset),
        _route("/_b24local/snapshots", authorized, GET=list_snapshots),
        _route("/_b24local/snapshots/{name}", authorized, GET=show, PUT=save, DELETE=drop),
        _route("/_b24local/snapshots/{name}/restore", authorized, POST=restore_named),
    ]


#: One row of the portals table: the schema is there and the store answers.
_PROBE = select(portals.c.id).limit(1)


async def health(request: Request) -> Response:
    """200 when a store query answers within :data:`HEALTH_TIMEOUT`, 503 otherwise.
    No token: a container's readiness probe has none."""
    runtime: Runtime = request.app.state.runtime
    store = runtime.store
    try:
        if store is None:
            raise RuntimeError("the store is not open yet")

        async def probe() -> None:
            async with store.transaction() as conn:
                await conn.execute(_PROBE)

        await asyncio.wait_for(probe(), HEALTH_TIMEOUT)
    except Exception as error:
        return _answer(
            {"status": "unavailable", "version": __version__, "error": type(error).__name__},
            503,
        )
    return _answer({"status": "ok", "version": __version__, "database": store.dialect})


health_route = Route("/_b24local/health", health, methods=["GET"])
