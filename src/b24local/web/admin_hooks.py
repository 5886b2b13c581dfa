"""Administration, incoming webhooks: the list, adding one and removing one, through
:mod:`..admin`'s webhook functions (what ``b24local webhook add/list/remove`` call).

A new webhook's URL holds its secret code, which the store keeps only hashed: the
page answering the form is the one place it is ever shown.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from b24local import admin
from b24local.scopes.timeman.access import administers
from b24local.store import users

from .administer import form_id, path_id, require
from .pages import handler
from .render import page
from .visit import Refused, Visit

Error = tuple[str, dict[str, str]]

#: :class:`..admin.AdminError`'s messages (their beginnings), by catalogue key.
_REFUSALS = (
    ("unknown scope", "admin.webhooks.unknown_scope"),
    ("no user", "admin.webhooks.no_user"),
    ("user ", "admin.webhooks.dismissed_user"),
    ("a webhook's title", "admin.webhooks.long_title"),
)


def _refusal(error: admin.AdminError) -> Error:
    text = str(error)
    for start, key in _REFUSALS:
        if text.startswith(start):
            return key, {}
    return "admin.webhooks.refused", {"text": text}


def _admin(current: Visit) -> None:
    # The same people user.admin calls administrators, and the CLI's owner.
    assert current.user is not None
    require(administers(current.user))


async def _hooks_page(
    current: Visit,
    *,
    error: Error | None = None,
    status: int = 200,
    sent: dict[str, object] | None = None,
    created: str = "",
) -> Response:
    store = current.runtime.store
    hooks = await admin.list_webhooks(store, current.portal.domain)
    async with store.transaction() as conn:
        everyone = await users.all_users(conn, current.portal.id)
    return page(
        current.request, "admin_webhooks.html", status=status, visit=current,
        csrf_token=current.csrf_token(), hooks=hooks,
        people={user.id: user for user in everyone},
        owners=[user for user in everyone if user.active], scopes=admin.implemented_scopes(),
        error=error, sent=sent or {}, created=created,
        done=current.request.query_params.get("done", ""),
    )  # fmt: skip


@handler()
async def webhooks_page(current: Visit) -> Response:
    _admin(current)
    if current.request.method in ("GET", "HEAD"):
        return await _hooks_page(current)
    form = await current.form()
    owner = form_id(form.get("user", ""))
    scopes = current.values("scope")
    title = form.get("title", "")
    sent = {**form, "scopes": scopes}
    if owner is None:
        return await _hooks_page(current, error=("admin.webhooks.no_user", {}), status=400,
                                 sent=sent)  # fmt: skip
    try:
        hook, code = await admin.add_webhook(
            current.runtime.store, current.runtime.clock.now(), user_id=owner, scopes=scopes,
            title=title, domain=current.portal.domain,
        )  # fmt: skip
    except admin.AdminError as error:
        return await _hooks_page(current, error=_refusal(error), status=400, sent=sent)
    # Shown on this answer only: the page is never cached, and no later page has it.
    base = current.addresses.portal(current.portal).rstrip("/")
    url = f"{base}/rest/{hook.user_id}/{code}/"
    return await _hooks_page(current, status=201, created=url)


@handler()
async def remove_webhook(current: Visit) -> Response:
    _admin(current)
    webhook_id = path_id(current.request.path_params["webhook"])
    await current.form()  # the CSRF checks
    try:
        await admin.remove_webhook(current.runtime.store, webhook_id, current.portal.domain)
    except admin.AdminError:
        raise Refused("error.not_found", 404) from None
    return RedirectResponse("/admin/webhooks?done=removed", status_code=303)
