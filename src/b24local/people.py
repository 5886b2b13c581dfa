"""People: inviting users and changing their profiles, the one place either happens.

``user.add``, ``user.update`` and the CLI's ``user add`` / ``user update`` all come
here, so an event about a new or changed user is raised in one place. Values arrive
named as REST names them (``WORK_POSITION``, ``UF_DEPARTMENT``); :func:`read_fields`
checks them the way the real module does (``Bitrix\\Rest\\Api\\User`` and ``CUser``),
and :func:`invite` / :func:`change` store them. Refusals are the real ones
(:class:`~b24local.rest.errors.RestError`); the CLI shows their text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local import plans
from b24local.entities import Portal, User
from b24local.events import sources
from b24local.events.raising import raise_event
from b24local.rest.errors import ErrorSpec, RestError
from b24local.rest.params import php_int, php_str
from b24local.store import departments, users
from b24local.store.tables import users as user_table
from b24local.store.types import storable

#: REST fields kept in a column of their own, and the column.
COLUMN_OF = {
    "XML_ID": "xml_id",
    "NAME": "name",
    "LAST_NAME": "last_name",
    "SECOND_NAME": "second_name",
    "EMAIL": "email",
    "TIME_ZONE": "time_zone",
    "PERSONAL_GENDER": "gender",
    "PERSONAL_WWW": "website",
    "PERSONAL_MOBILE": "personal_mobile",
    "PERSONAL_CITY": "personal_city",
    "WORK_PHONE": "work_phone",
    "WORK_POSITION": "work_position",
    "UF_PHONE_INNER": "inner_phone",
}
#: Text fields of the profile without a column of their own (the ``profile`` object).
#: UF_FACEBOOK is not among them: the portal of user.fields' example has no such
#: field, and the real service passes over a field a portal does not have.
PROFILE_FIELDS = (
    "TITLE", "PERSONAL_PROFESSION", "PERSONAL_ICQ", "PERSONAL_PHONE", "PERSONAL_FAX",
    "PERSONAL_PAGER", "PERSONAL_STREET", "PERSONAL_STATE", "PERSONAL_ZIP", "PERSONAL_COUNTRY",
    "PERSONAL_MAILBOX", "PERSONAL_NOTES", "WORK_COMPANY", "WORK_DEPARTMENT", "WORK_WWW",
    "WORK_FAX", "WORK_PAGER", "WORK_STREET", "WORK_MAILBOX", "WORK_CITY", "WORK_STATE",
    "WORK_ZIP", "WORK_COUNTRY", "WORK_PROFILE", "WORK_NOTES", "UF_SKYPE_LINK", "UF_ZOOM",
    "UF_INTERESTS", "UF_SKILLS", "UF_WEB_SITES", "UF_XING", "UF_LINKEDIN", "UF_TWITTER",
    "UF_SKYPE", "UF_DISTRICT",
)  # fmt: skip
#: Every field a profile edit may name, beside ACTIVE and UF_DEPARTMENT (the CLI's
#: ``--field``).
PROFILE_NAMES = frozenset({*COLUMN_OF, *PROFILE_FIELDS, "PERSONAL_BIRTHDAY"})
#: Profile fields that hold prose rather than a line.
LONG_FIELDS = frozenset({"PERSONAL_NOTES", "WORK_PROFILE", "WORK_NOTES", "UF_INTERESTS",
                         "UF_SKILLS", "UF_WEB_SITES"})  # fmt: skip
LINE_LENGTH = 255
PROSE_LENGTH = 4000
#: Files in the real service (a picture upload); b24local keeps no files and lets
#: them pass unread, as documented in docs/compat.md.
FILE_FIELDS = frozenset({"PERSONAL_PHOTO", "WORK_LOGO"})
GENDERS = ("", "M", "F")

# What Bitrix's check_email accepts: a dotted domain with a top level of 2-20
# letters or digits (so "admin@localhost" is no address to invite).
_EMAIL = re.compile(
    r"^[=_.0-9a-z+~'!$&*^`|#%/?{}-]+@(?:[-0-9a-z_]+\.)+[a-z0-9-]{2,20}$",
    re.IGNORECASE | re.ASCII,
)


# The real module's refusals. An ERROR_ARGUMENT (its ArgumentException) names the
# argument at fault, "" for none; an ERROR_CORE carries CUser's LAST_ERROR text.
WRONG_EMAIL = ErrorSpec(
    "ERROR_ARGUMENT", 400, "wrong_email", "user.add: EMAIL missing or not an e-mail address"
)
EMAIL_TAKEN = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "A user with this email already exists",
    "user.add: another user of the portal has the e-mail",
)
USER_COUNT_EXCEEDED = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "user_count_exceeded",
    "user.add: the portal's plan has no room for another active employee",
)
NO_EXTRANET_FIELD = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "no_extranet_field",
    "user.add: an employee (not EXTRANET=Y) without UF_DEPARTMENT",
)
NO_SONET_GROUP = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "no_sonet_group_for_extranet",
    "user.add: EXTRANET=Y without SONET_GROUP_ID",
)
INVALID_TYPE_FIELD = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "invalid_type_field",
    "user.add: a WORK_* or PERSONAL_* field not given as text; user.add, user.update: a"
    " list or object for a text field",
)
PROFILE_REFUSED = ErrorSpec(
    "ERROR_CORE",
    400,
    "",
    "user.add, user.update: a value the profile cannot take (no such department, an e-mail"
    " already taken, an unknown time zone, too long a text); the text says which",
)
ERRORS = (
    WRONG_EMAIL,
    EMAIL_TAKEN,
    USER_COUNT_EXCEEDED,
    NO_EXTRANET_FIELD,
    NO_SONET_GROUP,
    INVALID_TYPE_FIELD,
    PROFILE_REFUSED,
)


def _core(message: str) -> RestError:
    # CUser's LAST_ERROR: each message ends with a line break, as the real one does.
    return PROFILE_REFUSED(f"{message}<br>")


def _argument(spec: ErrorSpec, argument: str = "") -> RestError:
    return spec(argument=argument)


@dataclass(frozen=True, slots=True)
class Changes:
    """What a call asks to set: columns by name, profile fields (None clears one),
    whether the user is active, and the departments (None: leave them)."""

    columns: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, str | None] = field(default_factory=dict)
    active: bool | None = None
    departments: tuple[int, ...] | None = None


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


#: A mailbox on a host of the local network (``admin@localhost``, as the first-start
#: administrator has): no invitation goes there, but an account may keep it.
_LOCAL_EMAIL = re.compile(
    r"^[=_.0-9a-z+~'!$&*^`|#%/?{}-]+@[-0-9a-z_]+(?:\.[-0-9a-z_]+)*$", re.IGNORECASE | re.ASCII
)


def valid_email(text: str, *, local: bool = False) -> bool:
    """Whether Bitrix would take ``text`` as an e-mail address; ``local`` also takes
    one on a dotless host, which state files carry over from the first start."""
    pattern = _LOCAL_EMAIL if local else _EMAIL
    return len(text) <= LINE_LENGTH and bool(pattern.match(text))


def must_be_text(key: str) -> bool:
    """The real ``checkTypeFields`` of ``user.add``: a key containing ``WORK_``, or
    ``PERSONAL_`` other than the photo, needs a string (PHP's ``&&`` binding tighter
    than ``||`` leaves ``WORK_LOGO`` in)."""
    return "WORK_" in key or ("PERSONAL_" in key and key != "PERSONAL_PHOTO")


def check_types(raw: Mapping[str, Any]) -> None:
    """``user.add``'s type check, before anything else is looked at."""
    for key, value in raw.items():
        name = str(key).upper()
        if must_be_text(name) and not isinstance(value, str):
            raise _argument(INVALID_TYPE_FIELD, name)


def _text(name: str, value: Any) -> str:
    """A text field's value as PHP reads a scalar; a list or object is no text."""
    if isinstance(value, (list, dict)):
        raise _argument(INVALID_TYPE_FIELD, name)
    text = php_str(value)
    return text.strip() if name == "EMAIL" else text


def _limit(name: str) -> int:
    column = COLUMN_OF.get(name)
    if column is not None:
        return user_table.c[column].type.length  # type: ignore[attr-defined]
    return PROSE_LENGTH if name in LONG_FIELDS else LINE_LENGTH


def _birthday(value: Any) -> date | None:
    """``CRestUtil::unConvertDate``: an ISO date or date-time; anything else clears it."""
    text = php_str(value).strip() if not isinstance(value, (list, dict)) else ""
    try:
        return datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        return None


def _department_ids(value: Any) -> tuple[int, ...]:
    listed = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(listed, list):
        listed = [] if value in ("", None) else [value]
    return tuple(dict.fromkeys(php_int(v) for v in listed if not isinstance(v, (list, dict))))


def _flag(value: Any) -> bool:
    """``($v && $v != 'N') ? 'Y' : 'N'``: a non-empty list is true, as in PHP."""
    if isinstance(value, str):
        return value not in ("", "0", "N")
    return bool(value)


def read_fields(raw: Mapping[str, Any]) -> Changes:
    """The fields of a ``user.add`` / ``user.update`` call, read; names the real
    service does not let a call set (``ID``, ``DATE_REGISTER``, ``IS_ONLINE``, …) are
    passed over, as it passes over them. What CUser would refuse is checked later,
    by :func:`check_values`, in the order the real service checks."""
    columns: dict[str, Any] = {}
    profile: dict[str, str | None] = {}
    active: bool | None = None
    member_of: tuple[int, ...] | None = None
    for key, value in raw.items():
        name = str(key).upper()
        if name == "ACTIVE":
            active = _flag(value)
        elif name == "UF_DEPARTMENT":
            member_of = _department_ids(value)
        elif name == "PERSONAL_BIRTHDAY":
            if isinstance(value, (list, dict)):
                raise _argument(INVALID_TYPE_FIELD, name)
            columns["birthday"] = _birthday(value)
        elif name in COLUMN_OF:
            columns[COLUMN_OF[name]] = _text(name, value)
        elif name in PROFILE_FIELDS:
            profile[name] = _text(name, value)
    return Changes(columns, profile, active, member_of)


_NAME_OF = {column: name for name, column in COLUMN_OF.items()}


def check_values(changes: Changes) -> None:
    """What CUser refuses: too long a text, an unknown gender or time zone."""
    texts = [(_NAME_OF[c], v) for c, v in changes.columns.items() if c in _NAME_OF]
    for name, text in [*texts, *changes.profile.items()]:
        if text is not None and len(text) > _limit(name):
            raise _core(f"{name} is longer than {_limit(name)} characters.")
    if changes.columns.get("gender", "") not in GENDERS:
        raise _core("PERSONAL_GENDER must be M, F or empty.")
    zone = changes.columns.get("time_zone", "")
    if zone and zone not in _zones():
        raise _core(f"Unknown time zone {zone[:64]!r}.")


async def _check_departments(conn: AsyncConnection, portal_id: int, ids: tuple[int, ...]) -> None:
    for department_id in ids:
        if not storable(department_id) or (
            await departments.get(conn, portal_id, department_id) is None
        ):
            raise _core(f"Department {department_id} not found.")


async def _check_email(
    conn: AsyncConnection, portal_id: int, email: str, user_id: int | None, error: RestError
) -> None:
    if email and await users.email_taken(conn, portal_id, email, except_id=user_id):
        raise error


async def invite(
    conn: AsyncConnection,
    portal: Portal,
    changes: Changes,
    *,
    now: datetime,
    extranet: bool = False,
    admin: bool = False,
    invitation: bool = True,
    origin: sources.Origin = sources.NO_ONE,
    user_id: int | None = None,
) -> User:
    """Add a user: an employee of the given departments, or an extranet user of none.
    An ``invitation`` (``user.add``) needs an e-mail to go to and room in the plan;
    the CLI, the administrator's own tool, creates the account directly.

    Raises ``ONUSERADD`` now: the real one waits for the invited user's first login,
    a step b24local has no counterpart of (docs/compat.md). ``origin`` says who
    invites: a REST call's user and application, or the CLI (no one). A state file
    chooses ``user_id`` and brings accounts, not invitations: their e-mail may be on
    a local host."""
    email = changes.columns.get("email", "")
    if (invitation or email) and not valid_email(email, local=user_id is not None):
        raise _argument(WRONG_EMAIL)
    if invitation and not extranet:
        limit = plans.USER_LIMITS.get(portal.plan)
        if limit is not None and await users.count_active(conn, portal.id, "employee") >= limit:
            raise _argument(USER_COUNT_EXCEEDED)
    member_of = () if extranet else (changes.departments or ())
    if not extranet and not member_of:
        raise _argument(NO_EXTRANET_FIELD)
    await _check_email(conn, portal.id, email, None, _argument(EMAIL_TAKEN))
    check_values(changes)
    await _check_departments(conn, portal.id, member_of)
    columns = {"name": "", "last_name": "", **changes.columns}
    user = await users.add(
        conn,
        portal.id,
        now=now,
        user_id=user_id,
        department_ids=member_of,
        active=True if changes.active is None else changes.active,
        is_admin=admin,
        user_type="extranet" if extranet else "employee",
        profile={k: v for k, v in changes.profile.items() if v is not None},
        **columns,
    )
    await raise_event(
        conn, portal.id, "ONUSERADD", sources.user_added(user, portal.zone), now=now,
        actor_id=origin.actor_id, app_id=origin.app_id, connector=origin.connector,
    )  # fmt: skip
    return user


async def change(
    conn: AsyncConnection,
    portal: Portal,
    user: User,
    changes: Changes,
    *,
    now: datetime,
    admin: bool | None = None,
) -> User:
    """Change what is given and leave the rest. Deactivating a user takes effect on
    the next call: authentication reads ``active`` with the user."""
    await users.lock(conn, portal.id, user.id)
    check_values(changes)
    email = changes.columns.get("email")
    if email is not None and email != "" and not valid_email(email):
        raise _core("Incorrect e-mail address.")
    if email:
        await _check_email(conn, portal.id, email, user.id, _core(EMAIL_TAKEN.description + "."))
    values = dict(changes.columns)
    if changes.active is not None:
        values["active"] = changes.active
    if admin is not None:
        values["is_admin"] = admin
    if changes.profile:
        merged = dict(user.profile) | changes.profile
        values["profile"] = {k: v for k, v in merged.items() if v is not None}
    await users.update_fields(conn, portal.id, user.id, now=now, **values)
    if changes.departments is not None:
        await _check_departments(conn, portal.id, changes.departments)
        await departments.set_membership(conn, portal.id, user.id, changes.departments)
        if user.user_type in ("employee", "extranet"):
            # As the real intranet UserTable derives it: no department, no employee.
            kind = "employee" if changes.departments else "extranet"
            await users.update_fields(conn, portal.id, user.id, now=now, user_type=kind)
    changed = await users.get(conn, portal.id, user.id)
    assert changed is not None
    return changed
