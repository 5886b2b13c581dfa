"""The ``--dev`` control surface: the server clock, forced errors, and token pairs
issued on that clock.

Mounted under ``/_b24local/`` only in dev mode, and every call must carry the
token printed at start (``Authorization: Bearer TOKEN``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b24local import admin
from b24local.clock import AdjustableClock
from b24local.oauth.issuing import pair_record
from b24local.rest.envelope import encode_json
from b24local.rest.errors import (
    ERROR_NUL_CHARACTER,
    ERROR_REQUEST_TOO_LARGE,
    ErrorSpec,
    RestError,
)
from b24local.rest.faults import Faults
from b24local.rest.phpkeys import holds_nul
from b24local.rest.transport import read_body
from b24local.store import outbox
from b24local.store.types import INTEGER_MAX

DEV_UNAUTHORIZED = ErrorSpec("NO_AUTH_FOUND", 401, "Wrong or missing dev token")
DEV_BAD_REQUEST = ErrorSpec("ERROR_ARGUMENT", 400, "Bad clock request")
DEV_WAIT_TIMEOUT = ErrorSpec("TIMEOUT", 408, "No delivery came in time")


def _answer(body: dict, status: int = 200) -> Response:
    return Response(encode_json(body), status_code=status, media_type="application/json")


def _error(spec: ErrorSpec, description: str | None = None) -> Response:
    return _answer({"error": spec.code, "error_description": description or spec.description},
                   spec.status)  # fmt: skip


#: The most calls one fault rule may apply to: more than any test makes.
MAX_FAULT_TIMES = 1_000_000


def whole_number(value: Any, name: str, *, low: int, high: int) -> int:
    """A count or an ID from a dev request's JSON: an integer (or a string of digits,
    or a float without a fraction) from ``low`` to ``high``. Anything else, ``1e300``
    and ``true`` included, is the caller's mistake (ValueError), not ours to store."""
    digits = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19
    if digits or (isinstance(value, float) and value.is_integer()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return value


def clock_state(clock: AdjustableClock) -> dict:
    now = clock.now()
    return {"now": now.isoformat(), "timestamp": now.timestamp(), "frozen": clock.frozen}


def token_check(token: str) -> Callable[[Request], bool]:
    """Whether a request carries the dev token (``Authorization: Bearer`` or
    ``X-B24local-Token``), compared in constant time."""

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        given = given or request.headers.get("x-b24local-token", "")
        return hmac.compare_digest(given.encode(), token.encode())

    return authorized


def dev_routes(clock: AdjustableClock, faults: Faults, token: str) -> list[Route]:
    from b24local.devfaults import fault_routes  # it builds on this module's helpers

    authorized = token_check(token)

    async def body_of(request: Request) -> dict:
        raw = await request.body()
        if not raw.strip():
            return {}
        value = orjson.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("a JSON object is expected")
        return value

    async def read_clock(request: Request) -> Response:
        return _answer(clock_state(clock))

    async def set_clock(request: Request) -> Response:
        try:
            body = await body_of(request)
            real = body.get("now") == "real"  # the real time, running (unless frozen)
            moment = (
                datetime.fromisoformat(str(body["now"])) if "now" in body and not real else None
            )
            freeze = body.get("freeze")
            if real:
                clock.real()
                if freeze is True:
                    clock.set(clock.now(), frozen=True)
            elif moment is not None:
                clock.set(moment, frozen=None if freeze is None else bool(freeze))
            elif freeze is True:
                clock.set(clock.now(), frozen=True)
            elif freeze is False:
                clock.unfreeze()
        except (ValueError, KeyError, orjson.JSONDecodeError) as exc:
            return _error(DEV_BAD_REQUEST, f"Bad clock request: {exc}")
        return _answer(clock_state(clock))

    async def advance_clock(request: Request) -> Response:
        try:
            body = await body_of(request)
            clock.advance(float(body.get("seconds", 0)))
        except (ValueError, TypeError, OverflowError, orjson.JSONDecodeError) as exc:
            return _error(DEV_BAD_REQUEST, f"Bad clock request: {exc}")
        return _answer(clock_state(clock))

    async def issue_token(request: Request) -> Response:
        """A pair as ``b24local app token`` issues it, but stamped by this server's
        clock, which the CLI cannot read: ``{"client_id", "user_id", "portal"?}``."""
        try:
            body = await body_of(request)
            client_id = str(body["client_id"])
            user_id = whole_number(body["user_id"], "user_id", low=1, high=INTEGER_MAX)
            domain = str(body["portal"]) if body.get("portal") else None
        except KeyError as exc:
            return _error(DEV_BAD_REQUEST, f"Bad token request: missing {exc}")
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return _error(DEV_BAD_REQUEST, f"Bad token request: {exc}")
        now = clock.now()
        try:
            pair, portal = await admin.issue_app_token(
                request.app.state.runtime.store,
                now,
                client_id=client_id,
                user_id=user_id,
                domain=domain,
            )
        except admin.AdminError as error:
            return _error(DEV_BAD_REQUEST, str(error))
        return _answer(pair_record(pair, portal, now))

    # Imported here: the journal's routes build on this module's helpers.
    from b24local.devcalls import journal_routes

    return [
        *delivery_routes(authorized),
        *journal_routes(authorized),
        _route("/_b24local/tokens", authorized, POST=issue_token),
        *fault_routes(clock, faults, authorized),
        _route("/_b24local/clock", authorized, GET=read_clock, POST=set_clock, PUT=set_clock),
        _route("/_b24local/clock/advance", authorized, POST=advance_clock),
    ]


#: The longest a dev API wait may hold a request.
MAX_WAIT = 60.0
DELIVERY_STATES = ("pending", "delivered", "failed")
#: Rows one listing gives at most (``limit``), and by default.
LIST_MAX = 1000
LIST_DEFAULT = 500


def _delivery_record(row: dict) -> dict:
    """A row as the dev API shows it; times in ISO 8601."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
    }


def delivery_filters(query: Mapping[str, str]) -> dict[str, Any]:
    """The outbox listing's filters from a query (the dev API's, the administration
    page's); :class:`ValueError` says what is wrong with one."""
    state = query.get("state") or None
    if state is not None and state not in DELIVERY_STATES:
        raise ValueError(f"state is one of {', '.join(DELIVERY_STATES)}")
    return {
        "event": query.get("event") or None,
        "state": state,
        "after": whole_number(query.get("after", "0"), "after", low=0, high=INTEGER_MAX),
    }


async def deliveries(
    conn: AsyncConnection, filters: Mapping[str, Any], *, limit: int, **order: Any
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` outbox rows (:func:`..store.outbox.listing`, ``order`` its
    ``newest``/``before``/``portal_id``), and the ID a next page starts past (None:
    no more)."""
    rows = await outbox.listing(conn, **filters, **order, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1]["id"] if more else None


def delivery_routes(authorized: Callable[[Request], bool]) -> list[Route]:
    """The event outbox for tests: what was sent, answered and retried; waiting for a
    delivery; sending due rows now instead of on their schedule."""

    async def list_deliveries(request: Request) -> Response:
        """``?event=ONUSERADD&state=delivered&after=ID&limit=N``: rows oldest first;
        ``next`` is the ``after`` that gives the following page (null: no more)."""
        try:
            filters = delivery_filters(request.query_params)
            limit = whole_number(
                request.query_params.get("limit", str(LIST_DEFAULT)), "limit", low=1,
                high=LIST_MAX,
            )  # fmt: skip
        except ValueError as exc:
            return _error(DEV_BAD_REQUEST, f"Bad deliveries request: {exc}")
        async with request.app.state.runtime.store.transaction() as conn:
            rows, more = await deliveries(conn, filters, limit=limit)
        return _answer({"deliveries": [_delivery_record(row) for row in rows], "next": more})

    async def wait_delivery(request: Request) -> Response:
        """``?event=...&after=ID&timeout=S``: the first row after ``after`` (of
        ``event``) whose attempt is over, delivered or not; 408 if none in time."""
        try:
            filters = delivery_filters(request.query_params)
            timeout = float(request.query_params.get("timeout", "10"))
            if not 0 <= timeout <= MAX_WAIT:
                raise ValueError(f"timeout is from 0 to {MAX_WAIT:g} seconds")
        except ValueError as exc:
            return _error(DEV_BAD_REQUEST, f"Bad wait request: {exc}")
        runtime = request.app.state.runtime
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            attempted = runtime.sender.attempted
            async with runtime.store.transaction() as conn:
                rows = await outbox.listing(conn, **filters, attempted=True, limit=1)
            if rows:
                return _answer({"delivery": _delivery_record(rows[0])})
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return _error(DEV_WAIT_TIMEOUT)
            # Woken by this process's next attempt; polled for other processes'.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(attempted.wait(), min(left, 0.25))

    async def run_deliveries(request: Request) -> Response:
        """``{"all": true}`` also sends rows not yet due and handlers in their pause."""
        try:
            everything = (await body_of_json(request)).get("all", False)
            if not isinstance(everything, bool):
                raise ValueError("all is true or false")
        except (ValueError, orjson.JSONDecodeError) as exc:
            return _error(DEV_BAD_REQUEST, f"Bad run request: {exc}")
        sent = await request.app.state.runtime.sender.run_now(everything=everything)
        return _answer({"attempted": sent})

    return [
        _route("/_b24local/events/deliveries", authorized, GET=list_deliveries),
        _route("/_b24local/events/deliveries/wait", authorized, GET=wait_delivery),
        _route("/_b24local/events/run", authorized, POST=run_deliveries),
    ]


async def body_of_json(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("a JSON object is expected")
    return value


async def _holds_nul(request: Request) -> bool:
    """Whether a query parameter or the JSON body carries a NUL, which no text
    column of PostgreSQL can hold (the JSON decoder already refuses lone
    surrogates, and the query's decoding replaces bad bytes)."""
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        return True
    raw = await request.body()  # kept by the request for the handler's own read
    if b"\\u0000" not in raw:
        return False
    with contextlib.suppress(orjson.JSONDecodeError):
        return holds_nul(orjson.loads(raw))
    return False


#: The largest body a dev API call takes: its JSON is a few short fields.
MAX_BODY = 64 * 1024


def _route(
    path: str,
    authorized: Callable[[Request], bool],
    **handlers: Callable[[Request], Awaitable[Response]],
) -> Route:
    """One route per address, so that a wrong HTTP method is told every right one in
    ``Allow`` (a route per method would name only the first route's). Every call
    needs the dev token, and no text may carry a NUL (refused as the REST layer
    refuses it)."""

    async def endpoint(request: Request) -> Response:
        if not authorized(request):
            return _error(DEV_UNAUTHORIZED)
        try:
            # Read once, within bounds; the handlers' own reads (request.body())
            # are then given what was read.
            request._body = await read_body(request, MAX_BODY)
        except RestError:
            return _error(
                ERROR_REQUEST_TOO_LARGE, f"A dev API body is at most {MAX_BODY // 1024} KiB"
            )
        if await _holds_nul(request):
            return _error(ERROR_NUL_CHARACTER)
        # The route admitted only these methods, and HEAD only where GET is.
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, endpoint, methods=list(handlers))
