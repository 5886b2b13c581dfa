"""``server.time``, ``profile`` and the introspection methods.

``methods``, ``method.get`` and ``scope`` answer from the registry, so they can
never disagree with what dispatch actually does.
"""

from __future__ import annotations

from typing import Any

from b24local import plans
from b24local.oauth.issuing import LOCAL_APP_STATUS
from b24local.rest.call import Call
from b24local.rest.envelope import atom
from b24local.rest.errors import ErrorSpec
from b24local.rest.registry import BASIC, MethodGroup
from b24local.scopes.common.platform import PLATFORM_SCOPES

APP_CONTEXT_REQUIRED = ErrorSpec(
    "ACCESS_DENIED",
    400,
    "Access denied! Application context required",
    "app.info called with a webhook rather than an application's token",
)

methods = MethodGroup(BASIC)
methods.errors = (APP_CONTEXT_REQUIRED,)


@methods.method(
    "server.time",
    summary="The server's current time",
    reference="common/system/server-time.md",
)
async def server_time(call: Call) -> str:
    return atom(call.now, call.portal.zone)


@methods.method(
    "profile",
    summary="Basic data of the caller, without any scope",
    reference="common/users/profile.md",
)
async def profile(call: Call) -> dict[str, Any]:
    user = call.user
    if not user.active:
        return {}
    return {
        "ID": str(user.id),
        "ADMIN": user.is_admin,
        "NAME": user.name,
        "LAST_NAME": user.last_name,
        "PERSONAL_GENDER": user.gender,
        "TIME_ZONE": user.time_zone,
    }


@methods.method(
    "methods",
    summary="Names of methods: the caller's, all, or one scope's",
    reference="common/system/methods.md",
)
async def list_methods(call: Call) -> list[str]:
    params = call.params.upper()
    registry = call.registry
    # The old path's own methods: REST 3.0-only ones are listed by its OpenAPI document.
    specs = registry.v2_methods()
    if params.flag("FULL"):
        return [spec.name for spec in specs]
    if params.has("SCOPE"):
        scope = params.str("SCOPE") or BASIC
        return [spec.name for spec in specs if scope in spec.grants or spec.scope == scope]
    return [spec.name for spec in registry.available_to(call.caller.scopes)]


@methods.method(
    "method.get",
    summary="Whether a method exists and the caller may call it",
    reference="common/system/method-get.md",
)
async def method_get(call: Call) -> dict[str, bool]:
    name = call.params.upper().str("NAME").strip().lower()
    spec = call.registry.get(name) if name else None
    if spec is not None and not spec.v2:
        spec = None  # REST 3.0 only: the old path does not know it
    return {
        "isExisting": spec is not None,
        "isAvailable": spec is not None and spec.allowed_for(call.caller.scopes),
    }


@methods.method(
    "scope",
    summary="Scopes granted to the caller, or every scope of the platform",
    reference="common/system/scope.md",
)
async def scope(call: Call) -> list[str]:
    if call.params.upper().flag("FULL"):
        # The platform's list, not ours: SDKs check it against the real one.
        return list(PLATFORM_SCOPES)
    return [name for name in call.registry.scopes() if name in call.caller.scopes]


@methods.method(
    "app.info",
    summary="The calling application: ID, code, version, status and the portal's plan",
    reference="common/system/app-info.md",
)
async def app_info(call: Call) -> dict[str, Any]:
    app = call.caller.app
    if app is None:
        raise APP_CONTEXT_REQUIRED()
    plan = call.portal.plan
    language = "en"
    today = call.portal.today(call.now)
    return {
        "ID": app.id,
        "CODE": app.client_id,
        "VERSION": app.version,
        "STATUS": LOCAL_APP_STATUS,
        "INSTALLED": True,
        "PAYMENT_EXPIRED": "Y" if app.payment_expired(today) else "N",
        "DAYS": app.paid_days_left(today),
        "LANGUAGE_ID": language,
        "LICENSE": f"{language}_{plan}",
        "LICENSE_TYPE": plan,
        "LICENSE_FAMILY": plans.FAMILIES.get(plan, plan),
    }
