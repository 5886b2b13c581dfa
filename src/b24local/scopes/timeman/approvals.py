"""Supervisors approve or reject workday edits that wait for confirmation.

Shared by the CLI and the approvals page. An edit made with ``TIME`` beyond
``UF_TM_ALLOWED_DELTA`` leaves the day ``ACTIVE: false``; approving confirms it,
rejecting rebuilds the day from its history with each waiting edit at the moment
the change was really made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import User
from b24local.store import departments, workdays
from b24local.store import users as user_store
from b24local.store.departments import Department
from b24local.store.workdays import StoredDay

from .access import manages_in
from .workday import approve, reject, whole_second


class ApprovalError(Exception):
    """Why a decision cannot be taken, in words for the person taking it; ``kind``
    (``missing``, ``not_waiting``, ``not_theirs``) for a page to say it in its own."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def decides_for(tree: dict[int, Department], supervisor: User, employee: User) -> bool:
    """May the supervisor approve or reject the employee's edits? Whoever manages the
    day (:func:`.access.manages_in`), except a non-administrator for their own."""
    if supervisor.id == employee.id and not supervisor.is_admin:
        return False
    return manages_in(tree, supervisor, employee)


async def decide(
    conn: AsyncConnection,
    portal_id: int,
    *,
    workday_id: int,
    supervisor: User,
    approved: bool,
    now: datetime,
) -> StoredDay:
    now = whole_second(now)  # like every transition: the history keeps whole seconds
    found = await workdays.by_id(conn, portal_id, workday_id)
    if found is None:
        raise ApprovalError(f"no workday {workday_id}", "missing")
    await user_store.lock(conn, portal_id, found.user_id)
    # Read the day again under the lock: a transition may have landed while we waited.
    stored = await workdays.by_id(conn, portal_id, workday_id)
    assert stored is not None
    employee = await user_store.get(conn, portal_id, stored.user_id)
    assert employee is not None
    tree = {} if supervisor.is_admin else await departments.tree(conn, portal_id)
    # Rights first: whether someone else's day waits is not told to who may not decide it.
    if not decides_for(tree, supervisor, employee):
        raise ApprovalError(
            f"user {supervisor.id} does not supervise user {employee.id}", "not_theirs"
        )
    if stored.day.active:
        raise ApprovalError(f"workday {workday_id} has no edit waiting for approval", "not_waiting")
    if approved:
        decided = approve(stored.day)
    else:
        decided = reject(stored.day, await workdays.steps(conn, portal_id, workday_id))
    await workdays.save(conn, portal_id, employee.id, decided, now=now, workday_id=workday_id)
    await workdays.record(
        conn,
        portal_id,
        workday_id,
        user_id=employee.id,
        actor_id=supervisor.id,
        action="approve" if approved else "reject",
        at=now,
        before=stored.day,
        after=decided,
    )
    return StoredDay(workday_id, employee.id, decided)
