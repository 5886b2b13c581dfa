"""Local applications: OAuth clients with a secret (stored hashed) and scopes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.entities import App

from . import credentials, portals
from .tables import access_tokens, apps, oauth_grants


def _app(row) -> App:
    allowed = row.allowed_users
    return App(
        portal_id=row.portal_id,
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        scopes=credentials.scopes_from(row.scopes),
        redirect_uri=row.redirect_uri,
        handler=row.handler,
        version=row.version,
        allowed_users=None if allowed is None else frozenset(int(u) for u in allowed),
        created_at=row.created_at,
        paid_until=row.paid_until,
        application_token=row.application_token,
    )


def new_client_id() -> str:
    """Shaped like the real service's local apps: ``local.<14 hex>.<8 digits>``."""
    return f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    name: str,
    scopes: Iterable[str],
    now: datetime,
    redirect_uri: str = "",
    handler: str = "",
    allowed_users: Iterable[int] | None = None,
    client_id: str | None = None,
    secret: str | None = None,
    secret_hash: str | None = None,
    application_token: str | None = None,
    version: int = 1,
    paid_until: date | None = None,
) -> tuple[App, str]:
    """Install an app; returns it with its client secret, which is never readable again.
    A state file may fix the client ID, the secret (or only its hash, when it was
    exported: then the secret returned is empty) and the application token."""
    if secret_hash is None:
        secret = secret or credentials.new_code(50)
        secret_hash = credentials.digest(secret)
    app_id = await portals.next_id(conn, portal_id, "last_app_id")
    result = await conn.execute(
        apps.insert()
        .values(
            portal_id=portal_id,
            id=app_id,
            client_id=client_id or new_client_id(),
            secret_hash=secret_hash,
            name=name,
            scopes=credentials.scopes_text(scopes),
            redirect_uri=redirect_uri,
            handler=handler,
            version=version,
            allowed_users=None if allowed_users is None else sorted(set(allowed_users)),
            created_at=now,
            paid_until=paid_until,
            # Every installation gets its token, which its events carry.
            application_token=application_token or secrets.token_hex(16),
        )
        .returning(*apps.c)
    )
    return _app(result.one()), secret or ""


async def by_client_id(conn: AsyncConnection, client_id: str) -> App | None:
    row = (await conn.execute(select(apps).where(apps.c.client_id == client_id))).first()
    return None if row is None else _app(row)


async def authenticate(conn: AsyncConnection, client_id: str, secret: str) -> App | None:
    """The app if ``secret`` is its client secret."""
    row = (await conn.execute(select(apps).where(apps.c.client_id == client_id))).first()
    if row is None or not credentials.same(row.secret_hash, credentials.digest(secret)):
        return None
    return _app(row)


async def change(conn: AsyncConnection, portal_id: int, client_id: str, **changes: Any) -> None:
    """Set the given settings of an app: ``name``, ``scopes``, ``redirect_uri``,
    ``handler``, ``allowed_users`` (None: every user), ``paid_until``."""
    values = dict(changes)
    if "scopes" in values:
        values["scopes"] = credentials.scopes_text(values["scopes"])
    if values.get("allowed_users") is not None:
        values["allowed_users"] = sorted(set(values["allowed_users"]))
    if values:
        await conn.execute(
            update(apps)
            .where(apps.c.portal_id == portal_id, apps.c.client_id == client_id)
            .values(**values)
        )


async def list_all(conn: AsyncConnection, portal_id: int) -> list[App]:
    rows = await conn.execute(select(apps).where(apps.c.portal_id == portal_id).order_by(apps.c.id))
    return [_app(row) for row in rows]


async def secret_hashes(conn: AsyncConnection, portal_id: int) -> dict[str, str]:
    """Each app's secret hash, by client ID (export: the secret itself is not kept)."""
    rows = await conn.execute(
        select(apps.c.client_id, apps.c.secret_hash).where(apps.c.portal_id == portal_id)
    )
    return {row.client_id: row.secret_hash for row in rows}


async def remove(conn: AsyncConnection, portal_id: int, client_id: str) -> bool:
    """Uninstall an app; every token and grant it was given dies with it."""
    result = await conn.execute(
        delete(apps).where(apps.c.portal_id == portal_id, apps.c.client_id == client_id)
    )
    if not result.rowcount:
        return False
    await conn.execute(delete(access_tokens).where(access_tokens.c.client_id == client_id))
    await conn.execute(delete(oauth_grants).where(oauth_grants.c.client_id == client_id))
    return True
