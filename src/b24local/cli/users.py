"""``b24local user``: add, change and list users."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from b24local import admin, people

from .common import DataDir, Db, Json, Portal, _check_zone, _emit, _now, _run, _settings

app = typer.Typer(help="Manage users.", no_args_is_help=True)

Departments = Annotated[
    list[int] | None,
    typer.Option("--department", help="A department the user belongs to (repeatable)."),
]
ProfileFields = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        help="A profile field as user.add names it, FIELD=VALUE (repeatable), e.g."
        " WORK_COMPANY=Acme or PERSONAL_BIRTHDAY=1990-05-17.",
    ),
]


def _profile_fields(given: list[str] | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in given or ():
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: give FIELD=VALUE", param_hint="--field")
        if name not in people.PROFILE_NAMES:
            raise typer.BadParameter(
                f"{name} is not a profile field (see `user.fields`; standing and departments"
                " have options of their own)",
                param_hint="--field",
            )
        fields[name] = value
    return fields


def _user_record(user) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "last_name": user.last_name,
        "email": user.email,
        "admin": user.is_admin,
        "active": user.active,
        "time_zone": user.time_zone,
        "position": user.work_position,
        "departments": list(user.departments),
        "profile": dict(user.profile),
    }


@app.command("add")
def user_add(
    name: Annotated[str, typer.Option("--name", help="First name.")],
    last_name: Annotated[str, typer.Option("--last-name", help="Last name.")],
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    is_admin: Annotated[bool, typer.Option("--admin", help="A portal administrator.")] = False,
    tz: Annotated[str, typer.Option("--tz", help="Time zone, e.g. Europe/Berlin.")] = "",
    position: Annotated[str, typer.Option(help="Job title.")] = "",
    department: Departments = None,
    field: ProfileFields = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a user; prints the new user's ID."""
    _check_zone(tz)
    profile = _profile_fields(field)
    settings = _settings(data_dir, db)
    user = _run(
        settings,
        lambda store: admin.add_user(
            store,
            _now(),
            name=name,
            last_name=last_name,
            email=email,
            admin=is_admin,
            time_zone=tz,
            position=position,
            department_ids=department or (),
            fields=profile,
            domain=portal,
        ),
    )
    _emit(_user_record(user), as_json, str(user.id))


def _read_password() -> str:
    """Prompt on a terminal (on stderr, so stdout stays clean); else read one line."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return sys.stdin.readline().rstrip("\r\n")


@app.command("password")
def user_password(
    user_id: Annotated[int, typer.Argument(help="The user's ID.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password; asked for (or one line read from stdin) if omitted."),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Set the password the user logs in with on the OAuth page (stored as a scrypt hash)."""
    if password is None:
        password = _read_password()
    _run(
        _settings(data_dir, db),
        lambda store: admin.set_password(store, user_id, password, portal),
    )


@app.command("update")
def user_update(
    user_id: Annotated[int, typer.Argument(help="The user's ID.")],
    department: Departments = None,
    is_admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Portal administrator or not.")
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Employed, or dismissed.")
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Time zone, e.g. Europe/Berlin.")] = None,
    position: Annotated[str | None, typer.Option(help="Job title.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="First name.")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="Last name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    field: ProfileFields = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change a user; only the options given change. Prints the user's ID."""
    _check_zone(tz)
    profile = _profile_fields(field)
    named = {"NAME": name, "LAST_NAME": last_name, "EMAIL": email}
    profile |= {key: value for key, value in named.items() if value is not None}
    user = _run(
        _settings(data_dir, db),
        lambda store: admin.update_user(
            store,
            _now(),
            user_id,
            department_ids=department,
            admin=is_admin,
            active=active,
            time_zone=tz,
            position=position,
            fields=profile,
            domain=portal,
        ),
    )
    _emit(_user_record(user), as_json, str(user.id))


@app.command("list")
def user_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List users: ID, name, e-mail, admin flag."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_users(store, portal))
    records = [_user_record(u) for u in found]
    plain = "\n".join(
        "\t".join(
            [
                str(u.id),
                u.full_name,
                u.email,
                "admin" if u.is_admin else "",
                "" if u.active else "inactive",
            ]
        ).rstrip("\t")
        for u in found
    )
    _emit(records, as_json, plain)
