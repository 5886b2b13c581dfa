"""``b24local webhook``: incoming webhooks (the code is shown only when made)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from b24local import admin

from .common import DataDir, Db, Json, Portal, _emit, _now, _run, _settings

app = typer.Typer(help="Manage incoming webhooks.", no_args_is_help=True)


def _webhook_record(hook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "user_id": hook.user_id,
        "scopes": sorted(hook.scopes),
        "title": hook.title,
        "active": hook.active,
        "created_at": hook.created_at.isoformat(),
    }


@app.command("add")
def webhook_add(
    user: Annotated[int, typer.Option("--user", help="The user the webhook acts as.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable).")
    ] = None,
    title: Annotated[str, typer.Option(help="A note to recognise it by.")] = "",
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create a webhook; prints USER_ID/CODE, the two path segments of its URL."""
    hook, code = _run(
        _settings(data_dir, db),
        lambda store: admin.add_webhook(
            store, _now(), user_id=user, scopes=scope or (), title=title, domain=portal
        ),
    )
    record = {**_webhook_record(hook), "code": code, "path": f"/rest/{hook.user_id}/{code}/"}
    _emit(record, as_json, f"{hook.user_id}/{code}")


@app.command("list")
def webhook_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List webhooks (codes are never shown again): ID, user, scopes, title."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_webhooks(store, portal))
    plain = "\n".join(
        "\t".join([str(h.id), str(h.user_id), ",".join(sorted(h.scopes)), h.title]).rstrip("\t")
        for h in found
    )
    _emit([_webhook_record(h) for h in found], as_json, plain)


@app.command("remove")
def webhook_remove(
    webhook_id: Annotated[int, typer.Argument(help="The webhook's ID from `webhook list`.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Delete a webhook; its URL stops working at once."""
    _run(_settings(data_dir, db), lambda store: admin.remove_webhook(store, webhook_id, portal))
