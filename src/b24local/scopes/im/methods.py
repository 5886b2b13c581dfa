"""``im.user.*``: thin adapters from parameters to the presence rules and cards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from operator import lt
from typing import Any

import orjson

from b24local.rest.call import Call
from b24local.rest.errors import ERROR_PARAMS_TOO_MANY, ErrorSpec
from b24local.rest.params import INT_MAX, Params, php_int
from b24local.rest.registry import MethodGroup, the_caller
from b24local.rest.transport import RequestLimits, load_json
from b24local.scopes.timeman import tracking
from b24local.store import presence as presence_store
from b24local.store import users as user_store

from . import presence
from .cards import card

methods = MethodGroup("im")

STATUS_ERROR = ErrorSpec(
    "STATUS_ERROR", 400, "Status is not available", "im.user.status.set: STATUS not allowed"
)
ID_EMPTY = ErrorSpec("ID_EMPTY", 400, "User ID can't be empty", "im.user.get: ID <= 0")
USER_NOT_EXISTS = ErrorSpec(
    "USER_NOT_EXISTS", 400, "User does not exist", "im.user.get: no user with that ID"
)
INVALID_FORMAT = ErrorSpec(
    "INVALID_FORMAT",
    400,
    "A wrong format for the ID field is passed",
    "im.user.list.get: ID missing, not a list, or without an ID above 0",
)
methods.errors = (STATUS_ERROR, ID_EMPTY, USER_NOT_EXISTS, INVALID_FORMAT)

_PAGES = "chats/users/"
#: IDs one call may ask for (``max_json_values``): as many as a JSON body may hold.
_LIMITS = RequestLimits()


async def change_presence(
    conn: Any,
    portal_id: int,
    user_id: int,
    change: Callable[[presence.Presence], presence.Presence],
    *,
    now: datetime,
    source: str,
    ip: str = "",
) -> presence.Presence:
    """Apply ``change`` to a user's presence and let time control see it: the
    methods and the web pages both come here."""
    # Changes of one user's presence are serialised, as workday changes are: without
    # the lock, two first changes at once would both insert the row (a 500 on
    # PostgreSQL), and two changes of different fields would lose one of them.
    await user_store.lock(conn, portal_id, user_id)
    state = change(await presence_store.get(conn, portal_id, user_id))
    await presence_store.save(conn, portal_id, user_id, state)
    # Being away during an open workday is an absence: time control sees every change.
    await tracking.observe(conn, portal_id, user_id, state, now, source=source, ip=ip)
    return state


async def set_status(
    conn: Any, portal_id: int, user_id: int, status: str, *, now: datetime, ip: str = ""
) -> presence.Presence:
    """``im.user.status.set``'s rule; raises :class:`presence.UnknownStatus`."""
    if status not in presence.STATUSES:
        raise presence.UnknownStatus(status)
    return await change_presence(
        conn, portal_id, user_id, lambda state: presence.set_status(state, status, now),
        now=now, source=tracking.ONLINE_EVENT, ip=ip,
    )  # fmt: skip


async def _change(call: Call, change, source: str) -> bool:
    await change_presence(
        call.conn, call.portal.id, call.user.id, change, now=call.now, source=source,
        ip=call.client_ip,
    )  # fmt: skip
    return True


@methods.method(
    "im.user.status.get",
    summary="The caller's messenger status",
    reference=_PAGES + "im-user-status-get.md",
)
async def status_get(call: Call) -> str | bool:
    state = await presence_store.get(call.conn, call.portal.id, call.user.id)
    return state.status or False


@methods.method(
    "im.user.status.set",
    summary="Set the caller's messenger status",
    reference=_PAGES + "im-user-status-set.md",
    writes=True,
    changes=the_caller,
)
async def status_set(call: Call) -> bool:
    status = call.params.upper().str("STATUS")
    try:
        await set_status(call.conn, call.portal.id, call.user.id, status, now=call.now,
                         ip=call.client_ip)  # fmt: skip
    except presence.UnknownStatus:
        raise STATUS_ERROR() from None
    return True


@methods.method(
    "im.user.status.idle.start",
    summary="Mark the caller away since AGO minutes",
    reference=_PAGES + "im-user-status-idle-start.md",
    writes=True,
    changes=the_caller,
)
async def idle_start(call: Call) -> bool:
    ago = call.params.upper().int("AGO", presence.DEFAULT_IDLE_MINUTES)
    return await _change(
        call, lambda state: presence.start_idle(state, ago, call.now), tracking.IDLE_EVENT
    )


@methods.method(
    "im.user.status.idle.end",
    summary="End the caller's automatic away status",
    reference=_PAGES + "im-user-status-idle-end.md",
    writes=True,
    changes=the_caller,
)
async def idle_end(call: Call) -> bool:
    return await _change(
        call, lambda state: presence.end_idle(state, call.now), tracking.IDLE_EVENT
    )


async def _cards_of(conn: Any, caller: Any, calls: list[dict[str, Any]]) -> dict[Any, Any]:
    """``im.user.get``'s ``prefetch``: the users and presences a batch's calls read."""
    ids = []
    for params in calls:
        upper = Params(params).upper()
        ids.append(upper.int("ID") if upper.has("ID") else caller.user.id)
    portal_id = caller.portal.id
    rows = await user_store.prefetch(conn, portal_id, ids)
    rows.update(await presence_store.prefetch(conn, portal_id, ids))
    return rows


@methods.method(
    "im.user.get",
    summary="One user's card, the caller's by default",
    reference=_PAGES + "im-user-get.md",
    prefetch=_cards_of,
)
async def user_get(call: Call) -> dict[str, Any]:
    params = call.params.upper()
    user_id = params.int("ID") if params.has("ID") else call.user.id
    if user_id <= 0:
        raise ID_EMPTY()
    user = await user_store.get(call.conn, call.portal.id, user_id)
    if user is None:
        raise USER_NOT_EXISTS()
    state = await presence_store.get(call.conn, call.portal.id, user_id)
    return card(user, state, call.portal.zone)


def _requested_ids(raw: Any) -> list[int]:
    """``ID`` as an array, or as a JSON string holding one. As the real handler reads
    it: each ID through ``intval``, those above 0 kept once, in the order given."""
    if isinstance(raw, str):
        try:
            raw = load_json(raw, _LIMITS)
        except orjson.JSONDecodeError:
            raise INVALID_FORMAT() from None
    if isinstance(raw, dict):
        raw = list(raw.values())
    if not isinstance(raw, list):
        raise INVALID_FORMAT()
    if len(raw) > _LIMITS.max_json_values:
        # A list in a JSON string escapes the body's own count of values.
        raise ERROR_PARAMS_TOO_MANY()
    if raw and set(map(type, raw)) == {int} and max(raw) <= INT_MAX:
        # JSON integers, each its own intval: read in C, long lists being the point.
        ids = dict.fromkeys(filter(partial(lt, 0), raw))
    else:
        ids = dict.fromkeys(user_id for user_id in map(php_int, raw) if user_id > 0)
    if not ids:
        raise INVALID_FORMAT()
    return list(ids)


@methods.method(
    "im.user.list.get",
    summary="Cards of several users by ID",
    reference=_PAGES + "im-user-list-get.md",
)
async def user_list_get(call: Call) -> dict[str, Any] | list[Any]:
    params = call.params.upper()
    ids = _requested_ids(params.get("ID"))
    found = await user_store.get_many(call.conn, call.portal.id, ids)
    states = await presence_store.get_many(call.conn, call.portal.id, list(found))
    zone = call.portal.zone
    # Every ID in the order asked, None for most of a long list: only the users
    # found are visited one by one (a key keeps its place when its value changes).
    cards: dict[str, Any] = dict.fromkeys(map(str, ids))
    for uid, user in found.items():
        cards[str(uid)] = card(user, states[uid], zone)
    if params.str("RESULT_TYPE") == "array":
        return list(cards.values())
    return cards
