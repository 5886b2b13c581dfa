"""Administration under ``serve --dev``: the call journal and the event outbox, as the
dev API's ``/_b24local/calls`` and ``/_b24local/events/deliveries`` list them.

The filters are read by the dev API's own functions (:func:`..devcalls.call_filters`,
:func:`..devapi.delivery_filters`) and the rows come from the same listings
(:meth:`..rest.journal.Journal.latest`, :func:`..devapi.deliveries`), newest first and
narrowed to the page's portal. Without ``--dev`` neither page exists (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson
from starlette.responses import Response

from b24local.devapi import deliveries, delivery_filters, whole_number
from b24local.devcalls import MAX_FILTER, call_filters
from b24local.rest.journal import Filters, redact
from b24local.scopes.timeman.access import administers
from b24local.store.types import INTEGER_MAX

from .administer import require
from .pages import handler
from .render import page
from .visit import Refused, Visit

#: The filters of one --dev page, as its parser makes them.
F = TypeVar("F")

#: Rows a page shows; older ones are a "next" link away.
PAGE = 100
#: A query of these pages names a few filters and a page, nothing more.
MAX_PARAMS = 10


def _admin_in_dev(current: Visit) -> None:
    # Not there at all without --dev: the page does not say it exists elsewhere.
    if not current.runtime.settings.dev:
        raise Refused("error.not_found", 404)
    assert current.user is not None
    require(administers(current.user))


def _query(current: Visit) -> dict[str, str]:
    """The query, each value once and within bounds; else a 400 page."""
    items = current.request.query_params.multi_items()
    names = [name for name, _value in items]
    if len(items) > MAX_PARAMS or len(set(names)) != len(names):
        raise Refused("admin.dev.bad_query", 400)
    for _name, value in items:
        if len(value) > MAX_FILTER or "\x00" in value:
            raise Refused("admin.dev.bad_query", 400)
    return dict(items)


def _before(query: dict[str, str]) -> int | None:
    if not query.get("before"):
        return None
    return whole_number(query["before"], "before", low=1, high=INTEGER_MAX)


def _asked(
    current: Visit, read: Callable[[dict[str, str]], F]
) -> tuple[dict[str, str], F, int | None]:
    """An administrator's query of a --dev page: the query, its filters as ``read``
    takes them (the dev API's own parser), and the page's ``before`` (400 if bad)."""
    _admin_in_dev(current)
    query = _query(current)
    try:
        return query, read(query), _before(query)
    except ValueError:
        raise Refused("admin.dev.bad_query", 400) from None


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


@handler()
async def calls_page(current: Visit) -> Response:
    query, filters, before = _asked(current, call_filters)
    journal = current.runtime.journal
    found, more = ([], None) if journal is None else journal.latest(
        _this_portal(filters, current), before=before, limit=PAGE
    )  # fmt: skip
    calls = [entry.record() for entry in found]
    for call in calls:
        call["shown_params"] = _json(call["params"])
        for command in call.get("calls", ()):
            command["shown_params"] = _json(command["params"])
    return page(
        current.request, "admin_calls.html", visit=current, error=None,
        csrf_token=current.csrf_token(), calls=calls,
        query=query, next_page=_next(query, more), kept=journal is not None,
    )  # fmt: skip


def _this_portal(filters: Filters, current: Visit) -> Filters:
    return replace(filters, portal=current.portal.domain)


@handler()
async def deliveries_page(current: Visit) -> Response:
    query, filters, before = _asked(current, delivery_filters)
    async with current.runtime.store.transaction() as conn:
        rows, more = await deliveries(
            conn, filters, limit=PAGE, newest=True, before=before,
            portal_id=current.portal.id,
        )  # fmt: skip
    shown = [_delivery(row) for row in rows]
    return page(
        current.request, "admin_deliveries.html", visit=current, error=None,
        csrf_token=current.csrf_token(), deliveries=shown,
        query=query, next_page=_next(query, more),
    )  # fmt: skip


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the page shows it: what it posts with the secrets blanked, as the
    journal blanks a call's (an event's ``auth`` carries the application's tokens)."""
    shown = {
        key: value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value
        for key, value in row.items()
    }
    # What was posted once it was (with its ``auth``), else the event's data.
    posted = row["payload"] if row["payload"] is not None else row["data"]
    shown["shown_data"] = _json(redact(posted))
    return shown


def _next(query: dict[str, str], more: int | None) -> str | None:
    """The query of the page of older rows (None: there are none)."""
    if more is None:
        return None
    return urlencode({**{k: v for k, v in query.items() if k != "before"}, "before": more})
