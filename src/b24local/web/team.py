"""The team board's pages: ``/team`` (the board) and ``/team/live`` (the same rows
as JSON, which the page's script polls to stay current without reloading)."""

from __future__ import annotations

import time
from datetime import tzinfo
from typing import Any

from starlette.responses import JSONResponse, Response

from b24local.devapi import whole_number
from b24local.scopes.im.presence import STATUSES

from . import board
from .day import hours
from .pages import handler, home_zone
from .render import SECURITY_HEADERS, catalogue_for, page
from .visit import Refused, Visit

#: How often the page asks for fresh rows, in seconds.
POLL_SECONDS = 5


def _department(current: Visit) -> int | None:
    text = current.request.query_params.get("department", "")
    if not text:
        return None
    try:
        return whole_number(text, "department", low=1, high=2**31 - 1)
    except ValueError:
        raise Refused("team.bad_department", 400) from None


async def _board(current: Visit) -> tuple[board.Board, str]:
    """The board, and how long reading and building it took (``Server-Timing``)."""
    assert current.user is not None
    started = time.perf_counter()
    async with current.runtime.store.transaction() as conn:
        found = await board.load(
            conn, current.portal.id, current.user, current.now, _department(current)
        )
    return found, f"board;dur={(time.perf_counter() - started) * 1000:.1f}"


@handler()
async def team(current: Visit) -> Response:
    found, timing = await _board(current)
    started = time.perf_counter()
    response = page(
        current.request, "team.html", visit=current, board=found, now=current.now,
        statuses=STATUSES, poll=POLL_SECONDS, home=home_zone(current),
        csrf_token=current.csrf_token(),
    )  # fmt: skip
    render = f"render;dur={(time.perf_counter() - started) * 1000:.1f}"
    response.headers["Server-Timing"] = f"{timing}, {render}"
    return response


def live_row(found: board.Row, t: Any, home: tzinfo) -> dict[str, Any]:
    """A row as the page's script fills it in: each cell's text, already in words."""
    presence = found.presence
    return {
        "id": found.user.id,
        "state": found.state,
        "stateText": t("state." + found.state.lower()),
        "started": found.started.astimezone(found.zone).strftime("%H:%M")
        if found.started and found.zone
        else "",
        "worked": hours(found.worked) if found.worked is not None else "",
        "awaiting": found.awaiting_approval,
        "status": presence.status,
        "statusText": t("status." + presence.status),
        "idle": t("team.idle_since", since=presence.idle_since.astimezone(home).strftime("%H:%M"))
        if presence.idle_since
        else "",
    }


@handler()
async def team_live(current: Visit) -> Response:
    found, timing = await _board(current)
    t = catalogue_for(current.request)
    home = home_zone(current)
    body = {
        "now": current.now.isoformat(),
        "time": current.now.astimezone(home).strftime("%H:%M"),
        "counts": found.counts,
        "rows": [live_row(r, t, home) for r in found.rows],
    }
    return JSONResponse(body, headers={**SECURITY_HEADERS, "Server-Timing": timing})
