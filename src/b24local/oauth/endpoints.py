"""``/oauth/authorize/`` and ``/oauth/token/``: the authorization server.

The real service splits these between the portal (the log-in page) and
oauth.bitrix.info (the token endpoint); b24local plays both on one host. Failures
of the log-in page are shown to the user and never redirected, as the reference
describes; failures of the token endpoint are ``{"error", "error_description"}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response

from b24local.clock import monotonic
from b24local.entities import App, Portal
from b24local.rest.auth import check_portal_open, host_name, resolve_portal
from b24local.rest.dispatch import unexpected
from b24local.rest.envelope import atom, render, render_error, success_body, time_block
from b24local.rest.errors import EXPIRED_TOKEN, ErrorSpec, RestError
from b24local.store import apps, credentials, grants, portals, sessions, tokens, users

from . import csrf, pages, throttle
from .addresses import Addresses, netloc_of
from .issuing import LOCAL_APP_STATUS, issue_code, issue_pair, token_response
from .login import SESSION_COOKIE, SESSION_LIFETIME, check_password

#: A form or query bigger than this is not an OAuth request.
MAX_FIELDS = 50

# The authorization server's errors (settings/oauth/error-codes.md).
INVALID_REQUEST = ErrorSpec(
    "invalid_request", 400, "Malformed authorization request", "a field is missing or unknown"
)
INVALID_CLIENT = ErrorSpec(
    "invalid_client", 401, "Invalid client credentials", "unknown client or wrong secret"
)
INVALID_GRANT = ErrorSpec(
    "invalid_grant",
    400,
    "Invalid authorization data",
    "a code or refresh token that is spent, expired, another app's or another redirect's",
)
INVALID_SCOPE = ErrorSpec(
    "invalid_scope", 400, "Requested scope exceeds the application's", "scope wider than the app's"
)
INVALID_TOKEN = ErrorSpec(
    "invalid_token", 401, "The access token provided is invalid", "app.info at /oauth/rest/"
)
# The pages give no status; b24pysdk files PAYMENT_REQUIRED under 401.
PAYMENT_REQUIRED = ErrorSpec(
    "PAYMENT_REQUIRED", 401, "Payment required", "the app's paid period is over"
)
#: Every error the authorization server answers with (listed in docs/compat.md).
OAUTH_ERRORS = (
    INVALID_REQUEST,
    INVALID_CLIENT,
    INVALID_GRANT,
    INVALID_SCOPE,
    INVALID_TOKEN,
    PAYMENT_REQUIRED,
)
#: Where the authorization server's own REST methods live (``server_endpoint``).
SERVER_REST_PATH = "/oauth/rest/"

_CARRIED = ("client_id", "state", "redirect_uri", "scope")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class PageError(Exception):
    """A failure of the log-in page, shown to the user instead of redirecting."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def _params(request: Request) -> dict[str, str]:
    """Query string and, for POST, form fields; the first value of each name."""
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items()[:MAX_FIELDS]:
        params.setdefault(key, value)
    if request.method == "POST":
        try:
            form: FormData = await request.form(max_files=0, max_fields=MAX_FIELDS)
        except Exception as error:  # multipart's or the form parser's refusal
            raise INVALID_REQUEST(f"Unreadable form: {error}") from None
        for key, value in form.multi_items():
            if isinstance(value, str):
                params.setdefault(key, value)
    if any("\x00" in text for pair in params.items() for text in pair):
        # As on /rest/: no text looked up may hold one (PostgreSQL refuses it).
        raise INVALID_REQUEST("A field contains a NUL character")
    return params


def _requested_scopes(text: str, app: App) -> frozenset[str]:
    """``scope`` as asked (comma-separated), within the app's; empty means the app's."""
    wanted = credentials.scopes_from(text.replace(" ", ","))
    if not wanted:
        return app.scopes
    if not wanted <= app.scopes:
        raise INVALID_SCOPE()
    return wanted


def _with_query(uri: str, extra: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- /oauth/authorize/ ---------------------------------------------------------------


async def authorize(request: Request) -> Response:
    runtime = request.app.state.runtime
    try:
        params = await _params(request)
    except RestError as error:
        return pages.error_page(error.description, 400)
    host = request.headers.get("host", "")
    now = runtime.clock.now()
    cookie = request.cookies.get(SESSION_COOKIE)
    # A posted form logs in afresh, whoever the cookie says is logged in already.
    posted = request.method == "POST" and "login" in params
    try:
        async with runtime.store.transaction() as conn:
            portal, app, scopes = await _checked_request(conn, host, params)
            user_id = None
            if cookie and not posted:
                user_id = await sessions.user_of(conn, portal.id, cookie, now)
        addresses = Addresses(request, runtime.settings.public_url, portal)
        form = _Form(request, params, await csrf.server_secret(runtime.store), addresses, portal)
        attempt = None
        if posted:
            if refusal := form.refusal():
                return form.page(app.name, error=refusal, status=403)
            address = request.client.host if request.client else ""
            attempt = throttle.Attempt.of(portal.id, params["login"], address)
            user_id, wait = await check_password(
                runtime.store, portal, params["login"], params.get("password", ""), attempt, now
            )
            if wait is not None:
                return form.page(
                    app.name,
                    error=throttle.locked_message(wait),
                    status=429,
                    headers={"Retry-After": str(wait)},
                )

        new_session = code = None
        if user_id is not None:
            async with runtime.store.transaction(write=True) as conn:
                if attempt is not None:
                    await throttle.succeeded(conn, attempt)
                user = await users.get(conn, portal.id, user_id)
                usable = user is not None and user.active
                if usable and app.admits(user_id):
                    if posted:
                        if cookie:
                            await sessions.end(conn, portal.id, cookie)
                        new_session = await sessions.start(
                            conn, portal.id, user_id, now=now, expires_at=now + SESSION_LIFETIME
                        )
                    code = await issue_code(conn, app, user_id, scopes, now)
            if usable and code is None:
                raise PageError("You do not have access to this application.", 403)
    except PageError as error:
        return pages.error_page(str(error), error.status)
    except ClientDisconnect:
        raise
    except Exception as failure:
        # The database away or busy: said on a page, with the REST calls' words.
        error = unexpected(failure, request)
        return pages.error_page(error.description, 503)

    if code is None:
        return form.page(
            app.name,
            error="Wrong login or password." if posted else "",
            status=401 if posted else 200,
        )
    if app.redirect_uri:
        # ``state`` goes back only if the app sent one.
        state = {"state": params["state"]} if "state" in params else {}
        response: Response = RedirectResponse(
            _with_query(
                app.redirect_uri,
                {
                    "code": code,
                    **state,
                    "domain": netloc_of(addresses.portal(portal)),
                    "member_id": portal.member_id,
                    "scope": ",".join(sorted(scopes)),
                    "server_domain": netloc_of(addresses.server),
                },
            ),
            status_code=302,
            # The location carries the code: no cache may keep it.
            headers=NO_STORE,
        )
    else:
        response = pages.code_page(app.name, code)
    if new_session:
        csrf.set_cookie(
            response,
            SESSION_COOKIE,
            new_session,
            secure=form.secure,
            max_age=int(SESSION_LIFETIME.total_seconds()),
        )
    return response


class _Form:
    """The log-in form of one request: its CSRF cookie and token, and the checks a
    posted form must pass before its password is even looked at."""

    def __init__(
        self,
        request: Request,
        params: dict[str, str],
        secret: str,
        addresses: Addresses,
        portal: Portal,
    ) -> None:
        self._request = request
        self._params = params
        self._secret = secret
        self._cookie = csrf.browser_cookie(request)
        self._origins = addresses.own_origins(portal)
        self._portal = portal.domain
        self.secure = addresses.secure(portal)

    def refusal(self) -> str:
        """Why a posted form is refused before any password is checked, or ``""``."""
        if csrf.cross_site(self._request, self._origins):
            return "The log-in form was sent from another site and was refused."
        if not csrf.valid(self._secret, self._cookie, self._params.get(csrf.FIELD, "")):
            return (
                "The log-in form has expired or did not come from this page. Please log in again."
            )
        return ""

    def page(
        self,
        app_name: str,
        *,
        error: str = "",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        cookie = self._cookie or csrf.new_cookie()
        carried = {k: self._params[k] for k in _CARRIED if k in self._params}
        carried[csrf.FIELD] = csrf.token_for(self._secret, cookie)
        response = pages.login_form(
            app_name, self._portal, carried, error=error, status=status, headers=headers
        )
        if cookie != self._cookie:
            csrf.set_cookie(response, csrf.COOKIE, cookie, secure=self.secure)
        return response


async def _checked_request(
    conn: AsyncConnection, host: str, params: dict[str, str]
) -> tuple[Portal, App, frozenset[str]]:
    """The portal, the app and the scopes an authorization request is for; a
    :class:`PageError` if the page must refuse it whoever logs in."""
    portal = await resolve_portal(conn, host)
    try:
        check_portal_open(portal)
    except RestError as error:
        raise PageError(error.description, 403) from None
    app = await apps.by_client_id(conn, params.get("client_id", ""))
    if app is None or app.portal_id != portal.id:
        raise PageError("The application is not installed in this Bitrix24.")
    given = params.get("redirect_uri")
    if given is not None and given != app.redirect_uri:
        raise PageError("redirect_uri does not match the application's settings.")
    try:
        scopes = _requested_scopes(params.get("scope", ""), app)
    except RestError:
        raise PageError("The requested scope exceeds the application's.") from None
    return portal, app, scopes


# --- /oauth/token/ --------------------------------------------------------------------


async def token(request: Request) -> Response:
    runtime = request.app.state.runtime
    try:
        params = await _params(request)
        response = render(await _exchange(runtime, params, request), 200, "json")
    except RestError as error:
        response = render_error(error)
    except ClientDisconnect:
        raise
    except Exception as failure:
        # The database away or busy: the REST calls' answer (rest/dispatch.py).
        response = render_error(unexpected(failure, request))
    # Tokens must not linger in any cache on the way (RFC 6749, section 5.1).
    response.headers.update(NO_STORE)
    return response


async def _exchange(runtime, params: dict[str, str], request: Request) -> dict[str, Any]:
    grant_type = params.get("grant_type", "")
    client_id = params.get("client_id", "")
    secret = params.get("client_secret", "")
    if not grant_type or not client_id or not secret:
        raise INVALID_REQUEST("grant_type, client_id and client_secret are required")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise INVALID_REQUEST(f"Unsupported grant_type: {grant_type}")
    kind, field = (
        ("code", "code") if grant_type == "authorization_code" else ("refresh", "refresh_token")
    )
    presented = params.get(field, "")
    if not presented:
        raise INVALID_REQUEST(f"{field} is required")

    host = request.headers.get("host", "")
    now = runtime.clock.now()
    async with runtime.store.transaction(write=True) as conn:
        app = await apps.authenticate(conn, client_id, secret)
        if app is None:
            raise INVALID_CLIENT()
        if "redirect_uri" in params and params["redirect_uri"] != app.redirect_uri:
            raise INVALID_GRANT("redirect_uri does not match")
        grant = await grants.spend(conn, kind, presented, client_id=app.client_id, now=now)
        if grant is None:
            raise INVALID_GRANT()
        scopes = grant.scopes & app.scopes
        if params.get("scope"):
            asked = credentials.scopes_from(params["scope"].replace(" ", ","))
            if not asked <= scopes:
                raise INVALID_SCOPE()
            scopes = asked
        user = await users.get(conn, app.portal_id, grant.user_id)
        if user is None or not user.active or not app.admits(user.id):
            raise INVALID_GRANT("The user may no longer use the application")
        portal = await portals.by_id(conn, app.portal_id)
        assert portal is not None
        try:
            check_portal_open(portal)
        except RestError:
            # Rolled back with the rest: the grant stays unspent for when it reopens.
            raise INVALID_GRANT(f"The portal is not available: {portal.status}") from None
        if app.payment_expired(portal.today(now)):
            raise PAYMENT_REQUIRED()  # the grant, too, stays unspent until it is paid
        reached = await resolve_portal(conn, host)
        pair = await issue_pair(conn, app, user.id, scopes, now)
    addresses = Addresses(request, runtime.settings.public_url, reached)
    return token_response(
        pair,
        portal,
        now=now,
        client_endpoint=addresses.portal(portal) + "/rest/",
        server_endpoint=addresses.server + SERVER_REST_PATH,
    )


# --- the authorization server's app.info ------------------------------------------------


async def server_app_info(request: Request) -> Response:
    """``app.info`` as oauth.bitrix.info answers it: the token's app, scopes, expiry
    and installation, the trusted source an app checks its tokens against."""
    runtime = request.app.state.runtime
    started = runtime.clock.now()
    began = monotonic()
    try:
        params = await _params(request)
        presented = params.get("auth", "")
        async with runtime.store.transaction() as conn:
            found = await tokens.find(conn, presented) if presented else None
            app = (
                await apps.by_client_id(conn, found.client_id)
                if found and found.client_id
                else None
            )
            if found is None or app is None:
                raise INVALID_TOKEN()
            if found.expires_at <= started:
                raise EXPIRED_TOKEN()
            portal = await portals.by_id(conn, app.portal_id)
            assert portal is not None
            reached = await resolve_portal(conn, request.headers.get("host", ""))
    except RestError as error:
        return render_error(error)
    except ClientDisconnect:
        raise
    except Exception as failure:
        return render_error(unexpected(failure, request))
    base = Addresses(request, runtime.settings.public_url, reached).portal(portal)
    scopes = ",".join(sorted(found.scopes & app.scopes))
    result = {
        "client_id": app.client_id,
        "scope": scopes,
        "expires": atom(found.expires_at, portal.zone),
        "install": {
            "installed": True,
            "version": app.version,
            "status": LOCAL_APP_STATUS,
            "scope": scopes,
            # The host name alone: SDKs compare it with client_endpoint's host name.
            "domain": host_name(netloc_of(base)),
            "uri": base,
            "client_endpoint": base + "/rest/",
            "member_id": portal.member_id,
            "member_type": "PORTAL",
        },
        "user_id": found.user_id,
    }
    operating = runtime.limits.unmetered(started)
    time = time_block(started, runtime.clock.now(), monotonic() - began, portal.zone, operating)
    return render(success_body(result, time), 200, "json")
