"""The approvals page: a supervisor's queue of edited days, each with the times
claimed and the reasons given, approved or rejected by the function the CLI's
``timeman approve/reject`` call (:func:`..scopes.timeman.approvals.decide`).

Only people who manage someone's day (``timeman.settings``' ``ADMIN``: heads and
administrators) have a queue; it holds the days that :func:`decides_for` lets
them decide — never their own unless they are an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import RedirectResponse, Response

from b24local.devapi import whole_number
from b24local.entities import User
from b24local.scopes.timeman import approvals
from b24local.scopes.timeman.access import manages_anyone
from b24local.store import departments, workdays
from b24local.store import users as user_store
from b24local.store.types import INTEGER_MAX as MAX_ID
from b24local.store.workdays import StoredDay

from .pages import handler, home_zone
from .render import page
from .visit import Refused, Visit


@dataclass(frozen=True, slots=True)
class Waiting:
    """A day waiting for a decision: whose, and what happened to it."""

    stored: StoredDay
    person: User
    #: Every event of the day, oldest first; ``edits`` are those needing approval.
    history: list[dict[str, Any]]

    @property
    def edits(self) -> list[dict[str, Any]]:
        return [event for event in self.history if event["needs_approval"]]


async def queue(conn: AsyncConnection, portal_id: int, supervisor: User) -> list[Waiting]:
    """The days waiting for this supervisor, oldest first, in four queries."""
    pending = await workdays.awaiting_approval(conn, portal_id)
    people = await user_store.get_many(conn, portal_id, [d.user_id for d in pending])
    tree = {} if supervisor.is_admin else await departments.tree(conn, portal_id)
    mine = [
        stored
        for stored in pending
        if stored.user_id in people
        and approvals.decides_for(tree, supervisor, people[stored.user_id])
    ]
    histories = await workdays.histories(conn, portal_id, [stored.id for stored in mine])
    return [Waiting(s, people[s.user_id], histories[s.id]) for s in mine]


async def _require_supervisor(conn: AsyncConnection, user: User) -> None:
    if not await manages_anyone(conn, user):
        raise Refused("approvals.nobody", 403)


async def _queue_page(current: Visit, error: str = "", status: int = 200) -> Response:
    user = current.user
    assert user is not None
    done = current.request.query_params.get("done", "") if not error else ""
    async with current.runtime.store.transaction() as conn:
        await _require_supervisor(conn, user)
        waiting = await queue(conn, current.portal.id, user)
        actors = await user_store.get_many(
            conn, current.portal.id, list({e["actor_id"] for w in waiting for e in w.history})
        )
    return page(
        current.request, "approvals.html", status=status, visit=current, waiting=waiting,
        actors=actors, home=home_zone(current), error=error, now=current.now, done=done,
        csrf_token=current.csrf_token(),
    )  # fmt: skip


@handler()
async def approvals_page(current: Visit) -> Response:
    return await _queue_page(current)


#: What the page says, and answers, for each reason ``decide`` refuses.
_REFUSALS = {"missing": 404, "not_waiting": 409, "not_theirs": 403}


@handler()
async def decide(current: Visit) -> Response:
    decision = current.request.path_params["decision"]
    if decision not in ("approve", "reject"):
        raise Refused("error.not_found", 404)
    try:
        workday_id = whole_number(
            current.request.path_params["workday"], "workday", low=1, high=MAX_ID
        )
    except ValueError:
        raise Refused("error.not_found", 404) from None
    await current.form()  # the CSRF checks
    user = current.user
    assert user is not None
    try:
        async with current.runtime.store.transaction(write=True) as conn:
            await _require_supervisor(conn, user)
            await approvals.decide(
                conn, current.portal.id, workday_id=workday_id, supervisor=user,
                approved=decision == "approve", now=current.runtime.clock.now(),
            )  # fmt: skip
    except approvals.ApprovalError as error:
        return await _queue_page(current, f"approvals.{error.kind}", _REFUSALS[error.kind])
    return RedirectResponse(f"/approvals?done={decision}", status_code=303)
