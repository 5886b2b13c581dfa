"""Stored presence: one row per user, absent until the user first acts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.scopes.im.presence import Presence

from .idlists import per_user
from .snapshot import Reads, cached, prebuilt
from .tables import presence

# Built once: on the hot path, building a statement costs more than running it.
_ONE = cached(
    select(presence).where(
        presence.c.portal_id == bindparam("portal_id"),
        presence.c.user_id == bindparam("user_id"),
    ),
    Reads("presence", "portal_id", "user_id"),
)
_SOME = select(presence).where(
    presence.c.portal_id == bindparam("portal_id"),
    presence.c.user_id.in_(bindparam("user_ids", expanding=True)),
)


def _states(result: Any) -> dict[int, Presence]:
    return {row.user_id: Presence(row.status, row.idle_since, row.last_activity) for row in result}


async def get_many(
    conn: AsyncConnection, portal_id: int, user_ids: Sequence[int]
) -> dict[int, Presence]:
    """Presence of each user; users without a row get the default state."""
    found = {uid: Presence() for uid in user_ids}
    found.update(
        await per_user(conn, portal_id, list(found), one=_ONE, some=_SOME, convert=_states)
    )
    return found


async def get(conn: AsyncConnection, portal_id: int, user_id: int) -> Presence:
    one = {"portal_id": portal_id, "user_id": user_id}
    return (await conn.make(_ONE, one, _states)).get(user_id, _DEFAULT)


_DEFAULT = Presence()


_UPDATE = prebuilt(
    update(presence)
    .where(
        presence.c.portal_id == bindparam("key_portal"), presence.c.user_id == bindparam("key_user")
    )
    .values(
        status=bindparam("status"),
        idle_since=bindparam("idle_since"),
        last_activity=bindparam("last_activity"),
    )
)


async def save(conn: AsyncConnection, portal_id: int, user_id: int, state: Presence) -> None:
    values = {
        "status": state.status,
        "idle_since": state.idle_since,
        "last_activity": state.last_activity,
    }
    result = await conn.execute(_UPDATE, {"key_portal": portal_id, "key_user": user_id, **values})
    if result.rowcount == 0:
        await conn.execute(presence.insert().values(portal_id=portal_id, user_id=user_id, **values))


_ALL = (
    select(presence.c.user_id, presence.c.status, presence.c.idle_since, presence.c.last_activity)
    .where(presence.c.portal_id == bindparam("portal_id"))
    .order_by(presence.c.user_id)
)


async def all_of(conn: AsyncConnection, portal_id: int) -> dict[int, Presence]:
    """Every stored presence of the portal, by user (users without one are online)."""
    rows = await conn.execute(_ALL, {"portal_id": portal_id})
    return {user_id: Presence(status, idle, last) for user_id, status, idle, last in rows}
