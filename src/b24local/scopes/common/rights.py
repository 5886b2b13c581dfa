"""``user.admin``, ``user.access`` and ``access.name``: the caller's rights as the
rest of the server enforces them (scopes/timeman/access.py)."""

from __future__ import annotations

from b24local.rest.call import Call
from b24local.rest.registry import BASIC, MethodGroup
from b24local.scopes.timeman import access

methods = MethodGroup(BASIC)


@methods.method(
    "user.admin",
    summary="Whether the caller may manage applications' settings (a portal administrator)",
    reference="common/users/user-admin.md",
)
async def user_admin(call: Call) -> bool:
    return access.manages_apps(call.user)
