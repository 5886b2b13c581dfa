"""OAuth access tokens, stored hashed. Applications that issue them plug in later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from . import credentials
from .snapshot import Reads, cached
from .tables import access_tokens


@dataclass(frozen=True, slots=True)
class AccessToken:
    portal_id: int
    user_id: int
    client_id: str | None
    scopes: frozenset[str]
    expires_at: datetime


_BY_HASH = cached(
    select(access_tokens).where(access_tokens.c.token_hash == bindparam("token_hash")),
    Reads("access_tokens"),
)


async def find(conn: AsyncConnection, token: str) -> AccessToken | None:
    row = (await conn.execute(_BY_HASH, {"token_hash": credentials.digest(token)})).first()
    if row is None:
        return None
    return AccessToken(
        portal_id=row.portal_id,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=credentials.scopes_from(row.scopes),
        expires_at=row.expires_at,
    )


async def issue(
    conn: AsyncConnection,
    *,
    portal_id: int,
    user_id: int,
    scopes: frozenset[str],
    now: datetime,
    expires_at: datetime,
    client_id: str | None = None,
) -> str:
    token = credentials.new_token()
    await conn.execute(
        access_tokens.insert().values(
            token_hash=credentials.digest(token),
            portal_id=portal_id,
            user_id=user_id,
            client_id=client_id,
            scopes=credentials.scopes_text(scopes),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token
