"""Who is calling: the portal from the host name, the user and scopes from a
webhook path or an OAuth ``auth`` token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local import plans
from b24local.entities import App, Portal, User
from b24local.store import apps, portals, tokens, users, webhooks

from .errors import (
    ACCESS_DENIED,
    EXPIRED_TOKEN,
    INVALID_CREDENTIALS,
    NO_AUTH_FOUND,
    OVERLOAD_LIMIT,
    PORTAL_DELETED,
    USER_ACCESS_ERROR,
)
from .transport import CallRequest, WebhookCredentials


@dataclass(frozen=True, slots=True)
class Caller:
    portal: Portal
    user: User
    scopes: frozenset[str]
    kind: Literal["webhook", "token"]
    #: The webhook ID or application client ID: what limits are counted against.
    client: str
    #: The application behind an OAuth token.
    app: App | None = None
    #: When the webhook or token stops working; None: never.
    valid_until: datetime | None = None


def host_name(host: str) -> str:
    """``Acme.localhost:8024`` → ``acme.localhost``; IPv6 literals keep their brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    # A fully qualified name may end in a dot (``acme.localhost.``): the same host.
    return (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).rstrip(".")


async def resolve_portal(conn: AsyncConnection, host: str) -> Portal:
    """The portal a request is for: by host name, else the default portal."""
    portal = await portals.for_host(conn, host_name(host))
    if portal is None:
        raise PORTAL_DELETED()
    return portal


def check_portal_open(portal: Portal) -> None:
    if portal.status == "deleted":
        raise PORTAL_DELETED()
    if portal.status == "blocked":
        raise OVERLOAD_LIMIT()
    if portal.plan in plans.NON_COMMERCIAL:
        raise ACCESS_DENIED()


async def _active_user(conn: AsyncConnection, portal: Portal, user_id: int) -> User:
    user = await users.get(conn, portal.id, user_id)
    if user is None or not user.active:
        raise INVALID_CREDENTIALS()
    return user


Credentials = WebhookCredentials | str | None


def presented(request: CallRequest) -> Credentials:
    """What the call authenticates with: its webhook path, else its ``auth``
    parameter, which is taken out of the method's parameters."""
    if request.webhook is not None:
        return request.webhook
    token = request.params.pop("auth", None)
    return token if isinstance(token, str) and token else None


async def authenticate(
    conn: AsyncConnection, portal: Portal, credentials: Credentials, now: datetime
) -> Caller:
    if isinstance(credentials, WebhookCredentials):
        hook = await webhooks.find(conn, portal.id, credentials.user_id, credentials.code)
        if hook is None or not hook.active:
            raise NO_AUTH_FOUND()
        if hook.expires_at is not None and hook.expires_at <= now:
            raise NO_AUTH_FOUND()
        user = await _active_user(conn, portal, hook.user_id)
        client = f"webhook:{hook.id}"
        return Caller(portal, user, hook.scopes, "webhook", client, valid_until=hook.expires_at)

    if credentials is None:
        raise NO_AUTH_FOUND()
    found = await tokens.find(conn, credentials)
    if found is None or found.portal_id != portal.id:
        raise NO_AUTH_FOUND()
    if found.expires_at <= now:
        raise EXPIRED_TOKEN()
    app = await apps.by_client_id(conn, found.client_id) if found.client_id else None
    if found.client_id and app is None:
        raise NO_AUTH_FOUND()  # the app was removed since
    user = await _active_user(conn, portal, found.user_id)
    scopes = found.scopes
    if app is not None:
        if not app.admits(user.id):
            raise USER_ACCESS_ERROR()
        # The app's scopes may have shrunk since the token was issued.
        scopes = scopes & app.scopes
    client = f"app:{found.client_id or 'token'}"
    return Caller(portal, user, scopes, "token", client, app, valid_until=found.expires_at)
