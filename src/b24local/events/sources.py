"""What the events b24local raises carry, and who raised them.

Each builder turns the changed object into the ``data`` the real service posts for
the event; :class:`Origin` says who made the change: the user whose token a handler
gets, and the application and ``auth_connector`` of the call, so that an offline
handler of that application bound with that connector does not hear of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from b24local import plans
from b24local.entities import User
from b24local.rest.call import Call
from b24local.rest.envelope import atom
from b24local.rest.params import php_str

CONNECTOR_LENGTH = 255


def user_added(user: User, zone: tzinfo) -> dict[str, Any]:
    """``ONUSERADD``: the fields of on-user-add.md's example, typed as it shows them
    (a numeric ID and department IDs, ``ACTIVE`` as Y/N, dates as text). An extranet
    user belongs to no department and has no ``UF_DEPARTMENT``, as the page allows."""
    data: dict[str, Any] = {
        "ID": user.id,
        "ACTIVE": "Y" if user.active else "N",
        "EMAIL": user.email,
        "NAME": user.name,
        "LAST_NAME": user.last_name,
        "PERSONAL_GENDER": user.gender,
        "PERSONAL_BIRTHDAY": user.birthday.isoformat() if user.birthday is not None else "",
        "UF_DEPARTMENT": list(user.departments),
        "DATE_REGISTER": atom(user.date_register, zone) if user.date_register else "",
        "WORK_POSITION": user.work_position,
        # b24local keeps no employment date; user.get answers "" for it too.
        "UF_EMPLOYMENT_DATE": "",
    }
    if user.user_type == "extranet":
        del data["UF_DEPARTMENT"]
    return data


@dataclass(frozen=True, slots=True)
class Origin:
    """Who made a change. The default is the administrator's own tools (the CLI,
    seed files): no user acted, so a handler gets no token unless bound with one."""

    actor_id: int | None = None
    #: The application whose OAuth call made the change.
    app_id: int | None = None
    connector: str = ""


#: A change made by the administrator's own tools.
NO_ONE = Origin()


def origin_of(call: Call) -> Origin:
    app = call.caller.app
    return Origin(call.user.id, app.id if app else None, connector_of(call))


def connector_of(call: Call) -> str:
    """The call's ``auth_connector``: a parameter beside ``auth`` that the real service
    reads with an application's token only (a webhook's is ignored), and on the plans
    that have the feature (Professional and above, as offline-events.md says)."""
    if call.caller.app is None or not plans.has_feature(call.portal.plan, "rest_auth_connector"):
        return ""
    value = call.params.get("auth_connector")
    if isinstance(value, (list, dict)):
        return ""
    # Cut to the column, as the real one's varchar(255) keeps it.
    return php_str(value)[:CONNECTOR_LENGTH]
