"""User fields as ``user.get`` and ``user.current`` return them, cut to the scope.

The three user scopes see different fields (reference: ``user/user-scope.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time, tzinfo
from typing import Any

from b24local.entities import User
from b24local.rest.envelope import atom
from b24local.scopes.im.presence import Presence, is_online

#: Every field with the title ``user.fields`` gives it, in the order of the page's
#: example (the real module's own order). The example's portal has no UF_FACEBOOK
#: field, so neither does b24local's.
TITLES: dict[str, str] = {
    "ID": "ID",
    "XML_ID": "External code",
    "ACTIVE": "Activity",
    "NAME": "First Name",
    "LAST_NAME": "Last Name",
    "SECOND_NAME": "Middle Name",
    "TITLE": "User List",
    "EMAIL": "E-Mail",
    "LAST_LOGIN": "Last Authorization",
    "DATE_REGISTER": "Registration Date",
    "TIME_ZONE": "TIME_ZONE",
    "IS_ONLINE": "IS_ONLINE",
    "TIMESTAMP_X": "TIMESTAMP_X",
    "LAST_ACTIVITY_DATE": "LAST_ACTIVITY_DATE",
    "PERSONAL_GENDER": "Gender",
    "PERSONAL_PROFESSION": "Profession",
    "PERSONAL_WWW": "Homepage",
    "PERSONAL_BIRTHDAY": "Date of Birth",
    "PERSONAL_PHOTO": "Photo",
    "PERSONAL_ICQ": "ICQ",
    "PERSONAL_PHONE": "Personal Phone",
    "PERSONAL_FAX": "Fax",
    "PERSONAL_MOBILE": "Personal Mobile",
    "PERSONAL_PAGER": "Pager",
    "PERSONAL_STREET": "Residential Street",
    "PERSONAL_CITY": "Residential City",
    "PERSONAL_STATE": "State / Region",
    "PERSONAL_ZIP": "Zip Code",
    "PERSONAL_COUNTRY": "Country",
    "PERSONAL_MAILBOX": "P.O. Box",
    "PERSONAL_NOTES": "Additional Notes",
    "WORK_PHONE": "Company Phone",
    "WORK_COMPANY": "Company",
    "WORK_POSITION": "Job Title",
    "WORK_DEPARTMENT": "Department",
    "WORK_WWW": "Company Website",
    "WORK_FAX": "WORK_FAX",
    "WORK_PAGER": "WORK_PAGER",
    "WORK_STREET": "WORK_STREET",
    "WORK_MAILBOX": "WORK_MAILBOX",
    "WORK_CITY": "Work City",
    "WORK_STATE": "WORK_STATE",
    "WORK_ZIP": "WORK_ZIP",
    "WORK_COUNTRY": "WORK_COUNTRY",
    "WORK_PROFILE": "WORK_PROFILE",
    "WORK_LOGO": "WORK_LOGO",
    "WORK_NOTES": "WORK_NOTES",
    "UF_SKYPE_LINK": "Skype Chat Link",
    "UF_ZOOM": "Zoom",
    "UF_EMPLOYMENT_DATE": "Hire Date",
    "UF_TIMEMAN": "Time Tracking",
    "UF_DEPARTMENT": "Units",
    "UF_INTERESTS": "Interests",
    "UF_SKILLS": "Skills",
    "UF_WEB_SITES": "Other Websites",
    "UF_XING": "Xing",
    "UF_LINKEDIN": "LinkedIn",
    "UF_TWITTER": "Twitter",
    "UF_SKYPE": "Skype",
    "UF_DISTRICT": "District",
    "UF_PHONE_INNER": "Extension",
    "USER_TYPE": "USER_TYPE",
}
ALL_FIELDS = tuple(TITLES)

#: The fields every user has a value for; the others (``WORK_COMPANY``, ...) appear in
#: ``user.get`` only once set, as the real module leaves out what is NULL.
ALWAYS_SHOWN = frozenset({
    "ID", "XML_ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "LAST_LOGIN",
    "DATE_REGISTER", "TIME_ZONE", "IS_ONLINE", "TIMESTAMP_X", "LAST_ACTIVITY_DATE",
    "PERSONAL_GENDER", "PERSONAL_WWW", "PERSONAL_BIRTHDAY", "PERSONAL_MOBILE", "PERSONAL_CITY",
    "WORK_PHONE", "WORK_POSITION", "UF_EMPLOYMENT_DATE", "UF_DEPARTMENT", "UF_PHONE_INNER",
    "USER_TYPE",
})  # fmt: skip

#: The two columns of ``user/user-scope.md``, name for name, in the page's order.
USER_BASIC_COLUMN = (
    "ID", "XML_ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "TITLE", "EMAIL",
    "PERSONAL_PHONE", "WORK_PHONE", "WORK_POSITION", "WORK_COMPANY", "IS_ONLINE", "TIME_ZONE",
    "TIMESTAMP_X", "DATE_REGISTER", "LAST_ACTIVITY_DATE", "PERSONAL_PROFESSION",
    "PERSONAL_GENDER", "PERSONAL_BIRTHDAY", "PERSONAL_PHOTO", "PERSONAL_PHONE", "PERSONAL_FAX",
    "PERSONAL_MOBILE", "PERSONAL_PAGER", "PERSONAL_STREET", "PERSONAL_MAILBOX", "PERSONAL_CITY",
    "PERSONAL_STATE", "PERSONAL_ZIP", "PERSONAL_COUNTRY", "PERSONAL_NOTES", "WORK_COMPANY",
    "WORK_DEPARTMENT", "WORK_POSITION", "WORK_WWW", "WORK_PHONE", "WORK_FAX", "WORK_PAGER",
    "WORK_STREET", "WORK_MAILBOX", "WORK_CITY", "WORK_STATE", "WORK_ZIP", "WORK_COUNTRY",
    "WORK_PROFILE", "WORK_LOGO", "WORK_NOTES", "UF_DEPARTMENT", "UF_DISTRICT", "UF_SKYPE",
    "UF_SKYPE_LINK", "UF_ZOOM", "UF_TWITTER", "UF_FACEBOOK", "UF_LINKEDIN", "UF_XING",
    "UF_WEB_SITES", "UF_PHONE_INNER", "UF_EMPLOYMENT_DATE", "UF_TIMEMAN", "UF_SKILLS",
    "UF_INTERESTS",
)  # fmt: skip
USER_BRIEF_COLUMN = (
    "ID", "XML_ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "IS_ONLINE", "TIME_ZONE",
    "PERSONAL_PHOTO", "TIMESTAMP_X", "DATE_REGISTER", "PERSONAL_PROFESSION", "PERSONAL_GENDER",
    "PERSONAL_BIRTHDAY", "PERSONAL_CITY", "PERSONAL_STATE", "PERSONAL_COUNTRY", "WORK_POSITION",
    "WORK_CITY", "WORK_STATE", "WORK_COUNTRY", "LAST_ACTIVITY_DATE", "UF_EMPLOYMENT_DATE",
    "UF_TIMEMAN", "UF_SKILLS", "UF_INTERESTS", "UF_DEPARTMENT", "UF_PHONE_INNER",
)  # fmt: skip

FULL_FIELDS = frozenset(ALL_FIELDS)
BASIC_FIELDS = FULL_FIELDS & frozenset(USER_BASIC_COLUMN)
BRIEF_FIELDS = FULL_FIELDS & frozenset(USER_BRIEF_COLUMN)

#: What each user scope lets a caller read.
FIELDS_BY_SCOPE = {"user": FULL_FIELDS, "user_basic": BASIC_FIELDS, "user_brief": BRIEF_FIELDS}


def field_titles(scopes: frozenset[str]) -> dict[str, str]:
    """``user.fields``: the fields the widest of the caller's user scopes reads, titled."""
    for scope, column in (("user", ALL_FIELDS), ("user_basic", USER_BASIC_COLUMN),
                          ("user_brief", USER_BRIEF_COLUMN)):  # fmt: skip
        if scope in scopes:
            return {name: TITLES[name] for name in column if name in TITLES}
    return {}


def visible_fields(scopes: frozenset[str]) -> frozenset[str]:
    visible: frozenset[str] = frozenset()
    for scope, fields in FIELDS_BY_SCOPE.items():
        if scope in scopes:
            visible |= fields
    return visible


def selected_fields(select: Any, visible: frozenset[str]) -> tuple[str, ...]:
    """``select`` with its ``*`` and ``UF_*`` masks; unknown or hidden names are skipped."""
    if isinstance(select, str):
        select = [select]
    if isinstance(select, dict):
        select = list(select.values())
    if not isinstance(select, list) or not select:
        return tuple(f for f in ALL_FIELDS if f in visible)
    wanted: set[str] = set()
    for item in select:
        name = str(item).upper()
        if name == "*":
            wanted |= set(ALL_FIELDS)
        elif name.endswith("*"):
            wanted |= {f for f in ALL_FIELDS if f.startswith(name[:-1])}
        else:
            wanted.add(name)
    return tuple(f for f in ALL_FIELDS if f in wanted and f in visible)


def _atom_or_empty(value: datetime | None, zone: tzinfo) -> str:
    return atom(value, zone) if value is not None else ""


def _plain_or_empty(value: datetime | None, zone: tzinfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _as_object(_value: datetime | None, _zone: tzinfo) -> dict[str, Any]:
    # user.get hands these two fields out as PHP DateTime objects, which
    # json_encode renders as {} — the reference's example shows exactly that.
    return {}


#: ``user.get`` and ``user.current`` differ only in how two raw dates come out.
RawDates = Callable[[datetime | None, tzinfo], Any]
LIST_STYLE: RawDates = _as_object
CURRENT_STYLE: RawDates = _plain_or_empty


def user_fields(
    user: User,
    state: Presence,
    fields: Iterable[str],
    *,
    now: datetime,
    zone: tzinfo,
    raw_dates: RawDates,
) -> dict[str, Any]:
    birthday = (
        atom(datetime.combine(user.birthday, time(0), zone)) if user.birthday is not None else ""
    )
    values: dict[str, Callable[[], Any]] = {
        "ID": lambda: str(user.id),
        "XML_ID": lambda: user.xml_id,
        "ACTIVE": lambda: user.active,
        "NAME": lambda: user.name,
        "LAST_NAME": lambda: user.last_name,
        "SECOND_NAME": lambda: user.second_name,
        "EMAIL": lambda: user.email,
        "LAST_LOGIN": lambda: _atom_or_empty(user.last_login, zone),
        "DATE_REGISTER": lambda: _atom_or_empty(user.date_register, zone),
        "TIME_ZONE": lambda: user.time_zone,
        "IS_ONLINE": lambda: "Y" if is_online(state, now) else "N",
        "TIMESTAMP_X": lambda: raw_dates(user.timestamp_x, zone),
        "LAST_ACTIVITY_DATE": lambda: raw_dates(state.last_activity, zone),
        "PERSONAL_GENDER": lambda: user.gender,
        "PERSONAL_WWW": lambda: user.website,
        "PERSONAL_BIRTHDAY": lambda: birthday,
        "PERSONAL_MOBILE": lambda: user.personal_mobile,
        "PERSONAL_CITY": lambda: user.personal_city,
        "WORK_PHONE": lambda: user.work_phone,
        "WORK_POSITION": lambda: user.work_position,
        "UF_EMPLOYMENT_DATE": lambda: "",
        "UF_DEPARTMENT": lambda: list(user.departments),
        "UF_PHONE_INNER": lambda: user.inner_phone,
        "USER_TYPE": lambda: user.user_type,
    }
    shown: dict[str, Any] = {}
    for name in fields:
        if name in values:
            shown[name] = values[name]()
        elif (given := user.profile_value(name)) is not None:
            shown[name] = given
    return shown
