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
from b24local.rest.params import php_empty
from b24local.rest.registry import BASIC, MethodGroup
from b24local.scopes.common.platform import PLATFORM_SCOPES

CODE_EMPTY = ErrorSpec(
    "CODE_EMPTY", 400, "CODE can't be empty", "feature.get without CODE, or an empty one"
)

methods = MethodGroup(BASIC)
methods.errors = (CODE_EMPTY,)


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
    return call.registry.granted(call.caller.scopes)


@methods.method(
    "app.info",
    summary="The calling application and the portal's plan; for a webhook, its scopes and plan",
    reference="common/system/app-info.md",
)
async def app_info(call: Call) -> dict[str, Any]:
    app = call.caller.app
    plan = call.portal.plan
    language = "en"
    license_ = f"{language}_{plan}"
    if app is None:
        # A webhook is no application: the real service answers its scopes and the
        # plan (the form b24pysdk models as AppInfoWebhook), not ACCESS_DENIED.
        return {"SCOPE": call.registry.granted(call.caller.scopes), "LICENSE": license_}
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
        "LICENSE": license_,
        "LICENSE_TYPE": plan,
        "LICENSE_FAMILY": plans.FAMILIES.get(plan, plan),
    }


@methods.method(
    "feature.get",
    summary="Whether the portal's plan has a feature (Y/N)",
    reference="common/system/feature-get.md",
)
async def feature_get(call: Call) -> dict[str, str]:
    params = call.params.upper()
    if not params.has("CODE") or php_empty(params["CODE"]):
        raise CODE_EMPTY()
    return {"value": "Y" if plans.has_feature(call.portal.plan, params.str("CODE")) else "N"}
