"""``user.get`` and ``user.search`` filters: Bitrix's prefixed keys translated to SQL.

``{">=ID": 5, "%LAST_NAME": "son", "@UF_DEPARTMENT": [1, 3]}`` — the prefix says
how to compare, the rest names the field. Unknown fields, and fields the caller's
scope does not let it read, are ignored, as the real service ignores them.
``user.search`` reads the same filters, and besides takes ``FIND`` and
``UF_DEPARTMENT_NAME``, and matches the name fields by how they begin (the real
method's "right LIKE" on its search index): ``{"NAME": "jo"}`` finds John.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import MAXYEAR, UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement as Column

from b24local.people import PROFILE_FIELDS
from b24local.rest.params import php_int, php_str, php_truthy
from b24local.scopes.filtering import MAX_PATTERN, compare, values_of
from b24local.scopes.im.presence import ONLINE_WINDOW
from b24local.store.tables import departments, presence, user_departments, users
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
    # A profile field never given compares as the empty text.
    **{name: func.coalesce(users.c.profile[name].as_string(), "") for name in PROFILE_FIELDS},
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
#: Fields ``FIND`` and ``NAME_SEARCH`` look in (and the names of the user's departments):
#: the page's list. Not the e-mail, which a narrow scope may not even read.
SEARCHED = (users.c.name, users.c.last_name, users.c.second_name, users.c.work_position)
#: More distinct words than this find nobody: each must begin one of a person's few
#: names, so no one matches that many, and each costs the query a dozen comparisons.
MAX_WORDS = 16
#: What ``user.search`` matches loosely rather than exactly.
LOOSE = ("NAME", "LAST_NAME", "SECOND_NAME", "WORK_POSITION")
#: Filter names no scope hides.
ALWAYS_FILTERABLE = frozenset({"NAME_SEARCH", "IS_ONLINE", "HAS_DEPARTAMENT"})
SEARCH_ONLY = frozenset({"FIND", "UF_DEPARTMENT_NAME"})


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


def _starts(column: Any, text: str) -> ColumnElement[bool]:
    """The text begins the value, or one of its words: plain text, so ``%`` and ``_``
    are themselves. Text longer than any stored value begins none."""
    if len(text) > MAX_PATTERN:
        return false()
    plain = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column.ilike(f"{plain}%", escape="\\"), column.ilike(f"% {plain}%", escape="\\"))


def _in_department_named(text: str) -> ColumnElement[bool]:
    """Users in a department whose name, or a word of it, begins with the text."""
    return users.c.id.in_(
        select(user_departments.c.user_id)
        .join(
            departments,
            and_(
                departments.c.portal_id == user_departments.c.portal_id,
                departments.c.id == user_departments.c.department_id,
            ),
        )
        .where(user_departments.c.portal_id == users.c.portal_id, _starts(departments.c.name, text))
    )


def _members_of_any() -> Any:
    return select(user_departments.c.user_id).where(
        user_departments.c.portal_id == users.c.portal_id
    )


def _find(value: Any) -> list[ColumnElement[bool]]:
    """``FIND`` / ``NAME_SEARCH``: every word begins a name, the e-mail, the position
    or the name of one of the user's departments (or a word of one)."""
    words = list(dict.fromkeys(php_str(value).lower().split()))
    if len(words) > MAX_WORDS:
        return [false()]
    return [
        or_(*(_starts(column, word) for column in SEARCHED), _in_department_named(word))
        for word in words
    ]


def conditions(
    filter_: dict[str, Any],
    now: datetime,
    zone: tzinfo,
    visible: frozenset[str],
    *,
    search: bool = False,
) -> list[ColumnElement[bool]]:
    """The filter's conditions for a caller who reads ``visible`` fields; ``search``
    for ``user.search``."""
    found: list[ColumnElement[bool]] = []
    named = {split_prefix(str(key))[1].upper() for key in filter_}
    loose = search and not ({"FIND", "NAME_SEARCH"} & named)
    for raw_key, value in filter_.items():
        op, name = split_prefix(str(raw_key))
        name = name.upper()
        allowed = name in visible or name in ALWAYS_FILTERABLE or (search and name in SEARCH_ONLY)
        if not allowed:
            continue
        if name in ("NAME_SEARCH", "FIND"):
            found.extend(_find(value))
        elif loose and name in LOOSE and op == "":
            # Only the bare key: "!NAME" or ">=NAME" keep their meaning, as in the real
            # method, which takes just the bare keys out for its search.
            if text := php_str(value).strip():
                found.append(_starts(TEXT_COLUMNS[name], text))
        elif name == "UF_DEPARTMENT_NAME":
            if loose and op == "" and (text := php_str(value).strip()):
                found.append(_in_department_named(text))
        elif name == "HAS_DEPARTAMENT":
            if php_str(value) == "Y":
                found.append(users.c.id.in_(_members_of_any()))
        elif (condition := _field_condition(name, op, value, now, zone)) is not None:
            found.append(condition)
    return found


def _field_condition(
    name: str, op: str, value: Any, now: datetime, zone: tzinfo
) -> ColumnElement[bool] | None:
    if name == "ID":
        return compare(users.c.id, op, value, php_int)
    if name == "ACTIVE":
        return compare(users.c.active, op, value, _flag)
    if name in TEXT_COLUMNS:
        return compare(TEXT_COLUMNS[name], op, value, php_str)
    if name in DATE_COLUMNS:
        return _date_condition(name, DATE_COLUMNS[name], op, value, zone)
    if name == "UF_DEPARTMENT":
        member = in_department([php_int(v) for v in values_of(value)])
        return not_(member) if op in ("!", "!=", "!@") else member
    if name == "IS_ONLINE":
        return _online_condition(op, value, now)
    if name == "LAST_ACTIVITY_DATE":
        return _activity_condition(op, value, zone)
    if name == "UF_EMPLOYMENT_DATE":
        # Never set here, so no value compares with it (as with NULL in SQL).
        return false()
    return None


def order(sort: str, direction: str) -> Sequence[Any]:
    column = SORTABLE.get(sort.upper(), users.c.id)
    descending = direction.strip().upper() == "DESC"
    primary = column.desc() if descending else column.asc()
    return [primary] if column is users.c.id else [primary, users.c.id.asc()]
