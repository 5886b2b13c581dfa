"""The command line: ``b24local serve`` and scriptable administration.

One module per command group, each with its own ``typer.Typer`` named ``app``,
sharing :mod:`b24local.cli.common` (options, settings, opening the store,
printing). A new group is a new module here plus one ``add_typer`` line below;
a top-level command (like ``serve``) is a module whose ``app`` is added without a
name, so its commands join the root. The order of the lines is the order of
``b24local --help``: top-level commands first, then the groups.
"""

from __future__ import annotations

import typer

from . import (
    apps,
    calls,
    db,
    departments,
    faults,
    outgoing,
    portals,
    schedule,
    serve,
    state,
    timeman,
    tls,
    users,
    version,
    webhooks,
)

app = typer.Typer(
    help="A local server that speaks the Bitrix24 REST API for presence and work time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(serve.app)
app.add_typer(version.app)
app.add_typer(users.app, name="user")
app.add_typer(webhooks.app, name="webhook")
app.add_typer(tls.app, name="tls")
app.add_typer(db.app, name="db")
app.add_typer(departments.app, name="department")
app.add_typer(portals.app, name="portal")
app.add_typer(timeman.app, name="timeman")
app.add_typer(apps.app, name="app")
app.add_typer(outgoing.app, name="outgoing-webhook")
app.add_typer(schedule.app, name="schedule")
app.add_typer(state.app, name="state")
app.add_typer(calls.app, name="calls")
app.add_typer(faults.app, name="fault")


def main() -> None:
    app()
