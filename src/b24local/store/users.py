"""Users, their departments, and the queries ``user.get`` needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import User

from . import credentials, departments
from . import portals as portal_store
from .idlists import any_of, per_user
from .snapshot import Reads, cached, prebuilt
from .tables import user_departments, users
from .types import storable

#: The columns a :class:`User` carries, in the order of its fields; the password
#: hash never leaves this module.
_SELECTED = [users.c[f.name] for f in fields(User) if f.name != "departments"]


_PROFILE_AT = [f.name for f in fields(User)].index("profile")


def _user(row: Any, department_ids: Sequence[int]) -> User:
    """A user from a row that starts with :data:`_SELECTED`."""
    values = list(row[: len(_SELECTED)])
    values[_PROFILE_AT] = profile_pairs(values[_PROFILE_AT])
    return User(*values, departments=tuple(department_ids))


def profile_pairs(stored: Any) -> tuple[tuple[str, str], ...]:
    """The stored profile object as sorted pairs (a hashable, comparable value)."""
    if not isinstance(stored, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in stored.items()))


async def _departments_of(
    conn: AsyncConnection, portal_id: int, user_ids: Sequence[int]
) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return found
    rows = await conn.execute(
        select(user_departments.c.user_id, user_departments.c.department_id)
        .where(
            user_departments.c.portal_id == portal_id,
            user_departments.c.user_id.in_(user_ids),
        )
        .order_by(user_departments.c.user_id, user_departments.c.department_id)
    )
    for user_id, department_id in rows:
        found[user_id].append(department_id)
    return found


async def get(conn: AsyncConnection, portal_id: int, user_id: int) -> User | None:
    if not storable(user_id):
        return None
    # One user by the cached statement straight away: the hot path of im.user.get.
    found = await conn.make(_ONE_USER, {"portal_id": portal_id, "user_id": user_id}, _users)
    return found.get(user_id)


# Users with their departments in one statement (a row per department, or one with
# NULL), built once: on the hot path of every call, building a statement anew costs
# more than running it.
_WITH_DEPARTMENTS = (
    select(*_SELECTED, user_departments.c.department_id)
    .outerjoin(
        user_departments,
        and_(
            user_departments.c.portal_id == users.c.portal_id,
            user_departments.c.user_id == users.c.id,
        ),
    )
    .order_by(users.c.id, user_departments.c.department_id)
)
_ONE_USER = cached(
    _WITH_DEPARTMENTS.where(
        users.c.portal_id == bindparam("portal_id"), users.c.id == bindparam("user_id")
    ),
    Reads("users", "portal_id", "user_id"),
    Reads("user_departments", "portal_id", "user_id"),
)
_SOME_USERS = _WITH_DEPARTMENTS.where(
    users.c.portal_id == bindparam("portal_id"),
    users.c.id.in_(bindparam("user_ids", expanding=True)),
)


def _users(result: Any) -> dict[int, User]:
    """Users from rows of :data:`_WITH_DEPARTMENTS`, a row per department."""
    rows: dict[int, Any] = {}
    departments: dict[int, list[int]] = {}
    for row in result:
        rows.setdefault(row.id, row)
        found = departments.setdefault(row.id, [])
        if row.department_id is not None:
            found.append(row.department_id)
    return {user_id: _user(row, departments[user_id]) for user_id, row in rows.items()}


async def get_many(
    conn: AsyncConnection, portal_id: int, user_ids: Sequence[int]
) -> dict[int, User]:
    # An ID no row can hold names no user (and PostgreSQL would refuse it).
    ids = sorted({user_id for user_id in user_ids if storable(user_id)})
    return await per_user(conn, portal_id, ids, one=_ONE_USER, some=_SOME_USERS, convert=_users)


async def search(
    conn: AsyncConnection,
    portal_id: int,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    offset: int,
    limit: int,
    count: bool,
) -> tuple[list[User], int | None]:
    """One page of users matching ``conditions``, and the total when asked."""
    where = and_(users.c.portal_id == portal_id, *conditions)
    rows = (
        await conn.execute(
            select(*_SELECTED).where(where).order_by(*order_by).offset(offset).limit(limit)
        )
    ).all()
    deps = await _departments_of(conn, portal_id, [row.id for row in rows])
    total = None
    if count:
        total = (await conn.execute(select(func.count()).select_from(users).where(where))).scalar()
    return [_user(row, deps[row.id]) for row in rows], total


def in_department(department_ids: Sequence[int]) -> ColumnElement[bool]:
    """Users who belong to any of the departments (for ``UF_DEPARTMENT`` filters)."""
    return users.c.id.in_(
        select(user_departments.c.user_id).where(
            user_departments.c.portal_id == users.c.portal_id,
            any_of(user_departments.c.department_id, [i for i in department_ids if storable(i)]),
        )
    )


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    now: datetime,
    name: str,
    last_name: str,
    department_ids: Sequence[int] = (),
    user_id: int | None = None,
    **fields: Any,
) -> User:
    """A new user; ``user_id`` chooses the ID (a state file's), and automatic IDs
    then continue past it."""
    if user_id is None:
        user_id = await portal_store.next_id(conn, portal_id, "last_user_id")
    else:
        await portal_store.raise_counter(conn, portal_id, "last_user_id", user_id)
    defaults = asdict(
        User(portal_id=portal_id, id=user_id, active=True, is_admin=False, name="", last_name="")
    )
    defaults.pop("departments")
    defaults["profile"] = {}
    values = {
        **defaults,
        **fields,
        "name": name,
        "last_name": last_name,
        "date_register": now,
        "timestamp_x": now,
    }
    await conn.execute(users.insert().values(**values))
    await departments.set_membership(conn, portal_id, user_id, department_ids)
    user = await get(conn, portal_id, user_id)
    assert user is not None
    return user


async def update_fields(
    conn: AsyncConnection, portal_id: int, user_id: int, *, now: datetime, **fields: Any
) -> None:
    await conn.execute(
        update(users)
        .where(users.c.portal_id == portal_id, users.c.id == user_id)
        .values(**fields, timestamp_x=now)
    )


_LOCK = prebuilt(
    select(users.c.id)
    .where(users.c.portal_id == bindparam("portal_id"), users.c.id == bindparam("user_id"))
    .with_for_update()
)


async def lock(conn: AsyncConnection, portal_id: int, user_id: int) -> None:
    """Serialise changes to one user's data: the user's row is locked until commit
    (``FOR UPDATE`` on PostgreSQL; SQLite writers are serialised already)."""
    await conn.execute(_LOCK, {"portal_id": portal_id, "user_id": user_id})


async def all_users(conn: AsyncConnection, portal_id: int) -> list[User]:
    """Every user of the portal by ID, with their departments: one statement."""
    result = await conn.execute(_WITH_DEPARTMENTS.where(users.c.portal_id == portal_id))
    return list(_users(result).values())


class Member(NamedTuple):
    """A person as the team board lists them: whom a viewer may see (the person's
    departments) and what a row shows. A plain tuple: a frozen :class:`User` costs
    about ten times as much to build, and the board builds a thousand."""

    id: int
    name: str
    last_name: str
    work_position: str
    departments: tuple[int, ...]

    #: The same words as a user's.
    full_name = User.full_name


_ROSTER = (
    select(
        users.c.id,
        users.c.name,
        users.c.last_name,
        users.c.work_position,
        user_departments.c.department_id,
    )
    .outerjoin(
        user_departments,
        and_(
            user_departments.c.portal_id == users.c.portal_id,
            user_departments.c.user_id == users.c.id,
        ),
    )
    .where(users.c.portal_id == bindparam("portal_id"), users.c.active.is_(True))
    .order_by(users.c.id, user_departments.c.department_id)
)


async def roster(conn: AsyncConnection, portal_id: int) -> list[Member]:
    """The active users with their departments, as the team board lists them: five
    columns, not the profile, dates and contacts of :func:`all_users` it never shows."""
    found: dict[int, tuple[str, str, str, list[int]]] = {}
    for user_id, name, last_name, position, department_id in await conn.execute(
        _ROSTER, {"portal_id": portal_id}
    ):
        entry = found.get(user_id)
        if entry is None:
            entry = found[user_id] = (name, last_name, position, [])
        if department_id is not None:
            entry[3].append(department_id)
    return [
        Member(user_id, name, last_name, position, tuple(ids))
        for user_id, (name, last_name, position, ids) in found.items()
    ]


async def set_password(conn: AsyncConnection, portal_id: int, user_id: int, password: str) -> bool:
    result = await conn.execute(
        update(users)
        .where(users.c.portal_id == portal_id, users.c.id == user_id)
        .values(password_hash=credentials.hash_password(password))
    )
    return bool(result.rowcount)


async def put_password_hash(
    conn: AsyncConnection, portal_id: int, user_id: int, stored: str | None
) -> None:
    """Keep a password hash made elsewhere (a state file's, as exported)."""
    await conn.execute(
        update(users)
        .where(users.c.portal_id == portal_id, users.c.id == user_id)
        .values(password_hash=stored)
    )


async def password_hashes(conn: AsyncConnection, portal_id: int) -> dict[int, str]:
    """The users of the portal who can log in, with their password hashes (export)."""
    rows = await conn.execute(
        select(users.c.id, users.c.password_hash).where(
            users.c.portal_id == portal_id, users.c.password_hash.is_not(None)
        )
    )
    return {row.id: row.password_hash for row in rows}


async def login_account(
    conn: AsyncConnection, portal_id: int, login: str
) -> tuple[int, str | None] | None:
    """The ID and password hash of the active user whose e-mail (any case) or ID is
    ``login``; the hash is None for a user without a password."""
    login = login.strip()
    if not login:
        return None
    # ASCII digits only: int() reads other scripts' digits too, and refuses "²".
    if login.isascii() and login.isdigit():
        digits = login.lstrip("0") or "0"
        # (A long one is no ID, and int() refuses one of thousands of digits.)
        if len(digits) > 10 or not storable(int(digits)):
            return None
        match = users.c.id == int(digits)
    else:
        match = func.lower(users.c.email) == login.lower()
    row = (
        await conn.execute(
            select(users.c.id, users.c.password_hash)
            .where(users.c.portal_id == portal_id, users.c.active.is_(True), match)
            .order_by(users.c.id)
            .limit(1)
        )
    ).first()
    return None if row is None else (row.id, row.password_hash)


async def email_taken(
    conn: AsyncConnection, portal_id: int, email: str, *, except_id: int | None = None
) -> bool:
    """Whether another user of the portal has this e-mail (in any case)."""
    query = select(users.c.id).where(
        users.c.portal_id == portal_id, func.lower(users.c.email) == email.lower()
    )
    if except_id is not None:
        query = query.where(users.c.id != except_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def count_active(conn: AsyncConnection, portal_id: int, user_type: str) -> int:
    """Active users of one type (``employee``, ``extranet``) in the portal."""
    found = await conn.execute(
        select(func.count()).where(
            users.c.portal_id == portal_id,
            users.c.active.is_(True),
            users.c.user_type == user_type,
        )
    )
    return int(found.scalar() or 0)


async def first_admin(conn: AsyncConnection, portal_id: int) -> int | None:
    """The lowest ID among the portal's active administrators (who installs apps
    when nobody is named)."""
    found = await conn.execute(
        select(func.min(users.c.id)).where(
            users.c.portal_id == portal_id, users.c.is_admin.is_(True), users.c.active.is_(True)
        )
    )
    return found.scalar()
