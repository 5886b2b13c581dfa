"""Who is looking at a page: the portal the host leads to, the logged-in user (the
OAuth page's session cookie), and the CSRF cookie every form is checked against."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from b24local.entities import Portal, User
from b24local.oauth import csrf
from b24local.oauth.addresses import Addresses
from b24local.oauth.login import SESSION_COOKIE
from b24local.rest.auth import check_portal_open, resolve_portal
from b24local.rest.errors import ACCESS_DENIED, OVERLOAD_LIMIT, PORTAL_DELETED, RestError
from b24local.rest.transport import read_body
from b24local.store import sessions, users

#: A form of these pages has a handful of fields; more is not one of ours.
MAX_FIELDS = 20
#: No field of ours is longer (a reason for an edit is the longest).
MAX_FIELD_LENGTH = 2000
#: Room for the longest form a page sends (a 2000-character reason, all of it
#: percent-encoded, is 18 KiB): a form is read into memory before anyone is known
#: (the log-in form), so its size is capped first.
MAX_BODY = 64 * 1024


#: Why a portal's pages are closed, in the catalogue's words: REST's descriptions
#: ("REST API is blocked due to overload") are English and about REST.
_CLOSED = {
    PORTAL_DELETED.code: "error.portal_deleted",
    OVERLOAD_LIMIT.code: "error.portal_blocked",
    ACCESS_DENIED.code: "error.portal_plan",
}


class Refused(Exception):
    """A request the page answers with an error page: the catalogue key and status."""

    def __init__(self, key: str, status: int, **values: str) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.values = values


@dataclass
class Visit:
    request: Request
    portal: Portal
    now: datetime
    #: The logged-in user, if any, and the cookie's secret.
    user: User | None
    session: str | None
    csrf_secret: str
    csrf_cookie: str | None
    addresses: Addresses
    #: Whether this page made the CSRF cookie (and :meth:`finish` must set it).
    new_cookie: bool = False
    #: Every value of each field of the form :meth:`form` read.
    lists: dict[str, list[str]] = field(default_factory=dict)

    @property
    def runtime(self):
        return self.request.app.state.runtime

    @property
    def secure(self) -> bool:
        return self.addresses.secure(self.portal)

    @property
    def client_ip(self) -> str:
        return self.request.client.host if self.request.client else ""

    def csrf_token(self) -> str:
        """The token the page's forms carry; :meth:`finish` sets the matching cookie."""
        if self.csrf_cookie is None:
            self.csrf_cookie = csrf.new_cookie()
            self.new_cookie = True
        return csrf.token_for(self.csrf_secret, self.csrf_cookie)

    def finish(self, response: Response) -> Response:
        """Set the CSRF cookie if this page made one."""
        if self.new_cookie and self.csrf_cookie:
            csrf.set_cookie(response, csrf.COOKIE, self.csrf_cookie, secure=self.secure)
        return response

    async def form(self, max_fields: int = MAX_FIELDS) -> dict[str, str]:
        """A posted form, once it passed the CSRF checks; :class:`Refused` otherwise.
        A field sent more than once (a multiple choice) keeps its first value here;
        :meth:`values` gives them all. ``max_fields``: more for a form with a long
        multiple choice (the body stays within :data:`MAX_BODY` whatever it is)."""
        try:
            # Read once, within bounds; the form parser is then given what was read.
            self.request._body = await read_body(self.request, MAX_BODY)
        except RestError:
            raise Refused("error.too_large", 413) from None
        try:
            data = await self.request.form(max_files=0, max_fields=max_fields)
        except Exception:  # multipart's or the form parser's refusal
            raise Refused("error.bad_form", 400) from None
        fields: dict[str, str] = {}
        for key, value in data.multi_items():
            if not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH or "\x00" in value:
                raise Refused("error.bad_form", 400)
            fields.setdefault(key, value)
        if csrf.cross_site(self.request, self.addresses.own_origins(self.portal)):
            raise Refused("error.cross_site", 403)
        if not csrf.valid(self.csrf_secret, self.csrf_cookie, fields.get(csrf.FIELD, "")):
            raise Refused("error.stale_form", 403)
        self.lists = {key: [str(v) for v in data.getlist(key)] for key in data}
        return fields

    def values(self, name: str) -> list[str]:
        """Every value of a field of the form :meth:`form` read (checked as it was)."""
        return list(self.lists.get(name, ()))


async def visit(request: Request) -> Visit:
    """The visit of ``request``; :class:`Refused` for a host no open portal has."""
    runtime = request.app.state.runtime
    now = runtime.clock.now()
    secret = request.cookies.get(SESSION_COOKIE) or None
    user = None
    try:
        async with runtime.store.transaction() as conn:
            portal = await resolve_portal(conn, request.headers.get("host", ""))
            check_portal_open(portal)
            if secret and len(secret) <= 200:
                user_id = await sessions.user_of(conn, portal.id, secret, now)
                user = await users.get(conn, portal.id, user_id) if user_id else None
    except RestError as error:
        raise Refused(_CLOSED.get(error.code, "error.portal"), 403) from None
    if user is not None and not user.active:
        user = None
    return Visit(
        request,
        portal,
        now,
        user,
        secret if user else None,
        await csrf.server_secret(runtime.store),
        csrf.browser_cookie(request),
        Addresses(request, runtime.settings.public_url, portal),
    )
