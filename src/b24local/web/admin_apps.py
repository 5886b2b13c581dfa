"""Administration, applications: the portal's installed apps as :func:`..admin.app_record`
shows them, and removing one through :func:`..admin.remove_app` (``b24local app remove``).

Removing is the uninstall the CLI does: the app's handler hears ONAPPUNINSTALL, and
its tokens are refused from the next call on.
"""

from __future__ import annotations

import re

from starlette.responses import RedirectResponse, Response

from b24local import admin
from b24local.scopes.timeman.access import administers
from b24local.store import users

from .administer import require
from .pages import handler
from .render import page
from .visit import Refused, Visit

#: What a client ID of ours may be (``local.<hex>.<hex>``, or one given at install):
#: anything else in a path names no application.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _admin(current: Visit) -> None:
    assert current.user is not None
    require(administers(current.user))


@handler()
async def apps_page(current: Visit) -> Response:
    _admin(current)
    store = current.runtime.store
    found = await admin.list_apps(store, current.portal.domain)
    async with store.transaction() as conn:
        everyone = await users.all_users(conn, current.portal.id)
    return page(
        current.request, "admin_apps.html", visit=current, error=None,
        csrf_token=current.csrf_token(),
        apps=[admin.app_record(app) for app in found],
        people={user.id: user for user in everyone},
        done=current.request.query_params.get("done", ""),
    )  # fmt: skip


@handler()
async def remove_app(current: Visit) -> Response:
    _admin(current)
    client_id = current.request.path_params["client"]
    if not _CLIENT_ID.fullmatch(client_id):
        raise Refused("error.not_found", 404)
    form = await current.form()  # the CSRF checks
    try:
        await admin.remove_app(
            current.runtime.store, client_id, current.portal.domain,
            now=current.runtime.clock.now(), clean=form.get("clean") == "1",
        )  # fmt: skip
    except admin.AdminError:
        raise Refused("error.not_found", 404) from None
    return RedirectResponse("/admin/apps?done=removed", status_code=303)
