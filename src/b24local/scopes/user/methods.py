"""``user.current``, ``user.get``, ``user.search`` and ``user.fields``: reading people."""

from __future__ import annotations

from typing import Any

from b24local.rest.call import Call
from b24local.rest.envelope import ListPage
from b24local.rest.paging import PAGE_SIZE, page, page_start
from b24local.rest.registry import MethodGroup
from b24local.scopes.filtering import TOO_MANY_PATTERNS
from b24local.store import presence as presence_store
from b24local.store import users as user_store

from . import fields, filters

methods = MethodGroup("user", grants=("user", "user_basic", "user_brief"))
methods.errors = (TOO_MANY_PATTERNS,)

#: Top-level ``user.get`` parameters that are not filter fields.
RESERVED = frozenset({"SORT", "ORDER", "FILTER", "START", "SELECT", "ADMIN_MODE", "IMAGE_RESIZE"})


@methods.method(
    "user.current",
    summary="The caller's own profile",
    reference="user/user-current.md",
)
async def user_current(call: Call) -> dict[str, Any]:
    state = await presence_store.get(call.conn, call.portal.id, call.user.id)
    visible = fields.visible_fields(call.caller.scopes)
    return fields.user_fields(
        call.user,
        state,
        fields.selected_fields(None, visible),
        now=call.now,
        zone=call.portal.zone,
        raw_dates=fields.CURRENT_STYLE,
    )


@methods.method(
    "user.fields",
    summary="The user fields the caller's scope reads, with their titles",
    reference="user/user-fields.md",
)
async def user_fields(call: Call) -> dict[str, str]:
    return fields.field_titles(call.caller.scopes)


@methods.method(
    "user.get",
    summary="Users by filter, sorted and paged",
    reference="user/user-get.md",
    paged=True,
)
async def user_get(call: Call) -> ListPage:
    return await _users(call, search=False)


@methods.method(
    "user.search",
    summary="Users found by how their names, position or departments begin (FIND), paged",
    reference="user/user-search.md",
    paged=True,
)
async def user_search(call: Call) -> ListPage:
    return await _users(call, search=True)


async def _users(call: Call, *, search: bool) -> ListPage:
    """One engine for both lists: user.search is user.get with its search filters."""
    params = call.params.upper()
    visible = fields.visible_fields(call.caller.scopes)
    raw_filter = params.get("FILTER")
    if isinstance(raw_filter, dict):
        wanted = raw_filter
    else:
        # Without FILTER, the remaining parameters are the filter (user.get?ID=5).
        wanted = {k: v for k, v in call.params.items() if k.upper() not in RESERVED}
    start = page_start(params)
    found, total = await user_store.search(
        call.conn,
        call.portal.id,
        filters.conditions(wanted, call.now, call.portal.zone, visible, search=search),
        filters.order(params.str("SORT", "ID"), params.str("ORDER", "ASC")),
        offset=start or 0,
        limit=PAGE_SIZE,
        count=start is not None,
    )
    states = await presence_store.get_many(call.conn, call.portal.id, [u.id for u in found])
    selected = fields.selected_fields(params.get("SELECT"), visible)
    items = [
        fields.user_fields(
            user,
            states[user.id],
            selected,
            now=call.now,
            zone=call.portal.zone,
            raw_dates=fields.LIST_STYLE,
        )
        for user in found
    ]
    return page(items, start, total)
