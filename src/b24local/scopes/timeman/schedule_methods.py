"""``timeman.schedule.get``: a work schedule by ID, a thin adapter over the store."""

from __future__ import annotations

from typing import Any

from b24local.rest.call import Call
from b24local.rest.errors import ErrorSpec
from b24local.rest.registry import MethodGroup
from b24local.store import schedules

from . import access
from .report import schedule_result

methods = MethodGroup("timeman")

ACCESS_ERROR = ErrorSpec(
    "ACCESS_ERROR",
    400,
    "You don't have access to use this method",
    "timeman.schedule.get: the caller may not read schedules (never, today: anyone may)",
)
methods.errors = (ACCESS_ERROR,)
#: IDs past a 32-bit column name nothing (and PostgreSQL would refuse to compare).
MAX_ID = 2**31 - 1


@methods.method(
    "timeman.schedule.get",
    summary="A work schedule by ID: shifts, calendar, violation rules",
    reference="timeman/schedule/timeman-schedule-get.md",
)
async def schedule_get(call: Call) -> dict[str, Any] | list[Any]:
    if not access.reads_schedule(call.user):
        raise ACCESS_ERROR()
    schedule_id = call.params.upper().int("ID")
    # No such schedule (or no usable ID): an empty array, as the page says.
    usable = 0 < schedule_id <= MAX_ID
    found = await schedules.get(call.conn, call.portal.id, schedule_id) if usable else None
    if found is None:
        return []
    return schedule_result(found, call.portal.zone)
