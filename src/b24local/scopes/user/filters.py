"""``user.get`` filters: Bitrix's prefixed keys translated to SQL conditions.

``{">=ID": 5, "%LAST_NAME": "son", "@UF_DEPARTMENT": [1, 3]}`` — the prefix says
how to compare, the rest names the field. Unknown fields are ignored, as the
real service does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import MAXYEAR, UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, false, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement as Column

from b24local.rest.params import php_int, php_str, php_truthy
from b24local.scopes.filtering import compare, values_of
from b24local.scopes.im.presence import ONLINE_WINDOW
from b24local.store.tables import presence, users
from b24local.store.users import in_department

# Longest first, so "!=%" is not read as "!".
PREFIXES = ("!=%", "!%=", ">=", "<=", "!@", "=%", "%=", "!%", "!=", ">", "<", "@", "%", "=", "!")

TEXT_COLUMNS: dict[str, Column] = {
    "NAME": users.c.name,
    "LAST_NAME": users.c.last_name,
    "SECOND_NAME": users.c.second_name,
    "EMAIL": users.c.email,
    "XML_ID": users.c.xml_id,
    "WORK_POSITION": users.c.work_position,
    "PERSONAL_GENDER": users.c.gender,
    "PERSONAL_CITY": users.c.personal_city,
    "PERSONAL_WWW": users.c.website,
    "PERSONAL_MOBILE": users.c.personal_mobile,
    "WORK_PHONE": users.c.work_phone,
    "UF_PHONE_INNER": users.c.inner_phone,
    "TIME_ZONE": users.c.time_zone,
    "USER_TYPE": users.c.user_type,
}
DATE_COLUMNS: dict[str, Column] = {
    "DATE_REGISTER": users.c.date_register,
    "LAST_LOGIN": users.c.last_login,
    "TIMESTAMP_X": users.c.timestamp_x,
    "PERSONAL_BIRTHDAY": users.c.birthday,
}
SORTABLE: dict[str, Column] = {
    "ID": users.c.id,
    "ACTIVE": users.c.active,
    **TEXT_COLUMNS,
    **DATE_COLUMNS,
}
#: Fields ``NAME_SEARCH`` looks in.
SEARCHED = (users.c.name, users.c.last_name, users.c.second_name, users.c.email,
            users.c.work_position)  # fmt: skip


def split_prefix(key: str) -> tuple[str, str]:
    for prefix in PREFIXES:
        if key.startswith(prefix):
            return prefix, key[len(prefix) :]
    return "", key


def _in_utc(moment: datetime) -> datetime:
    """The moment in UTC; one that UTC would put past the calendar's ends (year 1 or
    9999 with an offset) stops at that end, which no stored date lies beyond."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.max if moment.year == MAXYEAR else datetime.min
        return edge.replace(tzinfo=UTC)


def _to_datetime(value: Any, zone: tzinfo) -> datetime | None:
    text = php_str(value).strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%d.%m.%Y")
        except ValueError:
            return None
    # A value without an offset is in the portal's time, like the portal's own dates.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _date_condition(
    name: str, column: Column, op: str, value: Any, zone: tzinfo
) -> ColumnElement[bool]:
    moments = [_to_datetime(v, zone) for v in values_of(value)]
    if any(m is None for m in moments):
        # The reference: a value that is not a date matches nothing.
        return false()
    if name == "PERSONAL_BIRTHDAY":
        return compare(column, op, [m.date() for m in moments if m])  # type: ignore[union-attr]
    return compare(column, op, [_in_utc(m) for m in moments if m])


def _activity_condition(op: str, value: Any, zone: tzinfo) -> ColumnElement[bool]:
    """``LAST_ACTIVITY_DATE`` is kept with the presence: users whose row matches."""
    matching = _date_condition("LAST_ACTIVITY_DATE", presence.c.last_activity, op, value, zone)
    return users.c.id.in_(
        select(presence.c.user_id).where(presence.c.portal_id == users.c.portal_id, matching)
    )


def _online_condition(op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    seen_recently = users.c.id.in_(
        select(presence.c.user_id).where(
            presence.c.portal_id == users.c.portal_id,
            presence.c.idle_since.is_(None),
            presence.c.last_activity >= now - ONLINE_WINDOW,
        )
    )
    wanted = php_truthy(values_of(value)[0]) if values_of(value) else True
    if op in ("!", "!="):
        wanted = not wanted
    return seen_recently if wanted else not_(seen_recently)


def _flag(value: Any) -> bool:
    return php_truthy(value)


def conditions(filter_: dict[str, Any], now: datetime, zone: tzinfo) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for raw_key, value in filter_.items():
        op, name = split_prefix(str(raw_key))
        name = name.upper()
        if name == "ID":
            found.append(compare(users.c.id, op, value, php_int))
        elif name == "ACTIVE":
            found.append(compare(users.c.active, op, value, _flag))
        elif name in TEXT_COLUMNS:
            found.append(compare(TEXT_COLUMNS[name], op, value, php_str))
        elif name in DATE_COLUMNS:
            found.append(_date_condition(name, DATE_COLUMNS[name], op, value, zone))
        elif name == "UF_DEPARTMENT":
            ids = [php_int(v) for v in values_of(value)]
            member = in_department(ids)
            found.append(not_(member) if op in ("!", "!=", "!@") else member)
        elif name == "NAME_SEARCH":
            words = php_str(value).split()
            found.extend(or_(*(c.ilike(f"%{word}%") for c in SEARCHED)) for word in words)
        elif name == "IS_ONLINE":
            found.append(_online_condition(op, value, now))
        elif name == "LAST_ACTIVITY_DATE":
            found.append(_activity_condition(op, value, zone))
        elif name == "UF_EMPLOYMENT_DATE":
            # Never set here, so no value compares with it (as with NULL in SQL).
            found.append(false())
    return found


def order(sort: str, direction: str) -> Sequence[Any]:
    column = SORTABLE.get(sort.upper(), users.c.id)
    descending = direction.strip().upper() == "DESC"
    primary = column.desc() if descending else column.asc()
    return [primary] if column is users.c.id else [primary, users.c.id.asc()]
