"""``b24local calls``: the call journal of a running ``serve --dev``, read through
its dev API (:mod:`b24local.devcalls`) — what calls a client made, with which
parameters, and how they were answered."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from b24local.rest.journal import MAX_SIZE

from .common import (
    DEFAULT_SERVER,
    DevConnection,
    DevServerUrl,
    DevToken,
    failing_as_cli,
)
from .common import ServerDataDir as DataDir

app = typer.Typer(
    help="The calls a running `serve --dev` answered (its call journal).",
    invoke_without_command=True,
)

#: Calls asked for per request (the dev API gives at most 1,000).
PAGE = 500
#: Seconds one long poll of ``--follow`` waits on the server (under the client's 30).
FOLLOW_WAIT = 20

Caller = Annotated[
    str | None,
    typer.Option(help="Only this caller: webhook:ID, app:CLIENT_ID or user:ID."),
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
#: ``serve``'s option for the journal's size: ``journal_size: JournalSize = DEFAULT_SIZE``.
JournalSize = Annotated[
    int,
    typer.Option(
        "--journal-size",
        envvar="B24LOCAL_JOURNAL_SIZE",
        min=0,
        max=MAX_SIZE,
        help="Calls the --dev call journal keeps, the oldest dropped first (0: none).",
    ),
]


def _line(call: dict[str, Any]) -> str:
    """``#12 08:30:00 webhook:1 user.current 200 1.2ms`` and, indented, each batch
    command."""
    who = call.get("caller")
    if who is None:
        caller = "-"
    elif who.get("type") == "webhook":
        caller = f"webhook:{who.get('id')}"
    else:
        caller = f"app:{who.get('client_id')}"
    lines = [_summary(f"#{call['id']} {call['time'][11:19]} {caller} {call['api']}", call)]
    for sub in call.get("calls") or ():
        lines.append(_summary(f"    [{sub.get('key')}]", sub))
    return "\n".join(lines)


def _summary(prefix: str, call: dict[str, Any]) -> str:
    outcome = str(call["status"]) + (f" {call['error']}" if call.get("error") else "")
    params = json.dumps(call.get("params"), ensure_ascii=False)
    return f"{prefix} {call['method']} {outcome} {call['duration'] * 1000:.1f}ms {params}"


def _print(calls: list[dict[str, Any]], as_json: bool) -> None:
    for call in calls:
        typer.echo(json.dumps(call, ensure_ascii=False) if as_json else _line(call))


@app.callback()
def calls(
    ctx: typer.Context,
    server: DevServerUrl = DEFAULT_SERVER,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
    method: Annotated[
        str | None, typer.Option(help="Only this method (a trailing * matches a prefix).")
    ] = None,
    caller: Caller = None,
    error: Annotated[
        str | None, typer.Option(help="Only calls failing with this code, or `any`.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only calls from this ISO time of the server clock on.")
    ] = None,
    after: Annotated[int, typer.Option(help="Only calls numbered above this.", min=0)] = 0,
    limit: Annotated[int | None, typer.Option(help="Print at most this many calls.", min=1)] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Keep printing new calls as they come (Ctrl-C ends)."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """List the calls the server answered, oldest first; a batch shows its commands."""
    if ctx.invoked_subcommand is not None:
        return
    dev = DevConnection(server, dev_token, data_dir)
    filters = {"method": method, "caller": caller, "error": error, "since": since}
    try:
        with failing_as_cli():
            if follow:
                _follow(dev, filters, after, as_json)
            else:
                _list(dev, filters, after, limit, as_json)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _list(
    dev: DevConnection, filters: dict[str, Any], after: int, limit: int | None, as_json: bool
) -> None:
    left = limit
    cursor: int | None = after
    while cursor is not None and (left is None or left > 0):
        wanted = min(left, PAGE) if left is not None else PAGE
        page = dev.ask(
            "GET", "/_b24local/calls", query={**filters, "after": cursor, "limit": wanted}
        )
        calls = page["calls"][:left] if left is not None else page["calls"]
        _print(calls, as_json)
        if left is not None:
            left -= len(calls)
        cursor = page["next"]


def _follow(dev: DevConnection, filters: dict[str, Any], after: int, as_json: bool) -> None:
    """Print calls after ``after`` (else after the newest one now) as they come."""
    from b24local.devclient import DevServerError

    cursor = after or dev.ask("GET", "/_b24local/calls", query={"limit": 1})["last"]
    typer.echo(f"following calls after #{cursor} (Ctrl-C ends)", err=True)
    while True:
        query = {**filters, "after": cursor, "timeout": FOLLOW_WAIT}
        try:
            page = dev.ask("GET", "/_b24local/calls/wait", query=query, timeout=FOLLOW_WAIT + 10)
        except DevServerError as refusal:
            if refusal.status == 408:
                continue  # nothing came: ask again
            raise
        _print(page["calls"], as_json)
        cursor = page["calls"][-1]["id"]


@app.command("summary")
def summary(
    server: DevServerUrl = DEFAULT_SERVER,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
    caller: Caller = None,
    as_json: AsJson = False,
) -> None:
    """Per caller: methods called (counts, errors), and scopes used, unused, missing."""
    dev = DevConnection(server, dev_token, data_dir)
    with failing_as_cli():
        callers = dev.ask("GET", "/_b24local/calls/summary", query={"caller": caller})["callers"]
    if as_json:
        _print(callers, True)
        return
    for usage in callers:
        typer.echo(usage["caller"])
        for name, counts in usage["methods"].items():
            errors = ", ".join(f"{code} x{n}" for code, n in counts["errors"].items())
            typer.echo(f"  {name}: {counts['calls']}" + (f" (errors: {errors})" if errors else ""))
        scopes = usage["scopes"]
        for kind in ("used", "unused", "missing"):
            typer.echo(f"  scopes {kind}: {' '.join(scopes[kind]) or '-'}")


@app.command("clear")
def clear(
    server: DevServerUrl = DEFAULT_SERVER,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
) -> None:
    """Forget every call recorded so far."""
    with failing_as_cli():
        DevConnection(server, dev_token, data_dir).ask("DELETE", "/_b24local/calls")
