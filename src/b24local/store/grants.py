"""One-time OAuth secrets: authorization codes and refresh tokens.

Both are stored hashed and spent atomically: the ``UPDATE ... WHERE used_at IS
NULL`` that spends one succeeds for exactly one caller, so a code or refresh token
presented twice at once still yields a single token pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import credentials
from .tables import oauth_grants

Kind = Literal["code", "refresh"]


@dataclass(frozen=True, slots=True)
class Grant:
    portal_id: int
    user_id: int
    client_id: str
    scopes: frozenset[str]
    expires_at: datetime


async def issue(
    conn: AsyncConnection,
    kind: Kind,
    *,
    portal_id: int,
    user_id: int,
    client_id: str,
    scopes: frozenset[str],
    now: datetime,
    expires_at: datetime,
) -> str:
    secret = credentials.new_code(32)
    await conn.execute(
        oauth_grants.insert().values(
            token_hash=credentials.digest(secret),
            kind=kind,
            portal_id=portal_id,
            user_id=user_id,
            client_id=client_id,
            scopes=credentials.scopes_text(scopes),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return secret


async def spend(
    conn: AsyncConnection, kind: Kind, secret: str, *, client_id: str, now: datetime
) -> Grant | None:
    """Use up a live grant of ``client_id``; None if it is unknown, spent, expired or
    another client's."""
    c = oauth_grants.c
    row = (
        await conn.execute(
            update(oauth_grants)
            .where(
                c.token_hash == credentials.digest(secret),
                c.kind == kind,
                c.client_id == client_id,
                c.used_at.is_(None),
                c.expires_at > now,
            )
            .values(used_at=now)
            .returning(c.portal_id, c.user_id, c.client_id, c.scopes, c.expires_at)
        )
    ).first()
    if row is None:
        return None
    return Grant(
        portal_id=row.portal_id,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=credentials.scopes_from(row.scopes),
        expires_at=row.expires_at,
    )
