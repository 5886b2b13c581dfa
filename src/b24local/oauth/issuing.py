"""Token pairs as the real authorization server issues them.

Lifetimes are the reference's: an authorization code lives 30 seconds, an access
token one hour, a refresh token 180 days, all measured on the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import App, Portal
from b24local.store import grants, tokens

CODE_LIFETIME = timedelta(seconds=30)
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=180)
#: ``status`` of a local application (``app.info``'s ``STATUS``).
LOCAL_APP_STATUS = "L"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime
    user_id: int
    scopes: frozenset[str]


async def issue_code(
    conn: AsyncConnection, app: App, user_id: int, scopes: frozenset[str], now: datetime
) -> str:
    return await grants.issue(
        conn,
        "code",
        portal_id=app.portal_id,
        user_id=user_id,
        client_id=app.client_id,
        scopes=scopes,
        now=now,
        expires_at=now + CODE_LIFETIME,
    )


async def issue_access(
    conn: AsyncConnection, app: App, user_id: int, scopes: frozenset[str], now: datetime
) -> tuple[str, datetime]:
    """An access token alone (most events carry no refresh token); with its expiry."""
    expires_at = now + ACCESS_LIFETIME
    access = await tokens.issue(
        conn,
        portal_id=app.portal_id,
        user_id=user_id,
        scopes=scopes,
        now=now,
        expires_at=expires_at,
        client_id=app.client_id,
    )
    return access, expires_at


async def issue_pair(
    conn: AsyncConnection, app: App, user_id: int, scopes: frozenset[str], now: datetime
) -> TokenPair:
    access, expires_at = await issue_access(conn, app, user_id, scopes, now)
    refresh = await grants.issue(
        conn,
        "refresh",
        portal_id=app.portal_id,
        user_id=user_id,
        client_id=app.client_id,
        scopes=scopes,
        now=now,
        expires_at=now + REFRESH_LIFETIME,
    )
    return TokenPair(access, refresh, expires_at, user_id, scopes)


def token_response(
    pair: TokenPair,
    portal: Portal,
    *,
    now: datetime,
    client_endpoint: str,
    server_endpoint: str,
) -> dict[str, Any]:
    """The token endpoint's answer, field for field. ``server_endpoint`` is the REST
    address of the authorization server, which b24local plays itself."""
    return {
        "access_token": pair.access_token,
        "expires": int(pair.expires_at.timestamp()),
        "expires_in": int((pair.expires_at - now).total_seconds()),
        "scope": ",".join(sorted(pair.scopes)),
        "domain": urlsplit(server_endpoint).netloc,
        "server_endpoint": server_endpoint,
        "status": LOCAL_APP_STATUS,
        "client_endpoint": client_endpoint,
        "member_id": portal.member_id,
        "user_id": pair.user_id,
        "refresh_token": pair.refresh_token,
    }


def pair_record(pair: TokenPair, portal: Portal, now: datetime) -> dict[str, Any]:
    """A pair issued without the browser (``b24local app token``, the ``--dev``
    surface): the token endpoint's fields that do not depend on a request."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires": int(pair.expires_at.timestamp()),
        "expires_in": int((pair.expires_at - now).total_seconds()),
        "scope": ",".join(sorted(pair.scopes)),
        "member_id": portal.member_id,
        "user_id": pair.user_id,
        "status": LOCAL_APP_STATUS,
    }
