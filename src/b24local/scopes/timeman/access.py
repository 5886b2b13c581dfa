"""Who may act on whose workday: the user, a portal administrator, or the head of
a department the user belongs to (directly or through parent departments); and
what only an administrator may do (the office networks, time control's settings);
who reads schedules; and who may read whose time control report."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local import access_codes
from b24local.entities import User
from b24local.scopes.timeman.schedule import Schedule
from b24local.store import departments
from b24local.store.departments import Department
from b24local.store.users import Member

from .absences import ControlSettings, ViewType, listed


async def can_manage(conn: AsyncConnection, actor: User, target: User) -> bool:
    if actor.id == target.id or actor.is_admin:
        return True
    return manages_in(await departments.tree(conn, target.portal_id), actor, target)


def manages_in(tree: dict[int, Department], actor: User, target: User | Member) -> bool:
    """:func:`can_manage` on a structure already read: for many people at once."""
    if actor.id == target.id or actor.is_admin:
        return True
    return actor.id in departments.heads_over(tree, target.departments)


async def managed(conn: AsyncConnection, actor: User, people: Iterable[User]) -> list[User]:
    """Those of ``people`` whose days the actor manages (:func:`can_manage` for each,
    the structure read once): the team board's and the approval queue's reach."""
    tree = {} if actor.is_admin else await departments.tree(conn, actor.portal_id)
    return [person for person in people if manages_in(tree, actor, person)]


def departments_seen(actor: User, structure: dict[int, Department]) -> list[Department]:
    """The departments whose people the actor manages: every one for an
    administrator, a head's own and those below them."""
    return [
        department
        for department in structure.values()
        if actor.is_admin or actor.id in departments.heads_over(structure, [department.id])
    ]


async def manages_anyone(conn: AsyncConnection, actor: User) -> bool:
    """``ADMIN`` of ``timeman.settings``: may the user manage other people's days?"""
    return actor.is_admin or bool(await departments.headed_by(conn, actor.portal_id, actor.id))


def administers(actor: User) -> bool:
    """May the user change the portal's timeman set-up (office networks, time control)?"""
    return actor.is_admin


def reads_schedule(actor: User, schedule: Schedule) -> bool:
    """May the user read a work schedule (``timeman.schedule.get``)? Anyone may, any
    schedule: the page says "any user", and the real module's controller reads the
    schedule by ID with no rights check."""
    return actor.id > 0 and schedule.id > 0


# --- time control reports ------------------------------------------------------------------


async def report_view(conn: AsyncConnection, actor: User, settings: ControlSettings) -> ViewType:
    """``report_view_type`` of ``reports.settings.get``: heads and administrators see
    their people as managers; the settings' lists grant full or simplified reports."""
    if await manages_anyone(conn, actor):
        return "head"
    if listed(settings.report_full_type, settings.report_full_users, actor.id):
        return "full"
    if listed(settings.report_simple_type, settings.report_simple_users, actor.id):
        return "simple"
    return "none"


async def reads_report_of(conn: AsyncConnection, actor: User, target: User) -> bool:
    """Whose time control report the actor may ask for: their own, anyone's as an
    administrator, their people's as a head (the real ``Absence::hasAccessToReport``).
    The settings' full and simple lists widen what is shown, not whose."""
    return await can_manage(conn, actor, target)


def may_report_for(actor: User, target_id: int) -> bool:
    """``report.add``: for oneself, or for anyone as an administrator."""
    return actor.id == target_id or actor.is_admin


async def can_read_records(conn: AsyncConnection, actor: User, target: User | None) -> bool:
    """May the user read someone's workday records (REST 3.0 ``timeman.record.list``)?
    The same people who may manage the days: the user, an administrator, or a head
    of one of the user's departments. Nobody reads the records of no one."""
    if target is None:
        return False
    return await can_manage(conn, actor, target)


# --- people (user.add, user.update) -----------------------------------------------------------


def manages_people(actor: User) -> bool:
    """May the user invite people, deactivate them and move them between departments?
    Portal administrators may (the real ``edit_all_users`` / ``bitrix24_invite``)."""
    return administers(actor)


def edits_profile_of(actor: User, target_id: int) -> bool:
    """``user.update``: a profile is changed by its owner or by an administrator."""
    return actor.id == target_id or manages_people(actor)


# --- the platform's own rights (user.admin, user.access) -----------------------------------


def manages_apps(actor: User) -> bool:
    """``user.admin``: may the user manage applications' settings? Portal administrators
    may (the real ``CRestUtil::isAdmin``); the same people ``administers`` lets in."""
    return administers(actor)


async def holds_any(conn: AsyncConnection, actor: User, codes: list[str]) -> bool:
    """``user.access``: does the user hold any of the access codes? An administrator
    holds them all, as the page says; others hold what their departments give."""
    if manages_apps(actor):
        return True
    if not codes:
        return False
    tree = await departments.tree(conn, actor.portal_id)
    return access_codes.holds_any(access_codes.user_codes(actor, tree), codes)


# --- the company structure (department.*) ---------------------------------------------------


def edits_structure(actor: User) -> bool:
    """``department.add/update/delete``: may the user change the company structure?
    The real methods ask for write access to the structure, which portal
    administrators hold; nobody else does on a portal as b24local sets it up."""
    return administers(actor)


# --- events ---------------------------------------------------------------------------------


def reads_offline_events(actor: User) -> bool:
    """``event.offline.*``: may the user read and clear the application's offline queue?
    The real methods ask ``CRestUtil::isAdmin``, the right ``manages_apps`` decides."""
    return manages_apps(actor)


# --- event handlers (event.bind, event.unbind, event.get) -----------------------------------


def manages_events(actor: User) -> bool:
    """May the user bind offline handlers, or handlers authorised as someone else, and
    see every handler of the application? Administrators may (the real
    ``CRestUtil::isAdmin``), the same people who manage applications."""
    return manages_apps(actor)


def binds_as(actor: User, auth_type: int) -> bool:
    """May the user bind (or unbind) a handler authorised as ``auth_type``? As
    themselves always; as someone else (or as whoever raises the event, 0) only
    as an administrator."""
    return auth_type == actor.id or manages_events(actor)


def sees_handler(actor: User, auth_type: int) -> bool:
    """``event.get``: an administrator sees every handler of the application, anyone
    else those authorised as them (which is what their own bindings are)."""
    return manages_events(actor) or auth_type == actor.id
