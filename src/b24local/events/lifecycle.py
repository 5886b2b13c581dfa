"""An application's own events: installed, updated to a new version, uninstalled.

They are not raised with :func:`raising.raise_event`: each concerns one application
only, so it goes to that application's ``handler`` (its install handler) and to the
handlers the application itself bound to the event, never to other applications'.
Updating and uninstalling remove the application's handlers, as the event.bind page
says; the event is written first, so the handlers bound to it still hear it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import App
from b24local.store import events as store

#: The language the events report (``LANGUAGE_ID``); b24local speaks English only.
LANGUAGE_ID = "en"


async def _targets(conn: AsyncConnection, app: App, event: str) -> list[tuple[str, int]]:
    """(handler URL, auth_type) for the event: the app's handler first, then the
    online handlers it bound to the event; one delivery per URL."""
    found: dict[str, int] = {}
    if app.handler:
        found[app.handler] = 0
    for handler in await store.handlers_of_app(conn, app.portal_id, app.id):
        if handler.event == event and not handler.offline and handler.handler:
            found.setdefault(handler.handler, handler.auth_type)
    return list(found.items())


async def _send(
    conn: AsyncConnection,
    app: App,
    event: str,
    data: dict[str, Any],
    *,
    now: datetime,
    actor_id: int | None,
    gone: bool = False,
) -> None:
    for url, auth_type in await _targets(conn, app, event):
        await store.enqueue(
            conn,
            app.portal_id,
            event=event,
            handler_url=url,
            data=data,
            now=now,
            # An uninstalled app's rows vanish with it: the delivery keeps its own
            # copy of the token its auth block carries, and gets no access token.
            app_id=None if gone else app.id,
            auth_user_id=None if gone else (auth_type or actor_id),
            payload={"auth": {"application_token": app.application_token}} if gone else None,
        )


async def installed(
    conn: AsyncConnection, app: App, *, now: datetime, installer_id: int | None
) -> None:
    """ONAPPINSTALL to the new app's handler, authorised as the installing administrator."""
    data = {
        "VERSION": str(app.version),
        "ACTIVE": "Y",
        "INSTALLED": "Y",
        "LANGUAGE_ID": LANGUAGE_ID,
    }
    await _send(conn, app, "ONAPPINSTALL", data, now=now, actor_id=installer_id)


async def updated(
    conn: AsyncConnection, app: App, previous_version: int, *, now: datetime, actor_id: int | None
) -> None:
    """ONAPPUPDATE for ``app`` (already at its new version); then its handlers go."""
    data = {
        "VERSION": str(app.version),
        "PREVIOUS_VERSION": str(previous_version),
        "LANGUAGE_ID": LANGUAGE_ID,
    }
    await _send(conn, app, "ONAPPUPDATE", data, now=now, actor_id=actor_id)
    await store.remove_app_handlers(conn, app.portal_id, app.id)


async def uninstalled(conn: AsyncConnection, app: App, *, now: datetime, clean: bool) -> None:
    """ONAPPUNINSTALL, written before the app's rows are deleted; then its handlers go."""
    data = {"LANGUAGE_ID": LANGUAGE_ID, "CLEAN": 1 if clean else 0}
    await _send(conn, app, "ONAPPUNINSTALL", data, now=now, actor_id=None, gone=True)
    await store.remove_app_handlers(conn, app.portal_id, app.id)
