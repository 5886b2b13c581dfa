"""``b24local app``: local applications (OAuth clients) and their tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from b24local import admin
from b24local.config import Settings
from b24local.oauth import issuing

from .common import (
    DataDir,
    Db,
    DevServer,
    DevToken,
    Json,
    Portal,
    _ask_dev_server,
    _emit,
    _now,
    _run,
    _settings,
)

app = typer.Typer(help="Manage local applications (OAuth clients).", no_args_is_help=True)


def _app_line(found) -> str:
    """An app on one line: client ID, name, scopes, redirect URI, the users it is
    limited to."""
    users = "" if found.allowed_users is None else ",".join(map(str, sorted(found.allowed_users)))
    return "\t".join(
        [found.client_id, found.name, ",".join(sorted(found.scopes)), found.redirect_uri, users]
    ).rstrip("\t")


By = Annotated[
    int | None,
    typer.Option(
        "--by",
        help="The administrator who acts (whose token the app's event carries); "
        "by default the portal's first.",
    ),
]


@app.command("add")
def app_add(
    name: Annotated[str, typer.Option("--name", help="The application's name.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable).")
    ] = None,
    redirect_uri: Annotated[
        str, typer.Option(help="Where /oauth/authorize/ sends the user back with a code.")
    ] = "",
    handler: Annotated[str, typer.Option(help="The application's handler URL.")] = "",
    user: Annotated[
        list[int] | None,
        typer.Option("--user", help="Restrict the app to this user (repeatable)."),
    ] = None,
    by: By = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Install an application; prints CLIENT_ID CLIENT_SECRET (the secret only now).
    Its handler, if any, hears ONAPPINSTALL."""
    installed, secret = _run(
        _settings(data_dir, db),
        lambda store: admin.add_app(
            store,
            _now(),
            name=name,
            scopes=scope or (),
            redirect_uri=redirect_uri,
            handler=handler,
            allowed_users=user or (),
            installer_id=by,
            domain=portal,
        ),
    )
    record = {**admin.app_record(installed), "client_secret": secret}
    _emit(record, as_json, f"{installed.client_id} {secret}")


@app.command("list")
def app_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List applications: client ID, name, scopes, redirect URI, users it is limited to."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_apps(store, portal))
    _emit([admin.app_record(a) for a in found], as_json, "\n".join(map(_app_line, found)))


@app.command("set")
def app_set(
    client_id: Annotated[str, typer.Argument(help="The application's client ID.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="The scopes, replacing the app's (repeatable)."),
    ] = None,
    redirect_uri: Annotated[
        str | None, typer.Option(help="A new redirect URI; an empty one removes it.")
    ] = None,
    handler: Annotated[
        str | None, typer.Option(help="A new handler URL; an empty one removes it.")
    ] = None,
    user: Annotated[
        list[int] | None,
        typer.Option("--user", help="Limit the app to these users instead (repeatable)."),
    ] = None,
    all_users: Annotated[
        bool, typer.Option("--all-users", help="Open the app to every user again.")
    ] = False,
    paid_until: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The last day of a paid or trial period (YYYY-MM-DD); after it the "
            "token endpoint answers PAYMENT_REQUIRED.",
        ),
    ] = None,
    paid: Annotated[
        bool, typer.Option("--paid", help="Paid for good: no end to the paid period.")
    ] = False,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            help="A new, higher version: the app hears ONAPPUPDATE and its event "
            "handlers are removed.",
        ),
    ] = None,
    by: By = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change an installed application; only the options given change. Tokens already
    issued follow the new settings at once."""
    changed = _run(
        _settings(data_dir, db),
        lambda store: admin.update_app(
            store,
            client_id,
            name=name,
            scopes=scope,
            redirect_uri=redirect_uri,
            handler=handler,
            allowed_users=user,
            all_users=all_users,
            paid_until=paid_until.date() if paid_until else None,
            paid=paid,
            version=version,
            by=by,
            now=_now(),
            domain=portal,
        ),
    )
    _emit(admin.app_record(changed), as_json, _app_line(changed))


ClientId = Annotated[str, typer.Option("--client-id", help="The application's client ID.")]


@app.command("remove")
def app_remove(
    client_id: Annotated[str, typer.Argument(help="The application's client ID.")],
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Tell the app its data is to be cleared (CLEAN=1)."),
    ] = False,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Uninstall an application; its tokens stop working at once and its handler
    hears ONAPPUNINSTALL."""
    _run(
        _settings(data_dir, db),
        lambda store: admin.remove_app(store, client_id, portal, now=_now(), clean=clean),
    )


@app.command("options")
def app_options(
    client_id: Annotated[str, typer.Argument(help="The application's client ID.")],
    user: Annotated[
        int | None,
        typer.Option("--user", help="That user's options (user.option.*) instead of the app's."),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
) -> None:
    """Print an application's options as JSON, as app.option.get (or the user's
    user.option.get) answers without a name."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.app_options_of(store, client_id, user, portal),
    )
    _emit(found, True, "")


@app.command("token")
def app_token(
    client_id: ClientId,
    user: Annotated[int, typer.Option("--user", help="The user the tokens act for.")],
    server: DevServer = None,
    dev_token: DevToken = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Issue a token pair without the browser flow; prints ACCESS_TOKEN REFRESH_TOKEN.

    The pair lives an hour from now on the real clock; against a `serve --dev`
    whose clock was moved, pass --server and --dev-token to have it issued there."""
    settings = _settings(data_dir, db)
    if server:
        record = _dev_server_token(settings, server, dev_token, client_id, user, portal)
    else:
        now = _now()
        pair, found = _run(
            settings,
            lambda store: admin.issue_app_token(
                store, now, client_id=client_id, user_id=user, domain=portal
            ),
        )
        record = issuing.pair_record(pair, found, now)
    _emit(record, as_json, f"{record['access_token']} {record['refresh_token']}")


def _dev_server_token(
    settings: Settings,
    server: str,
    dev_token: str | None,
    client_id: str,
    user: int,
    portal: str | None,
) -> dict[str, Any]:
    from b24local.devclient import post

    body = {"client_id": client_id, "user_id": user, "portal": portal}
    return _ask_dev_server(
        settings,
        dev_token,
        lambda token, ca: post(server, token, "/_b24local/tokens", body, ca_file=ca),
    )
