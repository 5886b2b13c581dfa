"""``event.bind``, ``event.unbind``, ``event.get`` and ``events``: an application
subscribes to events, in the real module's order of checks (rest/lib/api/event.php).

Only an application's token has the context they need; a webhook gets the real
``WRONG_AUTH_TYPE``. Who may do what is decided in scopes/timeman/access.py.
"""

from __future__ import annotations

from typing import Any

from b24local.entities import App
from b24local.events import catalogue, urls
from b24local.rest.call import Call
from b24local.rest.errors import ErrorSpec
from b24local.rest.params import Params, php_empty, php_int, php_str
from b24local.rest.registry import BASIC, MethodGroup
from b24local.scopes.timeman import access
from b24local.store import events as store
from b24local.store import users

methods = MethodGroup(BASIC)

#: Handlers one application may have. The real module sets none; b24local keeps the
#: table (and every raise, which reads it) bounded.
MAX_HANDLERS = 1_000
#: The real ``CONNECTOR_ID`` column's width; a longer key is cut, as MySQL cuts it.
CONNECTOR_LENGTH = 255
#: Events that accept ``options``, with each option's type (the real ``allowOptions``).
ALLOWED_OPTIONS: dict[str, dict[str, str]] = {"ONOFFLINEEVENT": {"minTimeout": "int"}}
#: Events that cannot be bound offline (the real ``disableOffline``).
ONLINE_ONLY = frozenset({"ONOFFLINEEVENT"})
EVENT_TYPES = ("online", "offline")
#: No user's ID is larger (the store's integer).
LARGEST_ID = 2**31 - 1

WRONG_AUTH_TYPE = ErrorSpec(
    "WRONG_AUTH_TYPE",
    403,
    "Current authorization type is denied for this method",
    "event.bind, event.unbind, event.get, events: called with a webhook, not an application",
)
EVENT_NOT_FOUND = ErrorSpec(
    "ERROR_EVENT_NOT_FOUND",
    400,
    "Event not found",
    "event.bind: no such event, or not one the application's scopes offer",
)
OFFLINE_BIND_DENIED = ErrorSpec(
    "ACCESS_DENIED",
    403,
    "Access denied! Offline events binding requires administrator access rights",
    "event.bind: event_type=offline by someone other than an administrator",
)
AUTH_TYPE_BIND_DENIED = ErrorSpec(
    "ACCESS_DENIED",
    403,
    "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
    "event.bind: auth_type of another user by someone other than an administrator",
)
OFFLINE_UNBIND_DENIED = ErrorSpec(
    "ACCESS_DENIED",
    403,
    "Access denied! Offline events unbinding requires administrator access rights",
    "event.unbind: event_type=offline by someone other than an administrator",
)
AUTH_TYPE_UNBIND_DENIED = ErrorSpec(
    "ACCESS_DENIED",
    403,
    "Access denied! Event unbinding with AUTH_TYPE requires administrator access rights",
    "event.unbind: auth_type of another user by someone other than an administrator",
)
EVENT_EMPTY = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Argument 'EVENT' is null or empty",
    "event.bind, event.unbind: no event given",
)
HANDLER_EMPTY = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Argument 'HANDLER' is null or empty",
    "event.bind, event.unbind: no handler given for an online binding",
)
WRONG_EVENT_TYPE = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Value must be one of {online|offline}",
    "event.bind, event.unbind: event_type neither online nor offline",
)
WRONG_HANDLER_URL = ErrorSpec(
    "ERROR_WRONG_HANDLER_URL",
    400,
    "Wrong handler URL",
    "event.bind: handler is no absolute URL with a host",
)
UNSUPPORTED_PROTOCOL = ErrorSpec(
    "ERROR_UNSUPPORTED_PROTOCOL",
    400,
    "Unsupported handler protocol",
    "event.bind: handler is a URL, but not http:// or https://",
)
NO_OFFLINE = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Offline event cannot be registered for this event.",
    "event.bind: ONOFFLINEEVENT with event_type=offline",
)
NO_SUCH_USER = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "User not found",
    "event.bind: auth_type names no user of the portal (b24local's own check)",
)
ALREADY_BOUND = ErrorSpec(
    "ERROR_CORE",
    400,
    "Unable to set event handler: Handler already binded",
    "event.bind: the application has this handler for the event, user and connector",
)
TOO_MANY_HANDLERS = ErrorSpec(
    "ERROR_CORE",
    400,
    f"Unable to set event handler: An application may have at most {MAX_HANDLERS} handlers",
    "event.bind: the application has 1,000 handlers (b24local's own limit)",
)
methods.errors = (
    WRONG_AUTH_TYPE,
    EVENT_NOT_FOUND,
    OFFLINE_BIND_DENIED,
    AUTH_TYPE_BIND_DENIED,
    OFFLINE_UNBIND_DENIED,
    AUTH_TYPE_UNBIND_DENIED,
    EVENT_EMPTY,
    HANDLER_EMPTY,
    WRONG_EVENT_TYPE,
    WRONG_HANDLER_URL,
    UNSUPPORTED_PROTOCOL,
    NO_OFFLINE,
    NO_SUCH_USER,
    ALREADY_BOUND,
    TOO_MANY_HANDLERS,
)

_PAGES = "events/"


def _app(call: Call) -> App:
    if call.caller.app is None:
        raise WRONG_AUTH_TYPE()
    return call.caller.app


def _event_type(params: Params) -> str:
    given = php_str(params.get("EVENT_TYPE")).lower()
    if given and given not in EVENT_TYPES:
        raise WRONG_EVENT_TYPE(argument="EVENT_TYPE")
    return given or "online"


def connector(call: Call) -> str:
    """The call's ``auth_connector``: which source of changes the caller is, so an
    offline handler it bound does not hear its own changes."""
    return php_str(call.params.get("auth_connector"))[:CONNECTOR_LENGTH]


def _check_handler(url: str) -> None:
    """The real ``HandlerHelper::checkCallback``, less its demand for a dot in the
    host: handlers on ``localhost`` are the point of a local server."""
    problem = urls.handler_problem(url)
    if problem == "protocol":
        raise UNSUPPORTED_PROTOCOL()
    if problem is not None:
        raise WRONG_HANDLER_URL()


def _options(event: str, given: Any) -> dict[str, Any]:
    """The options the event accepts, cast to their types; the rest are dropped."""
    allowed = ALLOWED_OPTIONS.get(event, {})
    if not isinstance(given, dict):
        return {}
    kept: dict[str, Any] = {}
    for name, kind in allowed.items():
        value = given.get(name)
        if value is None:
            continue
        if kind == "int":
            kept[name] = php_int(value)
        elif isinstance(value, str):
            kept[name] = value
    return kept


@methods.method(
    "event.bind",
    summary="Subscribe the calling application's handler to an event",
    reference=_PAGES + "event-bind.md",
    writes=True,
)
async def event_bind(call: Call) -> bool:
    app = _app(call)
    params = call.params.upper()
    event = php_str(params.get("EVENT")).upper()
    auth_type = php_int(params.get("AUTH_TYPE"))
    handler = php_str(params.get("HANDLER"))
    if auth_type > 0:
        if not access.binds_as(call.user, auth_type):
            raise AUTH_TYPE_BIND_DENIED()
    elif not access.manages_events(call.user):
        auth_type = call.user.id
    else:
        auth_type = 0
    if not event:
        raise EVENT_EMPTY(argument="EVENT")
    event_type = _event_type(params)
    offline = event_type == "offline"
    if offline:
        if not access.manages_events(call.user):
            raise OFFLINE_BIND_DENIED()
        handler, auth_type = "", 0
    elif not handler:
        raise HANDLER_EMPTY(argument="HANDLER")
    if handler:
        _check_handler(handler)
    if event not in catalogue.events_of(call.caller.scopes):
        raise EVENT_NOT_FOUND()
    if offline and event in ONLINE_ONLY:
        raise NO_OFFLINE()
    if auth_type and auth_type != call.user.id:
        fits = auth_type <= LARGEST_ID
        if not fits or await users.get(call.conn, call.portal.id, auth_type) is None:
            raise NO_SUCH_USER(argument="AUTH_TYPE")
    source = connector(call)
    bound = await store.handlers_of_app(call.conn, call.portal.id, app.id)
    same = (event, handler, auth_type, source)
    if any((h.event, h.handler, h.auth_type, h.connector) == same for h in bound):
        raise ALREADY_BOUND()
    if len(bound) >= MAX_HANDLERS:
        raise TOO_MANY_HANDLERS()
    await store.add_handler(
        call.conn,
        call.portal.id,
        event=event,
        handler=handler,
        now=call.now,
        user_id=call.user.id,
        app_id=app.id,
        auth_type=auth_type,
        offline=offline,
        connector=source,
        options=_options(event, params.get("OPTIONS")),
    )
    return True


@methods.method(
    "event.unbind",
    summary="Remove the calling application's handlers of an event; answers how many",
    reference=_PAGES + "event-unbind.md",
    writes=True,
)
async def event_unbind(call: Call) -> dict[str, int]:
    app = _app(call)
    params = call.params.upper()
    event = php_str(params.get("EVENT")).upper()
    handler = php_str(params.get("HANDLER"))
    if not event:
        raise EVENT_EMPTY(argument="EVENT")
    offline = _event_type(params) == "offline"
    if offline:
        if not access.manages_events(call.user):
            raise OFFLINE_UNBIND_DENIED()
        handler = ""
    elif not handler:
        raise HANDLER_EMPTY(argument="HANDLER")
    # Which authorisation's handlers: the one named, else all (an administrator) or
    # the caller's own. Offline handlers are told apart by connector instead.
    auth_type: int | None = None
    if offline:
        pass
    elif params.has("AUTH_TYPE"):
        auth_type = php_int(params["AUTH_TYPE"])
        if not access.binds_as(call.user, auth_type):
            raise AUTH_TYPE_UNBIND_DENIED()
    elif not access.manages_events(call.user):
        auth_type = call.user.id
    source = connector(call)
    doomed = [
        h.id
        for h in await store.handlers_of_app(call.conn, call.portal.id, app.id)
        if h.event == event
        and h.handler == handler
        and h.offline == offline
        and (not offline or h.connector == source)
        and (auth_type is None or h.auth_type == auth_type)
    ]
    return {"count": await store.remove_handlers(call.conn, doomed)}


@methods.method(
    "event.get",
    summary="The calling application's handlers (a non-administrator: their own)",
    reference=_PAGES + "event-get.md",
)
async def event_get(call: Call) -> list[dict[str, Any]]:
    app = _app(call)
    found: list[dict[str, Any]] = []
    for handler in await store.handlers_of_app(call.conn, call.portal.id, app.id):
        if not access.sees_handler(call.user, handler.auth_type):
            continue
        if handler.offline:
            found.append({"event": handler.event, "connector_id": handler.connector, "offline": 1})
        else:
            found.append(
                {
                    "event": handler.event,
                    "handler": handler.handler,
                    "auth_type": str(handler.auth_type),
                    "offline": 0,
                }
            )
    return found


@methods.method(
    "events",
    summary="The events the application may bind: of its scopes, one scope, or all",
    reference=_PAGES + "events.md",
)
async def events(call: Call) -> list[str]:
    _app(call)
    params = call.params.upper()
    if params.has("SCOPE"):
        scope = php_str(params["SCOPE"])
        # An empty SCOPE leaves the scopeless (basic) events, as the real list does.
        return list(catalogue.BY_SCOPE.get(scope, ())) if scope else list(catalogue.BASIC_EVENTS)
    if params.has("FULL") and not php_empty(params["FULL"]):
        return catalogue.events_of(None)
    return catalogue.events_of(call.caller.scopes)
