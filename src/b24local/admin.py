"""Administration shared by the CLI and start-up: portals, users, webhooks, apps.

Every function here runs in one transaction and returns plain values, so the
CLI can print them and tests can assert on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local import people, plans, structure
from b24local.entities import App, Portal, User, Webhook
from b24local.events import catalogue, lifecycle
from b24local.events import urls as event_urls
from b24local.oauth import issuing
from b24local.oauth.addresses import parse_public_url
from b24local.rest.errors import RestError
from b24local.scopes import build_registry
from b24local.scopes.common import options as app_option_rules
from b24local.scopes.timeman import absences, approvals, network, workday
from b24local.store import (
    app_options,
    apps,
    departments,
    network_ranges,
    outgoing,
    portals,
    settings,
    timecontrol,
    users,
    webhooks,
    workdays,
)
from b24local.store.engine import Store, hold_start_lock
from b24local.store.types import storable

ROOT_DEPARTMENT = "Company"
ROOT_DEPARTMENT_ID = 1
DEFAULT_WEBHOOK_ISSUED = "default_webhook_issued"
DEFAULT_DOMAIN = "localhost"


class AdminError(Exception):
    """A refusal the CLI reports as a one-line message and a non-zero exit."""


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """The default portal and its administrator, created on first use."""

    portal: Portal
    admin: User


def implemented_scopes() -> list[str]:
    return build_registry().scopes()


async def portal_for(conn: AsyncConnection, domain: str | None = None) -> Portal:
    portal = await (portals.by_domain(conn, domain) if domain else portals.default(conn))
    if portal is None:
        raise AdminError(f"no portal {domain!r}" if domain else "no default portal yet")
    return portal


async def _create_portal(
    conn: AsyncConnection,
    now: datetime,
    *,
    domain: str,
    plan: str = plans.DEFAULT,
    time_zone: str = "UTC",
    is_default: bool = False,
) -> Bootstrap:
    """A portal with its root department and an administrator (user 1) heading it."""
    portal = await portals.create(
        conn, domain=domain, now=now, plan=plan, time_zone=time_zone, is_default=is_default
    )
    department = (await structure.add(conn, portal.id, name=ROOT_DEPARTMENT, parent_id=None)).id
    admin = await users.add(
        conn,
        portal.id,
        now=now,
        name="Admin",
        last_name="",
        is_admin=True,
        email=f"admin@{domain}",
        department_ids=[department],
    )
    await structure.update(conn, portal.id, department, structure.Changes(head_id=admin.id))
    return Bootstrap(portal, admin)


async def bootstrap(store: Store, now: datetime) -> Bootstrap:
    """Create the default portal, its root department and administrator, once."""
    async with store.transaction(write=True) as conn:
        await hold_start_lock(conn)  # another process may be starting too
        existing = await portals.default(conn)
        if existing is not None:
            # User 1 as first started; a seeded portal's first administrator.
            admin_id = await users.first_admin(conn, existing.id) or 1
            admin = await users.get(conn, existing.id, admin_id)
            assert admin is not None
            return Bootstrap(existing, admin)
        return await _create_portal(conn, now, domain=DEFAULT_DOMAIN, is_default=True)


PORTAL_STATUSES = ("active", "blocked", "deleted")


#: A host name as requests name it (``rest.auth.host_name`` form): labels of letters,
#: digits and hyphens; no scheme, port or path.
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def portal_domain(typed: str) -> str:
    """The domain a portal is stored under, or an error if no Host header could name it."""
    domain = typed.strip().lower().rstrip(".")
    if len(domain) > 253 or not _HOST_NAME.match(domain):
        raise AdminError(
            f"{typed!r} is not a host name: give one without scheme or port, e.g. acme.localhost"
        )
    return domain


def _check_plan(plan: str | None) -> None:
    if plan is not None and plan not in plans.KNOWN:
        raise AdminError(f"unknown plan {plan!r}: use one of {', '.join(plans.KNOWN)}")


async def add_portal(
    store: Store, now: datetime, *, domain: str, plan: str = plans.DEFAULT, time_zone: str = "UTC"
) -> Bootstrap:
    domain = portal_domain(domain)
    _check_plan(plan)
    async with store.transaction(write=True) as conn:
        if await portals.by_domain(conn, domain) is not None:
            raise AdminError(f"portal {domain!r} exists already")
        return await _create_portal(conn, now, domain=domain, plan=plan, time_zone=time_zone)


async def list_portals(store: Store) -> list[Portal]:
    async with store.transaction() as conn:
        return await portals.all_portals(conn)


async def update_portal(store: Store, domain: str | None, **changes) -> Portal:
    """Change a portal's plan, status, time zone, rate settings or public URL
    (``None`` keeps; a public URL of ``""`` is unset)."""
    if changes.get("status") not in (None, *PORTAL_STATUSES):
        raise AdminError(f"status must be one of {', '.join(PORTAL_STATUSES)}")
    _check_plan(changes.get("plan"))
    public_url = changes.pop("public_url", None)
    if public_url:
        try:
            public_url = parse_public_url(public_url)
        except ValueError as error:
            raise AdminError(str(error)) from None
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        await portals.change(conn, portal.id, **changes)
        if public_url is not None:
            await portals.set_public_url(conn, portal.id, public_url or None)
        return await portal_for(conn, portal.domain)


async def first_start_webhook(store: Store, now: datetime) -> tuple[Webhook, str] | None:
    """The administrator's all-scopes webhook, issued on the first ``serve`` only.

    Its code is stored hashed, so this is the one moment it can be shown.
    """
    async with store.transaction(write=True) as conn:
        await hold_start_lock(conn)  # issued by one of several processes starting at once
        if await settings.get(conn, DEFAULT_WEBHOOK_ISSUED) is not None:
            return None
        portal = await portal_for(conn)
        issued = await webhooks.add(
            conn, portal.id, 1, implemented_scopes(), now=now, title="default"
        )
        await settings.put(conn, DEFAULT_WEBHOOK_ISSUED, str(issued[0].id))
        return issued


def _changes(fields: Mapping[str, str] | None, **options: Any) -> people.Changes:
    """The CLI's options as the REST fields people.read_fields checks; an option
    given wins over the same field among ``fields``."""
    fields = {**(fields or {}), **{k: v for k, v in options.items() if v is not None}}
    try:
        return people.read_fields(fields)
    except RestError as error:
        raise _refused(error) from None


def _refused(error: RestError) -> AdminError:
    return AdminError(error.description.removesuffix("<br>") or "refused")


async def add_user(
    store: Store,
    now: datetime,
    *,
    name: str,
    last_name: str,
    email: str = "",
    admin: bool = False,
    time_zone: str = "",
    position: str = "",
    department_ids: Sequence[int] = (),
    fields: Mapping[str, str] | None = None,
    domain: str | None = None,
) -> User:
    """Create an account at once (no invitation, no plan limit); ``fields`` are more
    profile fields as ``user.add`` names them."""
    changes = _changes(
        fields,
        NAME=name,
        LAST_NAME=last_name,
        EMAIL=email,
        TIME_ZONE=time_zone,
        WORK_POSITION=position,
        UF_DEPARTMENT=list(department_ids) or [ROOT_DEPARTMENT_ID],
    )
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        try:
            return await people.invite(
                conn, portal, changes, now=now, admin=admin, invitation=False
            )
        except RestError as error:
            raise _refused(error) from None


async def _user(conn: AsyncConnection, portal_id: int, user_id: int) -> User:
    user = await users.get(conn, portal_id, user_id)
    if user is None:
        raise AdminError(f"no user {user_id}")
    return user


async def update_user(
    store: Store,
    now: datetime,
    user_id: int,
    *,
    department_ids: Sequence[int] | None = None,
    admin: bool | None = None,
    active: bool | None = None,
    time_zone: str | None = None,
    position: str | None = None,
    fields: Mapping[str, str] | None = None,
    domain: str | None = None,
) -> User:
    """Change what is given and leave the rest; ``fields`` as ``user.update`` names them."""
    changes = _changes(
        fields,
        TIME_ZONE=time_zone,
        WORK_POSITION=position,
        ACTIVE=None if active is None else ("Y" if active else "N"),
        UF_DEPARTMENT=None if department_ids is None else list(department_ids),
    )
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        user = await _user(conn, portal.id, user_id)
        try:
            return await people.change(conn, portal, user, changes, now=now, admin=admin)
        except RestError as error:
            raise _refused(error) from None


_STRUCTURE_REFUSALS = {
    structure.Refusal.NO_NAME: "a department needs a name",
    structure.Refusal.NOT_FOUND: "no department {}",
    structure.Refusal.BAD_PARENT: "no department {}",
    structure.Refusal.INSIDE_ITSELF: "department {} is the department itself or one below it",
    structure.Refusal.SECOND_ROOT: "there can be only one top-level department",
    structure.Refusal.ROOT_DELETE: "the top-level department cannot be removed",
    structure.Refusal.NO_USER: "no user {}",
    structure.Refusal.ID_TAKEN: "department {} exists already",
    structure.Refusal.BAD_ID: "a department ID is a whole number from 1 to 2147483647, not {}",
}


def _structure_error(error: structure.StructureError) -> AdminError:
    return AdminError(_STRUCTURE_REFUSALS[error.refusal].format(error.subject))


async def add_department(
    store: Store,
    *,
    name: str,
    parent_id: int | None = None,
    head_id: int | None = None,
    sort: int = structure.DEFAULT_SORT,
    department_id: int | None = None,
    domain: str | None = None,
) -> departments.Department:
    """Add a department under ``parent_id`` (the root by default); ``department_id``
    chooses its ID, for fixtures that must match a real portal's."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        try:
            return await structure.add(
                conn,
                portal.id,
                name=name,
                parent_id=parent_id if parent_id is not None else ROOT_DEPARTMENT_ID,
                head_id=head_id,
                sort=sort,
                department_id=department_id,
            )
        except structure.StructureError as error:
            raise _structure_error(error) from None


async def update_department(
    store: Store,
    department_id: int,
    changes: structure.Changes,
    domain: str | None = None,
) -> departments.Department:
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        try:
            return await structure.update(conn, portal.id, department_id, changes)
        except structure.StructureError as error:
            raise _structure_error(error) from None


async def set_department_head(
    store: Store, department_id: int, head_id: int | None, domain: str | None = None
) -> departments.Department:
    return await update_department(store, department_id, structure.Changes(head_id=head_id), domain)


async def remove_department(store: Store, department_id: int, domain: str | None = None) -> None:
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        try:
            await structure.delete(conn, portal.id, department_id)
        except structure.StructureError as error:
            raise _structure_error(error) from None


async def list_departments(store: Store, domain: str | None = None) -> list[departments.Department]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return sorted((await departments.tree(conn, portal.id)).values(), key=lambda d: d.id)


async def list_users(store: Store, domain: str | None = None) -> list[User]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return await users.all_users(conn, portal.id)


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    unknown = sorted(set(wanted) - set(implemented_scopes()))
    if unknown:
        raise AdminError(f"unknown scope(s): {', '.join(unknown)}")
    return wanted


#: The column's length: PostgreSQL refuses a longer title.
WEBHOOK_TITLE_LENGTH = 255


async def add_webhook(
    store: Store,
    now: datetime,
    *,
    user_id: int,
    scopes: Iterable[str],
    title: str = "",
    domain: str | None = None,
) -> tuple[Webhook, str]:
    wanted = _check_scopes(scopes)
    if len(title) > WEBHOOK_TITLE_LENGTH:
        raise AdminError(f"a webhook's title is at most {WEBHOOK_TITLE_LENGTH} characters")
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        if not (await _user(conn, portal.id, user_id)).active:
            # REST refuses a dismissed person's webhook at every call: dead at birth.
            raise AdminError(f"user {user_id} is dismissed: their webhook would never work")
        return await webhooks.add(conn, portal.id, user_id, wanted, now=now, title=title)


async def list_webhooks(store: Store, domain: str | None = None) -> list[Webhook]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return await webhooks.list_all(conn, portal.id)


async def remove_webhook(store: Store, webhook_id: int, domain: str | None = None) -> None:
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        if not await webhooks.remove(conn, portal.id, webhook_id):
            raise AdminError(f"no webhook {webhook_id}")


async def open_store(url: str) -> Store:
    """An engine on ``url`` with the schema brought up to date."""
    from b24local.store.engine import create_engine
    from b24local.store.migrate import upgrade

    store = Store(create_engine(url))
    await upgrade(store.engine)
    return store


# --- time tracking ---------------------------------------------------------------------


async def timeman_settings(
    store: Store,
    *,
    user_id: int | None = None,
    domain: str | None = None,
    **changes,
) -> workday.Settings:
    """Store the given overrides (for a user, or the portal's defaults) and return the
    settings in force."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        found = await _user(conn, portal.id, user_id) if user_id is not None else None
        owner = found.id if found is not None else workdays.PORTAL_DEFAULTS
        await workdays.put_settings(conn, portal.id, owner, **changes)
        member_of = found.departments if found is not None else ()
        return await workdays.settings_for(conn, portal.id, owner, member_of)


async def list_network_ranges(
    store: Store, domain: str | None = None
) -> list[network.NetworkRange]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return list(await network_ranges.get_all(conn, portal.id))


async def set_network_ranges(
    store: Store, ranges: Sequence[tuple[str, str]], domain: str | None = None
) -> list[network.NetworkRange]:
    """Replace the office networks with ``(range, name)`` pairs; all or nothing."""
    parsed = []
    for text, name in ranges:
        found = network.parse_range(text, name)
        if found is None:
            raise AdminError(f"malformed range {text!r}: give an address or FIRST-LAST")
        parsed.append(found)
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        await network_ranges.replace(conn, portal.id, parsed)
    return parsed


async def timecontrol_settings(
    store: Store,
    now: datetime,
    changes: dict[str, Any] | None = None,
    domain: str | None = None,
) -> absences.ControlSettings:
    """Time control's settings, changing those given first: the names, values and
    checks of ``timeman.timecontrol.settings.set`` (all or nothing)."""
    async with store.transaction(write=bool(changes)) as conn:
        portal = await portal_for(conn, domain)
        if not changes:
            return await timecontrol.get_settings(conn, portal.id)
        try:
            return await timecontrol.change_settings(conn, portal.id, changes, now=now)
        except absences.InvalidSetting as invalid:
            raise AdminError(f"{invalid.name}: {invalid.detail}") from None


async def pending_workdays(store: Store, domain: str | None = None) -> list[workdays.StoredDay]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return await workdays.awaiting_approval(conn, portal.id)


async def decide_workday(
    store: Store,
    now: datetime,
    *,
    workday_id: int,
    supervisor_id: int,
    approved: bool,
    domain: str | None = None,
) -> workdays.StoredDay:
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        supervisor = await _user(conn, portal.id, supervisor_id)
        try:
            return await approvals.decide(
                conn,
                portal.id,
                workday_id=workday_id,
                supervisor=supervisor,
                approved=approved,
                now=now,
            )
        except approvals.ApprovalError as error:
            raise AdminError(str(error)) from None


async def workday_records(
    store: Store,
    now: datetime,
    *,
    user_id: int,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    domain: str | None = None,
) -> list[dict[str, Any]]:
    """A user's workday records, newest first, as REST 3.0 ``timeman.record.list``
    answers them: the same query grammar, SQL and record shape."""
    from b24local.rest.v3.errors import V3Error
    from b24local.rest.v3.query import parse_query
    from b24local.scopes.timeman import record

    terms: list[list[Any]] = [["userId", "=", user_id]]
    if since:
        terms.append(["startTime", ">=", since])
    if until:
        terms.append(["startTime", "<", until])
    params = {"filter": terms, "order": {"startTime": "DESC"}, "pagination": {"limit": limit}}
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        await _user(conn, portal.id, user_id)
        try:
            query = parse_query(params, record.RECORD, portal.zone)
        except V3Error as error:
            details = "; ".join(v["message"] for v in error.validation or ())
            raise AdminError(details or error.description) from None
        days = await workdays.record_page(conn, portal.id, user_id, query)
        return [record.record_item(day, query.select, now) for day in days]


async def workday_history(store: Store, workday_id: int, domain: str | None = None) -> list[dict]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        if await workdays.by_id(conn, portal.id, workday_id) is None:
            raise AdminError(f"no workday {workday_id}")
        return await workdays.history(conn, portal.id, workday_id)


# --- passwords and applications ------------------------------------------------------


async def set_password(
    store: Store, user_id: int, password: str, domain: str | None = None
) -> None:
    if not password:
        raise AdminError("the password must not be empty")
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        await _user(conn, portal.id, user_id)
        await users.set_password(conn, portal.id, user_id, password)


def _app_url(url: str, what: str) -> str:
    """A redirect URI or handler: an absolute http(s) URL, or empty for none. Anything
    else could never be followed by a browser or a client."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        valid = parts.port is None or parts.port > 0  # the port property validates it
    except ValueError:
        valid = False
    if (
        not valid
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or "#" in url
        or any(c.isspace() or not c.isprintable() for c in url)
    ):
        raise AdminError(
            f"the {what} must be an absolute http:// or https:// URL without a fragment, "
            f"not {url!r}"
        )
    if what == "handler" and event_urls.handler_problem(url) is not None:
        raise AdminError(
            f"the handler must be a URL events can be posted to, at most"
            f" {event_urls.MAX_LENGTH} bytes, not {url[:200]!r}"
        )
    return url


#: The longest application name the apps table holds.
APP_NAME_MAX = 255


def _app_name(name: str) -> str:
    if not name.strip():
        raise AdminError("the application needs a name")
    if len(name.strip()) > APP_NAME_MAX:
        raise AdminError(f"the application's name is longer than {APP_NAME_MAX} characters")
    return name.strip()


async def _app(conn: AsyncConnection, portal_id: int, client_id: str) -> App:
    app = await apps.by_client_id(conn, client_id)
    if app is None or app.portal_id != portal_id:
        raise AdminError(f"no application {client_id}")
    return app


async def add_app(
    store: Store,
    now: datetime,
    *,
    name: str,
    scopes: Iterable[str],
    redirect_uri: str = "",
    handler: str = "",
    allowed_users: Sequence[int] = (),
    installer_id: int | None = None,
    domain: str | None = None,
) -> tuple[App, str]:
    """Install a local application; returns it with its client secret. Its handler
    hears ONAPPINSTALL, authorised as ``installer_id`` (an administrator; by default
    the portal's first)."""
    wanted = _check_scopes(scopes)
    name = _app_name(name)
    redirect_uri = _app_url(redirect_uri, "redirect URI")
    handler = _app_url(handler, "handler")
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        for user_id in allowed_users:
            await _user(conn, portal.id, user_id)
        installer = await _administrator(conn, portal.id, installer_id)
        installed, secret = await apps.add(
            conn,
            portal.id,
            name=name,
            scopes=wanted,
            now=now,
            redirect_uri=redirect_uri,
            handler=handler,
            allowed_users=allowed_users or None,
        )
        await lifecycle.installed(conn, installed, now=now, installer_id=installer)
        return installed, secret


def app_record(app: App) -> dict[str, Any]:
    """An application as the CLI's ``--json`` and the dev API show it (never its secret)."""
    return {
        "id": app.id,
        "client_id": app.client_id,
        "name": app.name,
        "scopes": sorted(app.scopes),
        "redirect_uri": app.redirect_uri,
        "handler": app.handler,
        "users": None if app.allowed_users is None else sorted(app.allowed_users),
        "paid_until": app.paid_until.isoformat() if app.paid_until else None,
        "version": app.version,
        "installed": app.created_at.isoformat(),
    }


async def _administrator(conn: AsyncConnection, portal_id: int, user_id: int | None) -> int | None:
    """Who acts for an application's lifecycle: the administrator named, or the
    portal's first active one (None if it has none)."""
    if user_id is None:
        return await users.first_admin(conn, portal_id)
    user = await _user(conn, portal_id, user_id)
    if not (user.active and user.is_admin):
        raise AdminError(f"user {user_id} is not an active administrator")
    return user.id


async def update_app(
    store: Store,
    client_id: str,
    *,
    name: str | None = None,
    scopes: Iterable[str] | None = None,
    redirect_uri: str | None = None,
    handler: str | None = None,
    allowed_users: Sequence[int] | None = None,
    all_users: bool = False,
    paid_until: date | None = None,
    paid: bool = False,
    version: int | None = None,
    by: int | None = None,
    now: datetime | None = None,
    domain: str | None = None,
) -> App:
    """Change an installed application; what is not given stays. ``allowed_users``
    limits it to those users, ``all_users`` opens it to every user again. Tokens
    already issued follow at once: narrower scopes narrow them, and a user left out
    meets ``user_access_error``. ``paid_until`` is the last day of a paid or trial
    period, after which no tokens are issued; ``paid`` ends such a period.
    A higher ``version`` is an update: ONAPPUPDATE (authorised as ``by``, an
    administrator) at ``now``, and the app's event handlers are removed."""
    if allowed_users is not None and all_users:
        raise AdminError("limit the application to some users or open it to all, not both")
    if paid_until is not None and paid:
        raise AdminError("give the paid period's last day or mark the application paid, not both")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _app_name(name)
    if scopes is not None:
        changes["scopes"] = _check_scopes(scopes)
    if redirect_uri is not None:
        changes["redirect_uri"] = _app_url(redirect_uri, "redirect URI")
    if handler is not None:
        changes["handler"] = _app_url(handler, "handler")
    if allowed_users is not None or all_users:
        changes["allowed_users"] = allowed_users
    if paid_until is not None or paid:
        changes["paid_until"] = paid_until
    if version is not None:
        if version < 1:
            raise AdminError(f"the version is a positive number, not {version}")
        if now is None:
            raise AdminError("a version change needs the time it happens")
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        before = await _app(conn, portal.id, client_id)
        for user_id in allowed_users or ():
            await _user(conn, portal.id, user_id)
        upgraded = version is not None and version != before.version
        if upgraded and version < before.version:
            raise AdminError(f"the version only goes up: {client_id} is at {before.version}")
        # Only an update is done by someone (its ONAPPUPDATE carries their token).
        actor = await _administrator(conn, portal.id, by) if upgraded else None
        if upgraded:
            changes["version"] = version
        await apps.change(conn, portal.id, client_id, **changes)
        after = await _app(conn, portal.id, client_id)
        if upgraded and now is not None:
            await lifecycle.updated(conn, after, before.version, now=now, actor_id=actor)
        return after


async def list_apps(store: Store, domain: str | None = None) -> list[App]:
    async with store.transaction() as conn:
        return await apps.list_all(conn, (await portal_for(conn, domain)).id)


async def remove_app(
    store: Store,
    client_id: str,
    domain: str | None = None,
    *,
    now: datetime,
    clean: bool = False,
) -> None:
    """Uninstall an application: ONAPPUNINSTALL (with ``CLEAN`` as asked) to its
    handlers, then it goes with its tokens and event handlers."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        app = await _app(conn, portal.id, client_id)
        await lifecycle.uninstalled(conn, app, now=now, clean=clean)
        await apps.remove(conn, portal.id, client_id)


async def app_options_of(
    store: Store, client_id: str, user_id: int | None = None, domain: str | None = None
) -> Any:
    """What ``app.option.get`` (or, for ``user_id``, that user's ``user.option.get``)
    answers the application with no ``option``."""
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        app = await _app(conn, portal.id, client_id)
        if user_id is not None:
            await _user(conn, portal.id, user_id)
        owner = app_options.APP_WIDE if user_id is None else user_id
        stored = await app_options.get(conn, portal.id, app.id, owner)
        return app_option_rules.read(stored, None)


async def issue_app_token(
    store: Store, now: datetime, *, client_id: str, user_id: int, domain: str | None = None
) -> tuple[issuing.TokenPair, Portal]:
    """A token pair for ``user_id`` without the browser flow, as if they had
    authorised the app just now."""
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        app = await _app(conn, portal.id, client_id)
        user = await _user(conn, portal.id, user_id)
        if not user.active:
            raise AdminError(f"user {user_id} is not active")
        if not app.admits(user_id):
            raise AdminError(f"user {user_id} may not use application {client_id}")
        if app.payment_expired(portal.today(now)):
            raise AdminError(
                f"payment required: the paid period of {client_id} ended on {app.paid_until}"
            )
        return await issuing.issue_pair(conn, app, user_id, app.scopes, now), portal


# --- outgoing webhooks --------------------------------------------------------------------


#: The width of outgoing_webhooks.title.
OUTGOING_TITLE_LENGTH = 255


def _check_outgoing(handler: str, event_names: Sequence[str], title: str) -> list[str]:
    if event_urls.handler_problem(handler) is not None:
        raise AdminError(
            f"the handler {handler[:200]!r} is not an absolute http:// or https:// URL"
            f" events can be posted to (at most {event_urls.MAX_LENGTH} bytes)"
        )
    if len(title) > OUTGOING_TITLE_LENGTH:
        raise AdminError(f"the title is longer than {OUTGOING_TITLE_LENGTH} characters")
    if not event_names:
        raise AdminError("give at least one --event")
    names = [name.strip().upper() for name in event_names]
    for name in names:
        if not catalogue.known(name):
            raise AdminError(f"unknown event {name!r}")
        if name in catalogue.APPLICATION_ONLY:
            raise AdminError(f"{name} concerns an application: an outgoing webhook cannot hear it")
    return names


async def add_outgoing_webhook(
    store: Store,
    now: datetime,
    *,
    handler: str,
    event_names: Sequence[str],
    user_id: int | None = None,
    title: str = "",
    domain: str | None = None,
) -> outgoing.OutgoingWebhook:
    """An outgoing webhook on behalf of ``user_id`` (default: the portal's first
    administrator), with its application token."""
    names = _check_outgoing(handler, event_names, title)
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        if user_id is None:
            admins = [u for u in await users.all_users(conn, portal.id) if u.is_admin]
            if not admins:
                raise AdminError("the portal has no administrator; give --user")
            user_id = min(u.id for u in admins)
        else:
            await _user(conn, portal.id, user_id)
        return await outgoing.add(
            conn, portal.id, user_id=user_id, handler=handler, event_names=names, now=now,
            title=title,
        )  # fmt: skip


async def list_outgoing_webhooks(
    store: Store, domain: str | None = None
) -> list[outgoing.OutgoingWebhook]:
    async with store.transaction() as conn:
        portal = await portal_for(conn, domain)
        return await outgoing.list_all(conn, portal.id)


async def remove_outgoing_webhook(store: Store, hook_id: int, domain: str | None = None) -> None:
    if not storable(hook_id):
        raise AdminError(f"no outgoing webhook {hook_id}")
    async with store.transaction(write=True) as conn:
        portal = await portal_for(conn, domain)
        if not await outgoing.remove(conn, portal.id, hook_id):
            raise AdminError(f"no outgoing webhook {hook_id}")
