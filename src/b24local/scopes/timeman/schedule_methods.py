"""``timeman.schedule.get``: a work schedule by ID, a thin adapter over the store."""

from __future__ import annotations

from typing import Any

from b24local.rest.call import Call
from b24local.rest.registry import MethodGroup
from b24local.store import schedules

from . import access
from .report import schedule_result

methods = MethodGroup("timeman")


@methods.method(
    "timeman.schedule.get",
    summary="A work schedule by ID: shifts, calendar, violation rules",
    reference="timeman/schedule/timeman-schedule-get.md",
)
async def schedule_get(call: Call) -> dict[str, Any] | list[Any]:
    schedule_id = call.params.upper().int("ID")
    # No such schedule (or no usable ID): an empty array, as the page says.
    found = await schedules.get(call.conn, call.portal.id, schedule_id) if schedule_id > 0 else None
    # A schedule the caller may not read looks like none at all (today anyone may).
    if found is None or not access.reads_schedule(call.user, found):
        return []
    return schedule_result(found, call.portal.zone)
