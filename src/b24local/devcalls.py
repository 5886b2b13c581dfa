"""The call journal on the dev API: ``/_b24local/calls``.

``GET`` lists calls oldest first (filters ``method``, ``caller``, ``error``,
``since``, ``after``, ``limit``; paged with ``next``), ``DELETE`` forgets them,
``/calls/wait`` holds the request until a call that matches comes, and
``/calls/summary`` tells per caller which methods it called and which of its
scopes it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b24local.devapi import (
    DEV_BAD_REQUEST,
    LIST_DEFAULT,
    LIST_MAX,
    MAX_WAIT,
    _answer,
    _error,
    _route,
    whole_number,
)
from b24local.rest.errors import ErrorSpec
from b24local.rest.journal import Entry, Filters, Journal
from b24local.store.types import INTEGER_MAX

DEV_NO_JOURNAL = ErrorSpec("NOT_FOUND", 404, "This server keeps no call journal")
DEV_NO_CALL = ErrorSpec("TIMEOUT", 408, "No call came in time")
#: The longest filter value taken: longer ones match nothing a server records.
MAX_FILTER = 200


def call_filters(query: Mapping[str, str]) -> Filters:
    """The listing's filters from a query (the dev API's, the administration page's);
    :class:`ValueError` says what is wrong with one."""
    values = {name: query.get(name) or None for name in ("method", "caller", "error", "since")}
    for name, value in values.items():
        if value is not None and len(value) > MAX_FILTER:
            raise ValueError(f"{name} is at most {MAX_FILTER} characters")
    since = None
    if values["since"] is not None:
        try:
            since = datetime.fromisoformat(values["since"])
        except ValueError:
            raise ValueError(
                "since is an ISO 8601 time, such as 2026-03-02T08:30:00+00:00"
            ) from None
        # The server clock is in UTC: a time without a zone is read as UTC.
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    method = values["method"]
    return Filters(
        method=method.lower() if method else None,
        caller=values["caller"],
        error=values["error"],
        since=since,
    )


def _page(request: Request) -> tuple[int, int]:
    query = request.query_params
    after = whole_number(query.get("after", "0"), "after", low=0, high=INTEGER_MAX)
    limit = whole_number(query.get("limit", str(LIST_DEFAULT)), "limit", low=1, high=LIST_MAX)
    return after, limit


def _calls(journal: Journal, found: list[Entry], more: int | None) -> Response:
    """A page of calls; ``next`` is the ``after`` of the following page (null: no
    more), ``last`` the newest call's number (where ``--follow`` starts)."""
    return _answer(
        {"calls": [entry.record() for entry in found], "next": more, "last": journal.last_id}
    )


def journal_routes(authorized: Callable[[Request], bool]) -> list[Route]:
    def journal_of(request: Request) -> Journal | None:
        return request.app.state.runtime.journal

    async def list_calls(request: Request) -> Response:
        journal = journal_of(request)
        if journal is None:
            return _error(DEV_NO_JOURNAL)
        try:
            filters = call_filters(request.query_params)
            after, limit = _page(request)
        except ValueError as exc:
            return _error(DEV_BAD_REQUEST, f"Bad calls request: {exc}")
        return _calls(journal, *journal.listing(filters, after=after, limit=limit))

    async def clear_calls(request: Request) -> Response:
        journal = journal_of(request)
        if journal is None:
            return _error(DEV_NO_JOURNAL)
        journal.clear()
        return _calls(journal, [], None)

    async def wait_calls(request: Request) -> Response:
        """``?after=ID&timeout=S`` and the listing's filters: the matching calls
        after ``after`` as soon as there is one; 408 if none comes in time."""
        journal = journal_of(request)
        if journal is None:
            return _error(DEV_NO_JOURNAL)
        try:
            filters = call_filters(request.query_params)
            after, limit = _page(request)
            timeout = float(request.query_params.get("timeout", "10"))
            if not 0 <= timeout <= MAX_WAIT:
                raise ValueError(f"timeout is from 0 to {MAX_WAIT:g} seconds")
        except ValueError as exc:
            return _error(DEV_BAD_REQUEST, f"Bad wait request: {exc}")
        found, more = await journal.wait(filters, after=after, limit=limit, seconds=timeout)
        if not found:
            return _error(DEV_NO_CALL)
        return _calls(journal, found, more)

    async def summary(request: Request) -> Response:
        journal = journal_of(request)
        if journal is None:
            return _error(DEV_NO_JOURNAL)
        caller = request.query_params.get("caller") or None
        if caller is not None and len(caller) > MAX_FILTER:
            return _error(
                DEV_BAD_REQUEST, f"Bad summary request: caller is at most {MAX_FILTER} characters"
            )
        registry = request.app.state.runtime.registry
        return _answer({"callers": journal.summary(registry, caller)})

    return [
        _route("/_b24local/calls", authorized, GET=list_calls, DELETE=clear_calls),
        _route("/_b24local/calls/wait", authorized, GET=wait_calls),
        _route("/_b24local/calls/summary", authorized, GET=summary),
    ]
