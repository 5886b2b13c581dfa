"""User cards as the messenger returns them (``im.user.get``, ``im.user.list.get``)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from b24local.entities import User
from b24local.rest.envelope import atom

from .presence import Presence

#: The messenger gives each user one of these colours.
PALETTE = (
    "#df532d", "#4ba984", "#4ba5c3", "#3e99ce", "#8474c8", "#1eb4aa", "#f76187",
    "#58cc47", "#ab7761", "#29619b", "#728f7a", "#ba9c7b", "#e8a441", "#556574",
    "#909090", "#5e5f5e", "#048bd0",
)  # fmt: skip


def color_of(user_id: int) -> str:
    return PALETTE[user_id % len(PALETTE)]


def _moment(value: datetime | None, zone: tzinfo) -> str | bool:
    return atom(value, zone) if value is not None else False


def card(user: User, state: Presence, zone: tzinfo) -> dict[str, Any]:
    phones = {
        key: value
        for key, value in (
            ("work_phone", user.work_phone),
            ("personal_mobile", user.personal_mobile),
            ("inner_phone", user.inner_phone),
        )
        if value
    }
    return {
        "id": user.id,
        "active": user.active,
        "name": user.full_name,
        "first_name": user.name,
        "last_name": user.last_name,
        "work_position": user.work_position,
        "color": color_of(user.id),
        "avatar": "",
        "avatar_hr": "",
        "gender": user.gender or "M",
        "birthday": user.birthday.strftime("%d-%m") if user.birthday else "",
        "extranet": user.user_type == "extranet",
        "network": False,
        "bot": False,
        "connector": False,
        "external_auth_id": "default",
        "status": state.status,
        "idle": _moment(state.idle_since, zone),
        "last_activity_date": _moment(state.last_activity, zone),
        "mobile_last_date": False,
        "desktop_last_date": False,
        "absent": False,
        "departments": list(user.departments),
        "phones": phones or False,
        "website": user.website,
        "email": user.email,
        "bot_data": None,
        "type": "extranet" if user.user_type == "extranet" else "user",
    }
