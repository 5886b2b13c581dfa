"""``b24local department``: the company structure."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from b24local import admin, structure

from .common import DataDir, Db, Json, Portal, _emit, _run, _settings

app = typer.Typer(help="Manage departments.", no_args_is_help=True)


def _department_record(department) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "parent_id": department.parent_id,
        "head_id": department.head_user_id,
        "sort": department.sort,
    }


@app.command("add")
def department_add(
    name: Annotated[str, typer.Option("--name", help="The department's name.")],
    parent: Annotated[int | None, typer.Option(help="Parent department (default: 1).")] = None,
    head: Annotated[int | None, typer.Option(help="The head's user ID.")] = None,
    sort: Annotated[int, typer.Option(help="Sort order.")] = 500,
    department_id: Annotated[
        int | None,
        typer.Option(
            "--id",
            help="Choose the new department's ID (e.g. to match a real portal's in test "
            "fixtures); later automatic IDs continue past it.",
        ),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a department; prints its ID."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.add_department(
            store,
            name=name,
            parent_id=parent,
            head_id=head,
            sort=sort,
            department_id=department_id,
            domain=portal,
        ),
    )
    _emit(_department_record(found), as_json, str(found.id))


@app.command("update")
def department_update(
    department_id: Annotated[int, typer.Argument(help="The department's ID.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    parent: Annotated[
        int | None, typer.Option(help="Move it (with everything below) under this department.")
    ] = None,
    head: Annotated[int | None, typer.Option("--head", help="The new head's user ID.")] = None,
    no_head: Annotated[bool, typer.Option("--no-head", help="Leave it without a head.")] = False,
    sort: Annotated[int | None, typer.Option(help="Sort order.")] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change a department's name, parent, head or sort; prints its ID."""
    if no_head and head is not None:
        typer.echo("error: give --head or --no-head, not both", err=True)
        raise typer.Exit(1)
    keep = structure.KEEP
    changes = structure.Changes(
        name=name if name is not None else keep,
        parent_id=parent if parent is not None else keep,
        head_id=None if no_head else head if head is not None else keep,
        sort=sort if sort is not None else keep,
    )
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.update_department(store, department_id, changes, portal),
    )
    _emit(_department_record(found), as_json, str(found.id))


@app.command("remove")
def department_remove(
    department_id: Annotated[int, typer.Argument(help="The department's ID.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Delete a department; its people and sub-departments move up to its parent."""
    _run(
        _settings(data_dir, db),
        lambda store: admin.remove_department(store, department_id, portal),
    )


@app.command("head")
def department_head(
    department_id: Annotated[int, typer.Argument(help="The department's ID.")],
    user: Annotated[
        int | None, typer.Option("--user", help="The new head (omit to clear).")
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Set or clear a department's head."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.set_department_head(store, department_id, user, portal),
    )
    _emit(_department_record(found), as_json, str(found.id))


@app.command("list")
def department_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List departments: ID, name, parent, head."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_departments(store, portal))
    plain = "\n".join(
        "\t".join([str(d.id), d.name, str(d.parent_id or ""), str(d.head_user_id or "")]).rstrip()
        for d in found
    )
    _emit([_department_record(d) for d in found], as_json, plain)
