"""Administration, people: the list, inviting a user and changing one.

An invitation is :func:`..people.invite` as ``user.add`` calls it (an e-mail to
go to, room in the plan, at least one department), a change is
:func:`..people.change` as ``user.update`` calls it; their refusals are shown in
the catalogue's words. Only those ``user.add`` lets in (``manages_people``) see
these pages.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from b24local import people
from b24local.entities import User
from b24local.events.sources import Origin
from b24local.rest.errors import RestError
from b24local.scopes.timeman.access import manages_people
from b24local.store import departments, users

from .administer import form_ids, ordered, path_id, require
from .pages import handler
from .render import page
from .visit import Refused, Visit

#: A person's form: a handful of fields and one value per department chosen, so a
#: person in many departments is still saved (:data:`.visit.MAX_FIELDS` would stop
#: at about fifteen).
PERSON_FORM_FIELDS = 200

#: The real module's fixed refusals (their descriptions), by catalogue key.
_FIXED = {
    people.WRONG_EMAIL.description: "admin.people.wrong_email",
    people.EMAIL_TAKEN.description: "admin.people.email_taken",
    people.USER_COUNT_EXCEEDED.description: "admin.people.user_limit",
    people.NO_EXTRANET_FIELD.description: "admin.people.no_department",
}
#: CUser's texts (``LAST_ERROR``), by how they begin.
_CORE = (
    ("Department ", "admin.people.unknown_department"),
    ("A user with this email", "admin.people.email_taken"),
    ("Incorrect e-mail", "admin.people.wrong_email"),
)


def refusal_key(error: RestError) -> tuple[str, dict[str, str]]:
    """The catalogue's words for a refusal of ``people``; one it does not know yet
    is shown with the service's own text rather than hidden."""
    if error.description in _FIXED:
        return _FIXED[error.description], {}
    text = error.description.removesuffix("<br>")
    for start, key in _CORE:
        if text.startswith(start):
            return key, {}
    if " is longer than " in text:
        return "admin.people.too_long", {"field": text.split(" ", 1)[0]}
    return "admin.people.refused", {"text": text}


def _fields(form: dict[str, str], chosen: tuple[int, ...]) -> dict[str, object]:
    """The form as the REST fields ``people.read_fields`` reads."""
    return {
        "NAME": form.get("name", ""),
        "LAST_NAME": form.get("last_name", ""),
        "EMAIL": form.get("email", ""),
        "UF_DEPARTMENT": list(chosen),
    }


async def _people_page(
    current: Visit,
    error: tuple[str, dict[str, str]] | None = None,
    status: int = 200,
    sent: dict[str, object] | None = None,
) -> Response:
    async with current.runtime.store.transaction() as conn:
        everyone = await users.all_users(conn, current.portal.id)
        tree = await departments.tree(conn, current.portal.id)
    active_count = sum(1 for user in everyone if user.active)
    return page(
        current.request, "admin_people.html", status=status, visit=current,
        csrf_token=current.csrf_token(), people=everyone, tree=tree,
        structure=ordered(tree), active_count=active_count,
        dismissed=len(everyone) - active_count,
        error=error, sent=sent or {}, done=current.request.query_params.get("done", ""),
    )  # fmt: skip


async def _person_page(
    current: Visit,
    person: User,
    error: tuple[str, dict[str, str]] | None = None,
    status: int = 200,
    sent: dict[str, object] | None = None,
) -> Response:
    async with current.runtime.store.transaction() as conn:
        tree = await departments.tree(conn, current.portal.id)
    shown: dict[str, object] = {
        "name": person.name, "last_name": person.last_name, "email": person.email,
        "departments": list(person.departments), "active": person.active,
    }  # fmt: skip
    return page(
        current.request, "admin_person.html", status=status, visit=current,
        csrf_token=current.csrf_token(), person=person, structure=ordered(tree),
        error=error, sent={**shown, **(sent or {})},
    )  # fmt: skip


def _admin(current: Visit) -> User:
    assert current.user is not None
    require(manages_people(current.user))
    return current.user


@handler()
async def people_page(current: Visit) -> Response:
    actor = _admin(current)
    if current.request.method in ("GET", "HEAD"):
        return await _people_page(current)
    form = await current.form(PERSON_FORM_FIELDS)
    chosen = form_ids(current.values("department"))
    sent = {**form, "departments": list(chosen)}
    try:
        changes = people.read_fields(_fields(form, chosen))
        async with current.runtime.store.transaction(write=True) as conn:
            # user.add's own call: the same checks, the same event, in one place.
            added = await people.invite(
                conn, current.portal, changes, now=current.runtime.clock.now(),
                origin=Origin(actor_id=actor.id),
            )  # fmt: skip
    except RestError as error:
        return await _people_page(current, refusal_key(error), error.status, sent)
    return RedirectResponse(f"/admin/people?done=invited#user-{added.id}", status_code=303)


async def _person(current: Visit) -> User:
    user_id = path_id(current.request.path_params["user"])
    async with current.runtime.store.transaction() as conn:
        person = await users.get(conn, current.portal.id, user_id)
    if person is None:
        raise Refused("error.not_found", 404)
    return person


@handler()
async def person_page(current: Visit) -> Response:
    actor = _admin(current)
    person = await _person(current)
    if current.request.method in ("GET", "HEAD"):
        return await _person_page(current, person)
    form = await current.form(PERSON_FORM_FIELDS)
    chosen = form_ids(current.values("department"))
    active = form.get("active") == "Y"
    sent = {**form, "departments": list(chosen), "active": active}
    if person.id == actor.id and not active:
        # Their session would end with the save, and the last administrator's with it.
        return await _person_page(current, person, ("admin.people.dismiss_self", {}), 400, sent)
    if person.user_type == "employee" and not chosen:
        # user.update would make them extranet (no department, no employee): a choice
        # the page does not offer, so an emptied list is a slip, refused as invite does.
        return await _person_page(current, person, ("admin.people.no_department", {}), 400, sent)
    try:
        fields = {**_fields(form, chosen), "ACTIVE": "Y" if active else "N"}
        if fields["EMAIL"] == person.email:
            # Unchanged, it is not sent (as user.update without EMAIL): the first-start
            # administrator's admin@localhost, no address to invite, stays theirs.
            del fields["EMAIL"]
        changes = people.read_fields(fields)
        async with current.runtime.store.transaction(write=True) as conn:
            await people.change(
                conn, current.portal, person, changes, now=current.runtime.clock.now()
            )
    except RestError as error:
        return await _person_page(current, person, refusal_key(error), error.status, sent)
    return RedirectResponse(f"/admin/people?done=changed#user-{person.id}", status_code=303)


@handler()
async def admin_home(current: Visit) -> Response:
    _admin(current)
    return RedirectResponse("/admin/people", status_code=303)
