"""``user.admin``, ``user.access`` and ``access.name``: the caller's rights as the
rest of the server enforces them (scopes/timeman/access.py)."""

from __future__ import annotations

from typing import Any

from b24local import access_codes
from b24local.rest.call import Call
from b24local.rest.params import php_empty
from b24local.rest.registry import BASIC, MethodGroup
from b24local.scopes.timeman import access
from b24local.store import departments, users

methods = MethodGroup(BASIC)


@methods.method(
    "user.admin",
    summary="Whether the caller may manage applications' settings (a portal administrator)",
    reference="common/users/user-admin.md",
)
async def user_admin(call: Call) -> bool:
    return access.manages_apps(call.user)


@methods.method(
    "user.access",
    summary="Whether the caller holds any of the given access codes (an admin holds all)",
    reference="common/users/user-access.md",
)
async def user_access(call: Call) -> bool:
    params = call.params.upper()
    codes = access_codes.requested(params["ACCESS"]) if params.has("ACCESS") else []
    return await access.holds_any(call.conn, call.user, codes)


@methods.method(
    "access.name",
    summary="Names of access codes (G2, AU, G1, U<id>, D<id>, DR<id>) that name something",
    reference="common/system/access-name.md",
)
async def access_name(call: Call) -> dict[str, Any] | list[Any] | bool:
    params = call.params.upper()
    if not params.has("ACCESS") or php_empty(params["ACCESS"]):
        return False
    codes = access_codes.requested(params["ACCESS"])
    people = await users.get_many(call.conn, call.portal.id, sorted(access_codes.user_ids(codes)))
    tree = await departments.tree(call.conn, call.portal.id)
    # None named: PHP's empty array, which JSON writes as a list.
    return access_codes.names(codes, people, tree) or []
