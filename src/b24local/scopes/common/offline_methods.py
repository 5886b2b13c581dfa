"""``event.offline.get/list/clear/error``: an application reads its offline queue.

Each call reaches the queue of the calling application for the call's
``auth_connector`` ("" when none is given), in the caller's portal, as the real
``Bitrix\\Rest\\Api\\Event`` methods do; the checks come in their order: the
application context, the plan, the administrator's right, then the parameters.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from b24local import plans
from b24local.entities import App
from b24local.rest.call import Call
from b24local.rest.envelope import ListPage, atom
from b24local.rest.errors import ErrorSpec
from b24local.rest.paging import PAGE_SIZE, page, page_start
from b24local.rest.params import php_int, php_str
from b24local.rest.registry import BASIC, MethodGroup
from b24local.scopes.timeman import access
from b24local.store import offline as queues
from b24local.store.tables import offline_events as table

from . import offline_filter

methods = MethodGroup(BASIC)

WRONG_AUTH_TYPE = ErrorSpec(
    "WRONG_AUTH_TYPE",
    403,
    "Current authorization type is denied for this method",
    "event.offline.*: called with a webhook rather than an application's token",
)
ACCESS_DENIED = ErrorSpec(
    "ACCESS_DENIED", 403, "Access denied!", "event.offline.*: called by a non-administrator"
)
WRONG_LICENSE = ErrorSpec(
    "WRONG_LICENSE",
    403,
    "This feature is not enabled for the current license: …",
    "event.offline.*: auth_connector, or get with clear=0, on a plan without the feature",
)
NOT_POSITIVE = ErrorSpec(
    "ERROR_ARGUMENT", 400, "Value must be positive integer", "event.offline.get: limit below 1"
)
PROCESS_ID_MISSING = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Argument 'PROCESS_ID' is null or empty",
    "event.offline.clear/error: no process_id",
)
NOT_MESSAGE_IDS = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Value must be array of MESSAGE_ID values",
    "event.offline.clear/error: message_id not an array (of 32-character IDs)",
)
NOT_IDS = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Value must be array of integers",
    "event.offline.clear: id not an array of positive integers",
)
methods.errors = (
    WRONG_AUTH_TYPE,
    ACCESS_DENIED,
    WRONG_LICENSE,
    NOT_POSITIVE,
    PROCESS_ID_MISSING,
    NOT_MESSAGE_IDS,
    NOT_IDS,
    *offline_filter.ERRORS,
)

_PAGES = "events/"
#: ``Main\Security\Random::getString(32)``: lower-case letters and digits.
_PROCESS_ALPHABET = string.ascii_lowercase + string.digits
_MESSAGE_ID_LENGTH = 32


def _license(feature: str) -> Any:
    return WRONG_LICENSE(f"This feature is not enabled for the current license: {feature}")


async def _written_queue(call: Call) -> queues.Queue:
    """The caller's queue for a method that changes it, without abandoned reservations."""
    queue = _queue(call)
    await queues.drop_abandoned(call.conn, queue, call.now)
    return queue


def _queue(call: Call) -> queues.Queue:
    """The caller's queue, after the checks every method makes."""
    app: App | None = call.caller.app
    if app is None:
        raise WRONG_AUTH_TYPE()
    connector = php_str(call.params.get("auth_connector"))
    if connector and not plans.has_feature(call.portal.plan, "rest_auth_connector"):
        raise _license("auth_connector")
    if not access.reads_offline_events(call.user):
        raise ACCESS_DENIED()
    return queues.Queue(call.portal.id, app.id, connector)


def _lower(call: Call) -> dict[str, Any]:
    """PHP's ``array_change_key_case($query, CASE_LOWER)``: later keys win."""
    return {str(key).lower(): value for key, value in call.params.items()}


def _given(params: dict[str, Any], key: str) -> bool:
    """PHP's ``isset``: present and not null."""
    return params.get(key) is not None


def _event(call: Call, row: queues.Queued, *, listed: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "ID": str(row.id),
        "TIMESTAMP_X": atom(row.created_at, call.portal.zone),
        "EVENT_NAME": row.event,
        # An empty PHP array is a JSON list.
        "EVENT_DATA": row.data if row.data else [],
        "EVENT_ADDITIONAL": {"user_id": str(row.user_id) if row.user_id else 0},
        "MESSAGE_ID": row.message_id,
    }
    if listed:
        found["PROCESS_ID"] = row.process_id
        found["ERROR"] = "1" if row.error else "0"
    return found


@methods.method(
    "event.offline.get",
    summary="The first offline events of the application's queue, deleted or reserved",
    reference=_PAGES + "event-offline-get.md",
    writes=True,
)
async def event_offline_get(call: Call) -> dict[str, Any]:
    queue = await _written_queue(call)
    params = _lower(call)
    clear = php_int(params["clear"]) if _given(params, "clear") else 1
    given_process = params.get("process_id")
    process_id = php_str(given_process).strip() if given_process is not None else None
    if not clear and not plans.has_feature(call.portal.plan, "rest_offline_extended"):
        raise _license("extended offline events handling")
    limit = php_int(params["limit"]) if _given(params, "limit") else PAGE_SIZE
    errors = _given(params, "error") and php_int(params["error"]) == 1
    if limit <= 0:
        raise NOT_POSITIVE(argument="LIMIT")
    fields = offline_filter.GET_FIELDS
    filter_ = params["filter"] if _given(params, "filter") else {}
    conditions = offline_filter.conditions(
        filter_, fields, call.portal.zone, scalars_only=process_id is None
    )
    order_ = params["order"] if _given(params, "order") else {"TIMESTAMP_X": "ASC"}
    order = offline_filter.order_by(order_, fields)
    conditions.append(table.c.error.is_(errors))
    answer_process = not clear
    if process_id is None:
        process_id = "".join(secrets.choice(_PROCESS_ALPHABET) for _ in range(32))
        await queues.reserve(call.conn, queue, process_id, conditions, order, limit)
    else:
        answer_process = True
    held, _total = await queues.find(
        call.conn, queue, [*conditions, queues.held_by(process_id)], order, limit=limit
    )
    if clear and held:
        await queues.clear(call.conn, queue, process_id)
    return {
        "process_id": process_id if answer_process else None,
        "events": [_event(call, row, listed=False) for row in held],
    }


@methods.method(
    "event.offline.list",
    summary="The application's offline queue as it is, fifty records a page",
    reference=_PAGES + "event-offline-list.md",
    paged=True,
)
async def event_offline_list(call: Call) -> ListPage:
    queue = _queue(call)
    params = _lower(call)
    fields = offline_filter.LIST_FIELDS
    filter_ = params["filter"] if _given(params, "filter") else {}
    conditions = offline_filter.conditions(filter_, fields, call.portal.zone)
    conditions.append(~queues.abandoned(call.now))  # gone, for a reader
    order = offline_filter.order_by(
        params["order"] if _given(params, "order") else {"ID": "ASC"}, fields
    )
    start = page_start(call.params)
    found, total = await queues.find(
        call.conn,
        queue,
        conditions,
        order,
        limit=PAGE_SIZE,
        offset=start or 0,
        count=start is not None,
    )
    return page([_event(call, row, listed=True) for row in found], start, total)


def _process_id(params: dict[str, Any]) -> str:
    if not _given(params, "process_id"):
        raise PROCESS_ID_MISSING(argument="PROCESS_ID")
    return php_str(params["process_id"]).strip()


def _array(value: Any) -> list[Any] | None:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return None


@methods.method(
    "event.offline.clear",
    summary="Delete records a process reserved: all, or by ID or MESSAGE_ID",
    reference=_PAGES + "event-offline-clear.md",
    writes=True,
)
async def event_offline_clear(call: Call) -> bool:
    queue = await _written_queue(call)
    params = _lower(call)
    process_id = _process_id(params)
    if _given(params, "message_id"):
        given = _array(params["message_id"])
        if given is None:
            raise NOT_MESSAGE_IDS(argument="message_id")
        message_ids = [php_str(m).strip() for m in given]
        if any(len(m) != _MESSAGE_ID_LENGTH for m in message_ids):
            # Sic: the real method names the argument with three s's here.
            raise NOT_MESSAGE_IDS(argument="messsage_id")
        await queues.clear(call.conn, queue, process_id, message_ids=message_ids or None)
        return True
    ids = None
    if _given(params, "id"):
        given = _array(params["id"])
        if given is None:
            raise NOT_IDS(argument="id")
        ids = [php_int(i) for i in given]
        if any(i <= 0 for i in ids):
            raise NOT_IDS(argument="id")
    await queues.clear(call.conn, queue, process_id, ids=ids or None)
    return True


@methods.method(
    "event.offline.error",
    summary="Mark records of a process as erroneous, back in the queue for get with error=1",
    reference=_PAGES + "event-offline-error.md",
    writes=True,
)
async def event_offline_error(call: Call) -> bool:
    queue = await _written_queue(call)
    params = _lower(call)
    process_id = _process_id(params)
    given = _array(params.get("message_id"))
    if given is None:
        raise NOT_MESSAGE_IDS(argument="message_id")
    if given:
        await queues.mark_error(call.conn, queue, process_id, [php_str(m) for m in given])
    return True
