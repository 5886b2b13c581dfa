"""What the events b24local raises carry, and who raised them.

Each builder turns the changed object into the ``data`` the real service posts for
the event; :func:`connector_of` reads the ``auth_connector`` a changing call names, so
that an offline handler bound with it does not hear about its own change.
"""

from __future__ import annotations

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


def connector_of(call: Call) -> str:
    """The call's ``auth_connector``: a parameter beside ``auth``, heeded only on the
    plans that have the feature (Professional and above, as offline-events.md says)."""
    if not plans.has_feature(call.portal.plan, "rest_auth_connector"):
        return ""
    value = call.params.get("auth_connector")
    if isinstance(value, (list, dict)):
        return ""
    # Cut to the column, as the real one's varchar(255) keeps it.
    return php_str(value)[:CONNECTOR_LENGTH]
