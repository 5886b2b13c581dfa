"""The team board's pages: ``/team`` (the board) and ``/team/live`` (the same rows
as JSON, which the page's script polls to stay current without reloading)."""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import Any

from starlette.responses import JSONResponse, Response

from b24local.devapi import whole_number
from b24local.scopes.im.presence import STATUSES

from . import board
from .catalogue import Catalogue
from .day import hours
from .pages import handler, home_zone
from .render import SECURITY_HEADERS, catalogue_for, page
from .visit import Refused, Visit

#: How often the page asks for fresh rows, in seconds.
POLL_SECONDS = 5


def _department(current: Visit) -> int | None:
    given = current.request.query_params.getlist("department")
    if len(given) > 1:  # the last one would win silently: say which board is meant
        raise Refused("team.bad_department", 400)
    if not given or not given[0]:
        return None
    try:
        return whole_number(given[0], "department", low=1, high=2**31 - 1)
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
    home = home_zone(current)
    cells = Cells(catalogue_for(current.request), home, current.now)
    response = page(
        current.request, "team.html", visit=current, board=found, now=current.now,
        rows=[cells(r) for r in found.rows], poll=POLL_SECONDS, home=home,
        csrf_token=current.csrf_token(),
    )  # fmt: skip
    render = f"render;dur={(time.perf_counter() - started) * 1000:.1f}"
    response.headers["Server-Timing"] = f"{timing}, {render}"
    return response


class Cells:
    """Each row's cells in words, as the page shows them and ``/team/live`` sends
    them: formatted once, in one place. Labels are looked up once per state."""

    def __init__(self, t: Catalogue, home: tzinfo, now: datetime) -> None:
        self.home = home
        self.now = now
        self.states = {s: t("state." + s.lower()) for s in board.STATES}
        self.statuses = {s: t("status." + s) for s in STATUSES}
        self.idle = t("team.idle_since", since="{since}")
        self.unnamed = t("user.unnamed", id="{id}")

    def __call__(self, found: board.Row) -> dict[str, Any]:
        presence = found.presence
        idle = presence.idle_since
        user = found.user
        return {
            "id": user.id,
            "name": user.full_name or self.unnamed.format(id=user.id),
            "position": user.work_position,
            "state": found.state,
            "stateText": self.states[found.state],
            "started": self.started(found),
            "worked": hours(found.worked) if found.worked is not None else "",
            "awaiting": found.awaiting_approval,
            "status": presence.status,
            "statusText": self.statuses.get(presence.status, presence.status),
            "idle": self.idle.format(since=self.moment(idle)) if idle else "",
        }

    def started(self, found: board.Row) -> str:
        """When the day started, on its own clock: ``HH:MM``, with the date when that
        was not today there (a day left open), and the offset when that clock is not
        the viewer's — else 09:00 in Tokyo and 09:00 in Berlin read alike."""
        if found.started is None or found.zone is None:
            return ""
        text = self.moment(found.started, found.zone)
        local = found.started.astimezone(found.zone)
        if local.utcoffset() != found.started.astimezone(self.home).utcoffset():
            text = f"{text} {_offset(local)}"
        return text

    def moment(self, at: datetime, zone: tzinfo | None = None) -> str:
        """``HH:MM`` on ``zone``'s clock (the viewer's by default), dated when not today."""
        zone = zone or self.home
        local = at.astimezone(zone)
        if local.date() == self.now.astimezone(zone).date():
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")


def _offset(moment: datetime) -> str:
    """``UTC+09:00``, ``UTC-03:30``: the offset a time was read on."""
    minutes = int(moment.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@handler()
async def team_live(current: Visit) -> Response:
    found, timing = await _board(current)
    home = home_zone(current)
    cells = Cells(catalogue_for(current.request), home, current.now)
    body = {
        "now": current.now.isoformat(),
        "time": current.now.astimezone(home).strftime("%H:%M"),
        "counts": found.counts,
        "rows": [cells(r) for r in found.rows],
    }
    return JSONResponse(body, headers={**SECURITY_HEADERS, "Server-Timing": timing})
