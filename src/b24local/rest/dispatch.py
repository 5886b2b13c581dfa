"""The path of one call: transport → auth → limits → dispatch → method → envelope.

:class:`RestEndpoint` is the ASGI endpoint for ``/rest/...``. Everything a
request can get wrong ends here as a catalogue error; anything unexpected is
logged with its trace and answered with ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from b24local.clock import Clock, monotonic
from b24local.store import failures
from b24local.store.engine import Store
from b24local.store.sqlite import Session

from .auth import (
    Caller,
    Credentials,
    authenticate,
    check_portal_open,
    presented,
    resolve_portal,
)
from .authcache import AuthCache
from .call import Call
from .envelope import error_body, render, success_body, time_block
from .errors import (
    DATABASE_BUSY,
    DATABASE_UNAVAILABLE,
    ERROR_METHOD_NOT_FOUND,
    ERROR_REQUEST_TIMEOUT,
    ERROR_UNEXPECTED_ANSWER,
    INSUFFICIENT_SCOPE,
    INTERNAL_SERVER_ERROR,
    INVALID_HTTP_METHOD,
    INVALID_REQUEST,
    NO_AUTH_FOUND,
    OPERATION_TIME_LIMIT,
    RestError,
)
from .faults import Faults, Hang, apply, caller_names, collecting_delay, hold
from .journal import Journal, note_caller, note_error, note_request
from .limits import Limits
from .params import Params
from .registry import MethodSpec, Registry
from .transport import (
    CallRequest,
    RequestLimits,
    ResponseFormat,
    decode_deferred,
    parse_request,
    requested_format,
    sniff_auth,
)
from .watchdog import Watchdog

log = logging.getLogger("b24local.rest")
T = TypeVar("T")

#: HTTP methods a call may use (HEAD answers as GET, without the body).
ACCEPTED_METHODS = ("GET", "HEAD", "POST")


@dataclass(slots=True)
class Outcome:
    """One method's answer before rendering: its result and its ``time`` block."""

    result: Any
    time: dict[str, Any]

    @property
    def body(self) -> dict[str, Any]:
        return success_body(self.result, self.time)


class Dispatcher:
    """Runs one method for an authenticated caller; shared by HTTP calls and batch."""

    def __init__(
        self, registry: Registry, clock: Clock, limits: Limits, faults: Faults | None = None
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.limits = limits
        self.faults = faults

    async def invoke(
        self,
        caller: Caller,
        method: str,
        params: dict[str, Any],
        conn,
        *,
        client_ip: str = "",
        rest_v3: bool = False,
        blocked: bool | None = None,
    ) -> Outcome:
        """Run ``method``. ``blocked``: whether the request's admission already found
        the method over its operating time (None: not asked; ask now)."""
        started = self.clock.now()
        began = monotonic()
        spec = self.registry.get(method)
        # Each path answers only the methods its version declares.
        if spec is None or (spec.v3 is None if rest_v3 else not spec.v2):
            raise ERROR_METHOD_NOT_FOUND()
        if not spec.allowed_for(caller.scopes):
            raise INSUFFICIENT_SCOPE()
        faults = self.faults
        if faults is not None:
            fault = faults.take(spec.name, caller_names(caller.client, caller.user.id), started)
            if fault is not None:
                apply(fault)
        if spec.metered:
            if blocked is None:
                await self.limits.admit_method(caller, spec.name, started)
            elif blocked:
                raise OPERATION_TIME_LIMIT()

        call = Call(
            Params(params),
            caller,
            started,
            conn,
            self.clock,
            self.registry,
            self,
            client_ip,
            rest_v3,
        )
        try:
            result = await spec.handler(call)
        finally:
            # A call that fails ran too: its time counts as much as a success's.
            processing = monotonic() - began
            if spec.metered:
                operating = await self.limits.record(caller, spec.name, started, processing)
            else:
                # batch itself is not counted; its sub-calls are, each on its own.
                operating = self.limits.unmetered(started)
        finished = self.clock.now()
        zone: tzinfo = caller.portal.zone
        # Some real portals answer without the operating figures.
        shown = None if faults is not None and faults.drop_operating else operating
        return Outcome(result, time_block(started, finished, processing, zone, shown))

    async def admit(self, caller: Caller, method: str, now: datetime) -> bool | None:
        """Admit one HTTP request for ``method`` past the leaky bucket, learning in
        the same trip whether a metered method is over its operating time (for
        :meth:`invoke`'s ``blocked``; it raises in its turn, after the checks that
        come first)."""
        spec = self.registry.get(method)
        metered = spec.name if spec is not None and spec.metered else None
        return await self.limits.admit_request(caller, now, metered)


async def client_gone(request: Request) -> None:
    """Returns when the client has gone away (its body is read by then, so what
    comes next is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def served(request: Request, answer: Awaitable[Response]) -> Response:
    """``answer``, held back by the latency forced faults gave its calls: the wait
    comes after the call's transaction, never inside it."""
    with collecting_delay() as delay:
        response = await answer
    if delay.seconds > 0:
        await hold(delay.seconds, lambda: client_gone(request))
    return response


async def answered(
    request: Request, path: str, answer: Awaitable[Response], journal: Journal | None, api: str
) -> Response:
    """``answer`` as the client gets it (forced latency served), kept in the call
    journal when there is one: both REST paths end here."""
    if journal is None:
        return await served(request, answer)
    entry = journal.open(api, request.headers.get("host", ""))
    response = await served(request, answer)
    journal.close(entry, response.status_code, path)
    return response


@asynccontextmanager
async def _after(turn: AbstractAsyncContextManager[None], transaction) -> AsyncIterator[Session]:
    """``transaction``, begun once ``turn`` came."""
    async with turn, transaction as conn:
        yield conn


def unexpected(failure: Exception, request: Request) -> RestError:
    """The answer to a call that failed with something other than a catalogue error:
    the database's own failures get errors that say so (and are logged without a
    trace: nothing is wrong with the code); anything else is a bug, logged in full."""
    if failures.unreachable(failure):
        log.warning("database unavailable in %s %s: %s", request.method, request.url.path, failure)
        return DATABASE_UNAVAILABLE()
    if failures.pool_exhausted(failure):
        log.warning("no database connection came free for %s: %s", request.url.path, failure)
        return DATABASE_BUSY()
    log.exception("unexpected failure in %s %s", request.method, request.url.path)
    return INTERNAL_SERVER_ERROR()


async def held(request: Request, hang: Hang) -> RestError:
    """A hung call: silent until its time is up or its client leaves; then the
    error it ends with, for a client patient enough to still be there."""
    await hold(hang.seconds, lambda: client_gone(request))
    return hang.error


class RestEndpoint:
    def __init__(
        self,
        store: Store,
        dispatcher: Dispatcher,
        request_limits: RequestLimits,
        *,
        require_https: bool = False,
        time_limit: float | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.request_limits = request_limits
        self.require_https = require_https
        self.watchdog = Watchdog(time_limit) if time_limit else None
        self.callers = AuthCache(store.feed)
        #: Records every call under ``--dev``; None otherwise.
        self.journal = journal

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request, request.path_params.get("path", ""))
        await response(scope, receive, send)

    async def handle(self, request: Request, path: str) -> Response:
        return await answered(request, path, self._answer(request, path), self.journal, "v2")

    async def _answer(self, request: Request, path: str) -> Response:
        if request.method not in ACCEPTED_METHODS:
            return self._wrong_method(requested_format(path))
        # Until the path is parsed, a failure answers in the format it seems to ask for.
        fmt: ResponseFormat | None = None
        try:
            call_request = await parse_request(request, path, self.request_limits)
            note_request(call_request)
            fmt = call_request.format
            if self.require_https and call_request.scheme != "https":
                raise INVALID_REQUEST()
            if call_request.deferred_body:
                await self.admit_big_body(call_request)
                await decode_deferred(call_request, self.request_limits)
            outcome = await self._watched(call_request)
            return self._render_outcome(outcome, fmt)
        except Hang as hang:
            error = await held(request, hang)
            note_error(error)
            return render(error_body(error), error.status, fmt or requested_format(path))
        except RestError as error:
            note_error(error)
            return render(error_body(error), error.status, fmt or requested_format(path))
        except ClientDisconnect:
            raise  # the app's handler for it answers (see fallback.py), unlogged
        except Exception as failure:
            error = unexpected(failure, request)
            note_error(error)
            return render(error_body(error), error.status, fmt or requested_format(path))

    async def _watched(self, request: CallRequest) -> Outcome:
        return await self.watched(self._run, request)

    async def watched(self, run: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``run(*args)``, cancelled if it runs past the time limit (REST 3.0's
        path runs its calls through here too)."""
        watchdog = self.watchdog
        task = asyncio.current_task()
        if watchdog is None or task is None:
            return await run(*args)
        watchdog.start(task)
        try:
            return await run(*args)
        except asyncio.CancelledError:
            if not watchdog.overdue(task):
                raise
            # The transaction was rolled back as the task was cancelled.
            raise ERROR_REQUEST_TIMEOUT() from None
        finally:
            watchdog.stop(task)

    @staticmethod
    def _wrong_method(fmt) -> Response:
        error = INVALID_HTTP_METHOD()
        note_error(error)
        response = render(error_body(error), error.status, fmt)
        response.headers["Allow"] = ", ".join(ACCEPTED_METHODS)
        return response

    @staticmethod
    def _render_outcome(outcome: Outcome, fmt) -> Response:
        try:
            return render(outcome.body, 200, fmt)
        except (TypeError, ValueError):
            # A result the encoder cannot represent: the real service's answer.
            log.exception("a method produced a result that cannot be encoded")
            raise ERROR_UNEXPECTED_ANSWER() from None

    async def admit_big_body(self, request: CallRequest) -> None:
        """Authenticate before a big body is decoded, so that decoding megabytes is
        work done for a known caller. A webhook path settles it. A token from the
        query string or a cheap search of the body may yet be overridden by the
        body's own ``auth``: one that fails (or none found) leaves the body to be
        decoded only up to a smaller size, past which the call is refused."""
        if request.webhook is not None:
            await self._check_first(request, request.webhook)
            return
        query_token = request.params.get("auth")
        failure: RestError = NO_AUTH_FOUND()
        for token in (query_token, sniff_auth(request)):
            if not token or not isinstance(token, str):
                continue
            try:
                await self._check_first(request, token)
                return
            except RestError as error:
                failure = error
        if len(request.deferred_body) > self.request_limits.unauthenticated_body_bytes:
            raise failure

    async def _check_first(self, request: CallRequest, credentials: Credentials) -> None:
        async with self.store.transaction(write=False) as conn:
            # Remembered: the call itself then finds the caller without a query.
            await self.caller(conn, request.host, credentials, self.dispatcher.clock.now())

    async def caller(self, conn, host: str, credentials: Credentials, now: datetime) -> Caller:
        # The Host header as sent: other spellings of a host are remembered apart
        # (transaction_for asks the cache by the same key).
        key = (host, credentials)
        caller = self.callers.get(key, now)
        if caller is None:
            # Until these credentials pass: a caller noted for other ones (a big
            # body let in by the query's token) did not make this call.
            note_caller(None)
            portal = await resolve_portal(conn, host)
            check_portal_open(portal)
            caller = await authenticate(conn, portal, credentials, now)
            self.callers.put(key, caller, conn.generation, caller.valid_until)
        note_caller(caller)
        return caller

    async def transaction_for(
        self, request: CallRequest, spec: MethodSpec | None
    ) -> tuple[AbstractAsyncContextManager[Session], Credentials]:
        """The transaction a call runs in (a write's if it may change anything) and
        the credentials it presents: both REST paths open their calls with this, and
        look the caller up inside the transaction.

        A write that names the users it changes (``MethodSpec.changes``) first waits
        its turn in those users' queues (PostgreSQL; store/queues.py), and only then
        checks out the connection its transaction runs on. The caller is looked up
        first (from the cache, else on a connection held only for that), so that
        credentials that fail never queue. Queues are per ``Host`` as sent: a portal
        reached by two spellings of its host serialises on the row lock alone.
        Every other call gets the store's transaction as it is (no wrapper on the
        hot path).

        A caller looked up before the wait is only a user ID to queue for: the call
        looks it up again when its turn comes (from the cache, unless a change
        retired it), so a token that expired or was revoked meanwhile is refused."""
        registry = self.dispatcher.registry
        writes = spec is not None and spec.writes_for(request.params, registry)
        credentials = presented(request)
        queues = self.store.queues
        if not writes or queues is None or spec is None or spec.changes is None:
            return self.store.transaction(write=writes), credentials
        # Credentials that fail are refused here, before they could queue behind (and
        # hold up) the calls of the user a webhook's path names.
        now = self.dispatcher.clock.now()
        caller = self.callers.get((request.host, credentials), now)
        if caller is None:
            async with self.store.transaction() as conn:
                caller = await self.caller(conn, request.host, credentials, now)
        users = spec.changed_users(request.params, caller.user.id, registry)
        queued = _after(queues.turn(request.host, users), self.store.transaction(write=True))
        return queued, credentials

    async def _run(self, request: CallRequest) -> Outcome:
        spec = self.dispatcher.registry.get(request.method)
        transaction, credentials = await self.transaction_for(request, spec)
        async with transaction as conn:
            # After any wait: a queued call acts when its turn came, as its caller then.
            now = self.dispatcher.clock.now()
            caller = await self.caller(conn, request.host, credentials, now)
            blocked = await self.dispatcher.admit(caller, request.method, now)
            return await self.dispatcher.invoke(
                caller,
                request.method,
                request.params,
                conn,
                client_ip=request.client_ip,
                blocked=blocked,
            )
