"""A store's state in the state file's normal form (what ``b24local state export``
writes and :mod:`.loading` reads back).

Secrets the store keeps only as hashes are written as hashes: ``code_sha256`` for
a webhook's code, ``client_secret_sha256`` for an application's secret and
``password_hash`` for a password. Moments are written in UTC. What a state file
does not describe is left out: tokens issued, event deliveries and offline
queues, the history of each workday (a day is its opening, pauses and closing),
deleted schedules, outgoing webhooks.
"""

from __future__ import annotations

from typing import Any

from b24local import people
from b24local.scopes.timeman.schedule import definition_of
from b24local.store import (
    app_options,
    apps,
    departments,
    network_ranges,
    portals,
    presence,
    schedules,
    timecontrol,
    users,
    webhooks,
    workdays,
)
from b24local.store import events as event_store
from b24local.store.engine import Store

from .fileformat import SETTING_NAMES, VERSION

_FILE_NAMES = dict(zip(
    ("enabled", "free", "max_start", "min_finish", "min_duration", "allowed_delta"),
    SETTING_NAMES, strict=True,
))  # fmt: skip
#: The column of each REST field a user's ``fields`` carries.
_COLUMN_FIELDS = {
    name: column
    for name, column in people.COLUMN_OF.items()
    if name not in ("NAME", "LAST_NAME", "EMAIL")
}


async def export(store: Store) -> dict[str, Any]:
    """The whole store as a state file's data, read in one transaction (a write one:
    on SQLite the way to see every table as of one moment)."""
    async with store.transaction(write=True) as conn:
        found = []
        for portal in await portals.all_portals(conn):
            found.append(await _portal(conn, portal))
        return {"version": VERSION, "portals": found}


def _moment(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _settings(stored: dict[str, Any]) -> dict[str, Any]:
    out = {
        _FILE_NAMES[k]: (v if isinstance(v, bool) else _clock(int(v))) for k, v in stored.items()
    }
    return {name: out[name] for name in SETTING_NAMES if name in out}


async def _portal(conn: Any, portal: Any) -> dict[str, Any]:
    pid = portal.id
    tree = await departments.tree(conn, pid)
    everyone = await users.all_users(conn, pid)
    hashes = await users.password_hashes(conn, pid)
    settings = await workdays.stored_settings(conn, pid)
    code_hashes = await webhooks.code_hashes(conn, pid)
    secret_hashes = await apps.secret_hashes(conn, pid)
    found_apps = []
    for app in await apps.list_all(conn, pid):
        options = await app_options.all_of(conn, pid, app.id)
        bindings = [h for h in await event_store.handlers_of_app(conn, pid, app.id)]
        found_apps.append({
            "client_id": app.client_id,
            "client_secret_sha256": secret_hashes[app.client_id],
            "name": app.name,
            "scopes": sorted(app.scopes),
            "redirect_uri": app.redirect_uri,
            "handler": app.handler,
            "users": None if app.allowed_users is None else sorted(app.allowed_users),
            "version": app.version,
            "paid_until": app.paid_until.isoformat() if app.paid_until else None,
            "application_token": app.application_token,
            "options": options.pop(app_options.APP_WIDE, {}),
            "user_options": {uid: value for uid, value in options.items() if value},
            "events": [
                {
                    "event": h.event, "handler": h.handler, "user": h.user_id,
                    "auth_type": h.auth_type, "offline": h.offline, "connector": h.connector,
                }
                for h in bindings
            ],
        })  # fmt: skip
    days = []
    for stored in await workdays.all_days(conn, pid):
        day = stored.day
        days.append({
            "user": stored.user_id,
            "opened": _moment(day.start),
            "pauses": [[_moment(b.start), _moment(b.end)] for b in day.breaks],
            "closed": _moment(day.finish),
        })  # fmt: skip
    control = (await timecontrol.get_settings(conn, pid)).as_result()
    return {
        "domain": portal.domain,
        "default": portal.is_default,
        "plan": portal.plan,
        "status": portal.status,
        "time_zone": portal.time_zone,
        "member_id": portal.member_id,
        "public_url": portal.public_url,
        "rate_threshold": portal.rate_threshold,
        "rate_drain": portal.rate_drain,
        "departments": [
            {
                "id": d.id,
                "name": d.name,
                "parent": d.parent_id,
                "head": d.head_user_id,
                "sort": d.sort,
            }
            for d in sorted(tree.values(), key=lambda d: d.id)
        ],
        "users": [_user(u, hashes.get(u.id), settings.get(u.id, {})) for u in everyone],
        "webhooks": [
            {
                "id": hook.id,
                "user": hook.user_id,
                "code_sha256": code_hashes[hook.id],
                "scopes": sorted(hook.scopes),
                "title": hook.title,
            }
            for hook in await webhooks.list_all(conn, pid)
        ],
        "apps": found_apps,
        "timeman": {
            "settings": _settings(settings.get(workdays.PORTAL_DEFAULTS, {})),
            "networks": [
                {"range": r.ip_range, "name": r.name}
                for r in await network_ranges.get_all(conn, pid)
            ],
            "timecontrol": {key.upper(): value for key, value in control.items()},
            "schedules": [
                definition_of(s) for s in await schedules.all_of(conn, pid) if not s.deleted
            ],
        },
        "workdays": days,
        "presence": [
            {"user": uid, "status": state.status}
            for uid, state in (await presence.all_of(conn, pid)).items()
        ],
    }


def _user(user: Any, password_hash: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    fields = {
        name: getattr(user, column)
        for name, column in _COLUMN_FIELDS.items()
        if getattr(user, column)
    }
    if user.birthday is not None:
        fields["PERSONAL_BIRTHDAY"] = user.birthday.isoformat()
    fields.update(dict(user.profile))
    return {
        "id": user.id,
        "name": user.name,
        "last_name": user.last_name,
        "email": user.email,
        "admin": user.is_admin,
        "active": user.active,
        "extranet": user.user_type == "extranet",
        "departments": list(user.departments),
        "fields": dict(sorted(fields.items())),
        "password": None,
        "password_hash": password_hash,
        "timeman": _settings(settings),
    }
