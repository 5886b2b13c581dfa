"""What a handler receives: the form the real service posts, built at send time.

The body is ``application/x-www-form-urlencoded`` with PHP's bracket keys, as
``http_build_query`` writes them: ``data[FIELDS][ID]=7``, ``auth[domain]=...``.
The ``auth`` block depends on who subscribed (events/index.md): an application
gets a token for the handler's user (and a refresh token only with ONAPPINSTALL
and ONOFFLINEEVENT); an outgoing webhook gets the portal's addresses and its
application token only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import Portal
from b24local.oauth.addresses import ServerAddresses, netloc_of
from b24local.oauth.endpoints import SERVER_REST_PATH
from b24local.oauth.issuing import LOCAL_APP_STATUS, issue_access, issue_pair
from b24local.rest.phpkeys import decode_pairs
from b24local.store import outbox, users
from b24local.store.outbox import Delivery

#: The events that carry a refresh token: they grant lasting access (events/index.md).
WITH_REFRESH = frozenset({"ONAPPINSTALL", "ONAPPUPDATE", "ONOFFLINEEVENT"})


def php_pairs(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """``http_build_query``: nested keys in brackets, lists by index, ``true``/``false``
    as 1/0 and nulls left out, as PHP writes them."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        if value is None:
            return
        if isinstance(value, bool):
            value = int(value)
        yield prefix, str(value)
        return
    for key, item in items:
        yield from php_pairs(item, f"{prefix}[{key}]" if prefix else str(key))


def decoded(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The form as the handler's PHP reads it: what the dev API shows as sent."""
    return decode_pairs(pairs, max_depth=64, max_count=len(pairs) + 1)


async def auth_block(
    conn: AsyncConnection,
    delivery: Delivery,
    portal: Portal,
    addresses: ServerAddresses,
    *,
    now: datetime,
) -> dict[str, Any] | None:
    """``auth`` for the row; None when its subscriber is gone (nothing to send)."""
    base = addresses.portal(portal)
    server_endpoint = addresses.server(portal) + SERVER_REST_PATH
    client_endpoint = base + "/rest/"
    domain = netloc_of(base)
    if delivery.hook_id is not None:
        token = await outbox.hook_token(conn, delivery.hook_id)
        if token is None:
            return None
        # The order the events page shows for an outgoing webhook.
        return {
            "domain": domain,
            "client_endpoint": client_endpoint,
            "server_endpoint": server_endpoint,
            "member_id": portal.member_id,
            "application_token": token,
        }
    if delivery.app_id is None:
        # An uninstalled application: its row is gone, the delivery kept its token
        # (events/lifecycle.py); no access token, as on-app-uninstall.md shows.
        token = _kept_token(delivery.payload)
        if token is None:
            return None
        return {
            "domain": domain,
            "server_endpoint": server_endpoint,
            "client_endpoint": client_endpoint,
            "member_id": portal.member_id,
            "application_token": token,
        }
    found = await outbox.app_of(conn, portal.id, delivery.app_id)
    if found is None:
        return None
    app, application_token = found
    tokens: dict[str, Any] = {}
    user = (
        await users.get(conn, portal.id, delivery.auth_user_id) if delivery.auth_user_id else None
    )
    # No token for a user who cannot use the app: as for an agent's change, whose
    # user the real service cannot tell (events/index.md).
    if user is not None and user.active and app.admits(user.id):
        if delivery.event in WITH_REFRESH:
            pair = await issue_pair(conn, app, user.id, app.scopes, now)
            access, expires_at, refresh = pair.access_token, pair.expires_at, pair.refresh_token
        else:
            access, expires_at = await issue_access(conn, app, user.id, app.scopes, now)
            refresh = None
        tokens = {
            "access_token": access,
            "expires_in": int((expires_at - now).total_seconds()),
            "scope": ",".join(sorted(app.scopes)),
        }
        if refresh is not None:
            tokens["refresh_token"] = refresh
    block = {
        **tokens,
        "domain": domain,
        "server_endpoint": server_endpoint,
        **({"status": LOCAL_APP_STATUS} if tokens else {}),
        "client_endpoint": client_endpoint,
        "member_id": portal.member_id,
        "application_token": application_token,
    }
    return block


def _kept_token(kept: Any) -> str | None:
    auth = kept.get("auth") if isinstance(kept, dict) else None
    token = auth.get("application_token") if isinstance(auth, dict) else None
    return token if isinstance(token, str) and token else None


def body(delivery: Delivery, auth: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The top-level keys, the same for every event; a lifecycle event sent to the
    app's own handler has no ``event_handler_id`` (on-app-install.md)."""
    form: dict[str, Any] = {"event": delivery.event}
    if delivery.handler_id is not None:
        form["event_handler_id"] = delivery.handler_id
    form["data"] = delivery.data
    form["ts"] = int(now.timestamp())
    form["auth"] = auth
    return form
