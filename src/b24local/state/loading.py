"""Putting a state file into a store, and reading one out of it.

Loading goes through the same domain and store functions the CLI and the methods
use — :func:`people.invite` for users, :func:`structure.add` for departments, the
workday transitions of ``timeman.open/pause/close`` replayed at the file's moments —
all in one write transaction: a refusal anywhere (reported with the item's path)
leaves the store as it was. Secrets the store keeps only hashed (webhook codes,
client secrets, passwords) are loaded as given or as their hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from b24local import people, schedule_admin, structure
from b24local.admin import DEFAULT_WEBHOOK_ISSUED, AdminError, _structure_error
from b24local.entities import Portal, User
from b24local.rest.errors import RestError
from b24local.scopes.im.presence import Presence, set_status
from b24local.scopes.timeman import absences, network
from b24local.scopes.timeman.methods import apply_change
from b24local.scopes.timeman.workday import Refusal, close_day, open_day, pause_day
from b24local.store import (
    app_options,
    apps,
    network_ranges,
    portals,
    presence,
    settings,
    timecontrol,
    users,
    webhooks,
    workdays,
)
from b24local.store import events as event_store
from b24local.store.capture import advance_sequences, delete_all
from b24local.store.engine import Store
from b24local.store.tables import portals as portal_table

from .fileformat import StateError, moment_of

#: The settings columns, by the file's names.
_SETTING_COLUMNS = {"tracking": "enabled", "free": "free", "max_start": "max_start",
                    "min_finish": "min_finish", "min_duration": "min_duration",
                    "allowed_delta": "allowed_delta"}  # fmt: skip


@dataclass
class Loaded:
    """What a load made, for the banner: the webhooks whose plain code the file gave
    (``(portal domain, user ID, code)``) and the default portal's first admin."""

    webhooks: list[tuple[str, int, str]] = field(default_factory=list)
    portals: int = 0
    users: int = 0


async def is_empty(store: Store) -> bool:
    """Whether the store holds no portal yet (a first start)."""
    async with store.transaction() as conn:
        found = await conn.execute(select(func.count()).select_from(portal_table))
        return not found.scalar()


async def load(
    store: Store, state: Mapping[str, Any], now: datetime, *, replace: bool = False
) -> Loaded:
    """Put ``state`` (normal form) into the store: an empty one, or with ``replace``
    whatever it holds. One transaction: on :class:`StateError` nothing changed."""
    async with store.transaction(write=True) as conn:
        if replace:
            await delete_all(conn, store.dialect)
        elif (await conn.execute(select(func.count()).select_from(portal_table))).scalar():
            raise StateError("the store holds data already: import into an empty one, or replace")
        loaded = Loaded()
        for index, portal in enumerate(state["portals"]):
            await _portal(conn, portal, now, f"portals[{index}]", loaded)
        # A seeded store has no first-start webhook to issue on a later start.
        await settings.put(conn, DEFAULT_WEBHOOK_ISSUED, "state file")
        await advance_sequences(conn, store.dialect)
        return loaded


async def _portal(
    conn: Any, item: Mapping[str, Any], now: datetime, path: str, loaded: Loaded
) -> None:
    portal = await portals.create(
        conn,
        domain=item["domain"],
        now=now,
        plan=item["plan"],
        time_zone=item["time_zone"],
        is_default=item["default"],
        member_id=item["member_id"],
    )
    await portals.change(
        conn, portal.id, status=item["status"], rate_threshold=item["rate_threshold"],
        rate_drain=item["rate_drain"],
    )  # fmt: skip
    if item["public_url"]:
        await portals.set_public_url(conn, portal.id, item["public_url"])
    portal = await portals.by_id(conn, portal.id)
    assert portal is not None
    loaded.portals += 1

    # Departments parents first and without heads: the heads are users, added next.
    placed: set[int | None] = {None}
    pending = list(enumerate(item["departments"]))
    while pending:
        ready = [(i, d) for i, d in pending if d["parent"] in placed]
        for index, department in ready:
            try:
                await structure.add(
                    conn, portal.id, name=department["name"], parent_id=department["parent"],
                    sort=department["sort"], department_id=department["id"],
                )  # fmt: skip
            except structure.StructureError as error:
                raise StateError(
                    f"{path}.departments[{index}]: {_structure_error(error)}"
                ) from None
            placed.add(department["id"])
        pending = [(i, d) for i, d in pending if d["id"] not in placed]

    for index, user in enumerate(item["users"]):
        await _user(conn, portal, user, now, f"{path}.users[{index}]")
        loaded.users += 1
    for department in item["departments"]:
        if department["head"] is not None:
            changes = structure.Changes(head_id=department["head"])
            await structure.update(conn, portal.id, department["id"], changes)

    for hook in item["webhooks"]:
        _, code = await webhooks.add(
            conn, portal.id, hook["user"], hook["scopes"], now=now, title=hook["title"],
            code=hook.get("code"), code_hash=hook.get("code_sha256"), webhook_id=hook["id"],
        )  # fmt: skip
        if code:
            loaded.webhooks.append((portal.domain, hook["user"], code))

    for app in item["apps"]:
        await _app(conn, portal, app, now)

    for index, day in enumerate(item["workdays"]):
        await _workday(conn, portal, day, f"{path}.workdays[{index}]")
    for entry in item["presence"]:
        moment = now
        await presence.save(
            conn, portal.id, entry["user"], set_status(Presence(), entry["status"], moment)
        )

    timeman = item["timeman"]
    await _put_settings(conn, portal.id, workdays.PORTAL_DEFAULTS, timeman["settings"])
    for user in item["users"]:
        await _put_settings(conn, portal.id, user["id"], user["timeman"])
    parsed = []
    for index, entry in enumerate(timeman["networks"]):
        found = network.parse_range(entry["range"], entry["name"])
        if found is None:
            raise StateError(
                f"{path}.timeman.networks[{index}].range: give an address or FIRST-LAST"
            )
        parsed.append(found)
    if parsed:
        await network_ranges.replace(conn, portal.id, parsed)
    if timeman["timecontrol"]:
        try:
            await timecontrol.change_settings(conn, portal.id, timeman["timecontrol"], now=now)
        except absences.InvalidSetting as invalid:
            raise StateError(
                f"{path}.timeman.timecontrol.{invalid.name}: {invalid.detail}"
            ) from None
    if timeman["schedules"]:
        try:
            await schedule_admin.load_into(conn, portal.id, timeman["schedules"], now)
        except AdminError as error:
            raise StateError(f"{path}.timeman.schedules: {error}") from None


async def _user(
    conn: Any, portal: Portal, item: Mapping[str, Any], now: datetime, path: str
) -> None:
    fields = {
        **item["fields"],
        "NAME": item["name"],
        "LAST_NAME": item["last_name"],
        "EMAIL": item["email"],
        "ACTIVE": "Y" if item["active"] else "N",
        "UF_DEPARTMENT": item["departments"],
    }
    try:
        changes = people.read_fields(fields)
        await people.invite(
            conn, portal, changes, now=now, extranet=item["extranet"], admin=item["admin"],
            invitation=False, user_id=item["id"],
        )  # fmt: skip
    except RestError as error:
        raise StateError(f"{path}: {error.description.removesuffix('<br>')}") from None
    if item["password"] is not None:
        await users.set_password(conn, portal.id, item["id"], item["password"])
    elif item["password_hash"] is not None:
        await users.put_password_hash(conn, portal.id, item["id"], item["password_hash"])


async def _app(conn: Any, portal: Portal, item: Mapping[str, Any], now: datetime) -> None:
    installed, _ = await apps.add(
        conn,
        portal.id,
        name=item["name"],
        scopes=item["scopes"],
        now=now,
        redirect_uri=item["redirect_uri"],
        handler=item["handler"],
        allowed_users=item["users"],
        client_id=item["client_id"],
        secret=item.get("client_secret"),
        secret_hash=item.get("client_secret_sha256"),
        application_token=item["application_token"],
        version=item["version"],
        paid_until=date.fromisoformat(item["paid_until"]) if item["paid_until"] else None,
    )
    if item["options"]:
        await app_options.put(conn, portal.id, installed.id, app_options.APP_WIDE, item["options"])
    for user_id, options in item["user_options"].items():
        await app_options.put(conn, portal.id, installed.id, user_id, options)
    for binding in item["events"]:
        await event_store.add_handler(
            conn, portal.id, event=binding["event"], handler=binding["handler"], now=now,
            user_id=binding["user"], app_id=installed.id, auth_type=binding["auth_type"],
            offline=binding["offline"], connector=binding["connector"],
        )  # fmt: skip


async def _workday(conn: Any, portal: Portal, item: Mapping[str, Any], path: str) -> None:
    """The day replayed as ``timeman.open/pause/close`` at its moments, by the user."""
    user = await users.get(conn, portal.id, item["user"])
    assert user is not None
    zone = user.time_zone or portal.time_zone

    def opening(day, settings, who: User, now):  # type: ignore[no-untyped-def]
        return open_day(day, now, settings=settings, home_zone=zone)

    def pausing(day, settings, who: User, now):  # type: ignore[no-untyped-def]
        return pause_day(day, now, settings=settings)

    def closing(day, settings, who: User, now):  # type: ignore[no-untyped-def]
        return close_day(day, now, settings=settings)

    steps = [("opened", opening, item["opened"], ("open",))]
    for number, (start, end) in enumerate(item["pauses"]):
        steps.append((f"pauses[{number}][0]", pausing, start, ("pause",)))
        if end is not None:
            steps.append((f"pauses[{number}][1]", opening, end, ("resume",)))
    if item["closed"] is not None:
        steps.append(("closed", closing, item["closed"], ("close",)))
    for where, change, moment, expected in steps:
        try:
            transition, _ = await apply_change(
                conn, portal.id, user, change, actor_id=user.id, now=moment_of(moment)
            )
        except Refusal as refusal:
            raise StateError(f"{path}.{where}: refused ({refusal.reason.value})") from None
        if transition.action not in expected:
            raise StateError(
                f"{path}.{where}: the day cannot {expected[0]} then (it is"
                f" {'closed' if transition.day and transition.day.finish else 'in another state'})"
            )


async def _put_settings(conn: Any, portal_id: int, owner: int, given: Mapping[str, Any]) -> None:
    values: dict[str, Any] = {}
    for name, value in given.items():
        column = _SETTING_COLUMNS[name]
        if isinstance(value, str):
            h, m, s = (int(p) for p in value.split(":"))
            value = h * 3600 + m * 60 + s
        values[column] = value
    if values:
        await workdays.put_settings(conn, portal_id, owner, **values)


__all__ = ["Loaded", "StateError", "is_empty", "load"]
