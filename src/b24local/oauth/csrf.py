"""The log-in form's defence against cross-site posts.

Showing the form sets a random ``B24LOCAL_CSRF`` cookie (HttpOnly, SameSite=Lax,
Secure over https) and puts an HMAC of it, keyed with a server secret, into the
form. A post must carry both, and the token must be the cookie's: another site can
make a browser post the form, but cannot read the token nor set a cookie that
matches a token it holds. ``Origin`` (else ``Referer``), when the browser sends
one, must be this server's own. The secret is kept in the database, so every server
process on it accepts the forms of the others, and a restart keeps forms valid.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import weakref
from collections.abc import Collection
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from b24local.store import settings
from b24local.store.engine import Store

COOKIE = "B24LOCAL_CSRF"
FIELD = "csrf_token"
_SECRET = "csrf_secret"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: The secret never changes once made: one read per process and database.
_secrets: weakref.WeakKeyDictionary[Store, str] = weakref.WeakKeyDictionary()


async def server_secret(store: Store) -> str:
    known = _secrets.get(store)
    if known is not None:
        return known
    async with store.transaction() as conn:
        value = await settings.get(conn, _SECRET)
    if value is None:
        try:
            async with store.transaction(write=True) as conn:
                value = await settings.get(conn, _SECRET)
                if value is None:
                    value = secrets.token_hex(32)
                    await settings.put(conn, _SECRET, value)
        except IntegrityError:  # another process made it at the same moment
            async with store.transaction() as conn:
                value = await settings.get(conn, _SECRET)
        assert value is not None
    _secrets[store] = value
    return value


def browser_cookie(request: Request) -> str | None:
    """The request's form cookie, if it is one this server could have set."""
    value = request.cookies.get(COOKIE, "")
    return value if _WELL_FORMED.match(value) else None


def new_cookie() -> str:
    return secrets.token_urlsafe(32)


def token_for(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), cookie.encode(), hashlib.sha256).hexdigest()


def valid(secret: str, cookie: str | None, token: str) -> bool:
    return cookie is not None and hmac.compare_digest(
        token_for(secret, cookie).encode(), token.encode("utf-8", "replace")
    )


def cross_site(request: Request, own: Collection[str]) -> bool:
    """Whether the browser says the post comes from a page outside ``own`` origins
    (``scheme://host[:port]``). A client that names no origin (curl, an SDK) is
    judged by the token alone."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return False
        try:
            parts = urlsplit(referer)
        except ValueError:  # "http://[::1": not an address of ours, nor anyone's
            return True
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.lower() not in own


def set_cookie(response: Response, name: str, value: str, *, secure: bool, **extra) -> None:
    """A cookie of the log-in page: out of scripts' reach, and sent along when the
    app sends the user here from its own site (Lax), never on another site's post."""
    response.set_cookie(
        name, value, path="/", httponly=True, samesite="lax", secure=secure, **extra
    )
