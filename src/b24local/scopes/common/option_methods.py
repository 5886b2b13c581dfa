"""``app.option.get/set`` and ``user.option.get/set``: thin adapters over
:mod:`.options`. Only an application's token has the context they need; a
webhook gets the real module's refusal."""

from __future__ import annotations

from typing import Any

from b24local.entities import App
from b24local.rest.call import Call
from b24local.rest.errors import ErrorSpec
from b24local.rest.registry import BASIC, MethodGroup
from b24local.store import app_options

from . import options

methods = MethodGroup(BASIC)

ADMIN_REQUIRED = ErrorSpec(
    "ACCESS_DENIED",
    400,
    "Access denied! Administrator authorization required",
    "app.option.set called by a user who is not an administrator",
)
OPTIONS_EMPTY = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    "Argument 'options' is null or empty",
    "app.option.set, user.option.set: no options given, or not a map",
)
TOO_MANY_OPTIONS = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    f"Too many options: at most {options.MAX_OPTIONS} are kept",
    "app.option.set, user.option.set: the options would exceed 1,000 names",
)
OPTIONS_TOO_LARGE = ErrorSpec(
    "ERROR_ARGUMENT",
    400,
    f"Options too large: at most {options.MAX_BYTES} bytes of JSON are kept",
    "app.option.set, user.option.set: the options would exceed 256 KiB of JSON",
)
APP_CONTEXT_REQUIRED = ErrorSpec(
    "ACCESS_DENIED",
    400,
    "Access denied! Application context required",
    "app.option.*, user.option.*: called with a webhook rather than an application's token",
)
methods.errors = (
    APP_CONTEXT_REQUIRED,
    ADMIN_REQUIRED,
    OPTIONS_EMPTY,
    TOO_MANY_OPTIONS,
    OPTIONS_TOO_LARGE,
)

_PAGES = "common/settings/"
_REFUSALS = {"empty": OPTIONS_EMPTY, "too_many": TOO_MANY_OPTIONS, "too_large": OPTIONS_TOO_LARGE}


def _app(call: Call) -> App:
    if call.caller.app is None:
        raise APP_CONTEXT_REQUIRED()
    return call.caller.app


async def _get(call: Call, user_id: int) -> Any:
    app = _app(call)
    stored = await app_options.get(call.conn, call.portal.id, app.id, user_id)
    return options.read(stored, call.params.get("option"))


def _given(call: Call) -> dict[str, Any]:
    try:
        return options.given_options(call.params)
    except options.OptionsError as refused:
        raise _REFUSALS[refused.kind]() from None


async def _save(call: Call, app: App, user_id: int, given: dict[str, Any]) -> bool:
    stored = await app_options.get(call.conn, call.portal.id, app.id, user_id)
    try:
        result = options.merged(stored, given)
    except options.OptionsError as refused:
        raise _REFUSALS[refused.kind]() from None
    await app_options.put(call.conn, call.portal.id, app.id, user_id, result)
    return True


@methods.method(
    "app.option.get",
    summary="The calling application's options: all, or one by name",
    reference=_PAGES + "app-option-get.md",
)
async def app_option_get(call: Call) -> Any:
    return await _get(call, app_options.APP_WIDE)


@methods.method(
    "app.option.set",
    summary="Add or replace the calling application's options (administrators)",
    reference=_PAGES + "app-option-set.md",
    writes=True,
)
async def app_option_set(call: Call) -> bool:
    # In the real module's order: the context, then the options, then the right.
    app = _app(call)
    given = _given(call)
    if not call.user.is_admin:
        raise ADMIN_REQUIRED()
    return await _save(call, app, app_options.APP_WIDE, given)


@methods.method(
    "user.option.get",
    summary="The calling user's options for the calling application",
    reference=_PAGES + "user-option-get.md",
)
async def user_option_get(call: Call) -> Any:
    return await _get(call, call.user.id)


@methods.method(
    "user.option.set",
    summary="Add or replace the calling user's options for the calling application",
    reference=_PAGES + "user-option-set.md",
    writes=True,
)
async def user_option_set(call: Call) -> bool:
    app = _app(call)
    return await _save(call, app, call.user.id, _given(call))
