"""``user.add`` and ``user.update``: only the full ``user`` scope reaches them (the
narrower ``user_basic`` and ``user_brief`` read people, never change them)."""

from __future__ import annotations

from b24local import people
from b24local.events import sources
from b24local.rest.call import Call
from b24local.rest.errors import ErrorSpec
from b24local.rest.params import php_empty
from b24local.rest.registry import MethodGroup
from b24local.scopes.timeman import access
from b24local.store import users
from b24local.store.types import storable

methods = MethodGroup("user")

ACCESS_DENIED = ErrorSpec(
    "ERROR_CORE",
    400,
    "access_denied",
    "user.add by a non-administrator; user.update of someone else's profile by one, or"
    " without a positive ID",
)
#: A positive ID no user of the portal has: CUser fails with an empty LAST_ERROR.
NO_SUCH_USER = ErrorSpec("ERROR_CORE", 400, "", "user.update: no user has the ID")
methods.errors = (ACCESS_DENIED, NO_SUCH_USER, *people.ERRORS)


@methods.method(
    "user.add",
    summary="Invite a user: an employee of UF_DEPARTMENT, or EXTRANET=Y; the new ID",
    reference="user/user-add.md",
    writes=True,
)
async def user_add(call: Call) -> int:
    if not access.manages_people(call.user):
        raise ACCESS_DENIED()
    params = call.params.upper()
    extranet = params.str("EXTRANET") == "Y"
    if extranet and php_empty(params.get("SONET_GROUP_ID")):
        raise people.NO_SONET_GROUP(argument="")
    people.check_types(params.raw())
    changes = people.read_fields(params.raw())
    user = await people.invite(
        call.conn, call.portal, changes, now=call.now, extranet=extranet,
        origin=sources.origin_of(call),
    )  # fmt: skip
    return user.id


@methods.method(
    "user.update",
    summary="Change a profile: one's own, or anyone's as an administrator",
    reference="user/user-update.md",
    writes=True,
)
async def user_update(call: Call) -> bool:
    params = call.params.upper()
    # An ID must be one number: PHP would compare a list with 0 and let it through.
    user_id = 0 if isinstance(params.get("ID"), (list, dict)) else params.int("ID")
    if user_id <= 0 or not access.edits_profile_of(call.user, user_id):
        raise ACCESS_DENIED()
    raw = params.raw()
    if not access.manages_people(call.user):
        # The real module drops, silently, what only an administrator may change.
        raw = {k: v for k, v in raw.items() if k not in ("ACTIVE", "UF_DEPARTMENT")}
    changes = people.read_fields(raw)
    target = await users.get(call.conn, call.portal.id, user_id) if storable(user_id) else None
    if target is None:
        raise NO_SUCH_USER()
    await people.change(call.conn, call.portal, target, changes, now=call.now)
    return True
