"""``b24local outgoing-webhook``: the second way to hear events, a handler URL
subscribed to online events; it receives an application token to check the
sender by (events/safe-event-handlers.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from b24local import admin
from b24local.store.outgoing import OutgoingWebhook

from .common import DataDir, Db, Json, Portal, _emit, _now, _run, _settings

app = typer.Typer(help="Outgoing webhooks: a handler URL that hears events.", no_args_is_help=True)


def _record(hook: OutgoingWebhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "handler": hook.handler,
        "events": list(hook.events),
        "user_id": hook.user_id,
        "title": hook.title,
        "application_token": hook.application_token,
    }


@app.command("add")
def outgoing_add(
    handler: Annotated[str, typer.Option("--handler", help="The URL events are posted to.")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event to hear, e.g. ONUSERADD (repeatable)."),
    ] = None,
    user: Annotated[
        int | None,
        typer.Option("--user", help="The user it belongs to (default: the first administrator)."),
    ] = None,
    title: Annotated[str, typer.Option(help="A note to recognise it by.")] = "",
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create an outgoing webhook; prints its application token (auth[application_token])."""
    hook = _run(
        _settings(data_dir, db),
        lambda store: admin.add_outgoing_webhook(
            store, _now(), handler=handler, event_names=event or [], user_id=user, title=title,
            domain=portal,
        ),
    )  # fmt: skip
    _emit(_record(hook), as_json, hook.application_token)


@app.command("list")
def outgoing_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List outgoing webhooks: ID, handler, events, user, application token, title."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_outgoing_webhooks(store, portal))
    plain = "\n".join(
        "\t".join(
            [str(h.id), h.handler, ",".join(h.events), str(h.user_id), h.application_token, h.title]
        ).rstrip("\t")
        for h in found
    )
    _emit([_record(h) for h in found], as_json, plain)


@app.command("remove")
def outgoing_remove(
    hook_id: Annotated[int, typer.Argument(help="The ID from `outgoing-webhook list`.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Delete an outgoing webhook; its handler hears nothing more."""
    _run(
        _settings(data_dir, db),
        lambda store: admin.remove_outgoing_webhook(store, hook_id, portal),
    )
