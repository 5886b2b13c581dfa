"""``b24local calls``: the call journal of a running ``serve --dev``, read through
its dev API (:mod:`b24local.devcalls`) — what calls a client made, with which
parameters, and how they were answered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import typer

from b24local.rest.journal import MAX_SIZE

if TYPE_CHECKING:
    from b24local.devclient import DevServerError

app = typer.Typer(
    help="The calls a running `serve --dev` answered (its call journal).",
    invoke_without_command=True,
)

#: Calls asked for per request (the dev API gives at most 1,000).
PAGE = 500
#: Seconds one long poll of ``--follow`` waits on the server (under the client's 30).
FOLLOW_WAIT = 20

Server = Annotated[
    str,
    typer.Option("--server", envvar="B24LOCAL_SERVER", help="The running `serve --dev` (its URL)."),
]
DevToken = Annotated[
    str | None,
    typer.Option(
        "--dev-token", envvar="B24LOCAL_DEV_TOKEN", help="The dev token that server printed."
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The server's data directory, whose local CA a `serve --tls` presents.",
    ),
]
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


class _Dev:
    """The dev server asked, failing as a CLI does."""

    def __init__(self, server: str, dev_token: str | None, data_dir: Path | None) -> None:
        if not dev_token:
            typer.echo("error: the journal needs --dev-token (or B24LOCAL_DEV_TOKEN)", err=True)
            raise typer.Exit(2)
        self.server = server
        self.token = dev_token
        self.ca_file = _ca_file(data_dir)

    def get(self, path: str, query: dict[str, Any], *, timeout: float = 30) -> dict[str, Any]:
        from b24local.devclient import get

        wanted = {key: value for key, value in query.items() if value is not None}
        path = f"{path}?{urlencode(wanted)}" if wanted else path
        return get(self.server, self.token, path, ca_file=self.ca_file, timeout=timeout)

    def delete(self, path: str) -> dict[str, Any]:
        from b24local.devclient import delete

        return delete(self.server, self.token, path, ca_file=self.ca_file)


def _ca_file(data_dir: Path | None) -> Path:
    from b24local.config import default_data_dir
    from b24local.tls import files_in

    return files_in(data_dir or default_data_dir()).ca_cert


def _fail(error: DevServerError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(1)


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
    server: Server = "http://127.0.0.1:8024",
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
    from b24local.devclient import DevServerError

    dev = _Dev(server, dev_token, data_dir)
    filters = {"method": method, "caller": caller, "error": error, "since": since}
    try:
        if follow:
            _follow(dev, filters, after, as_json)
        else:
            _list(dev, filters, after, limit, as_json)
    except DevServerError as failure:
        raise _fail(failure) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _list(dev: _Dev, filters: dict[str, Any], after: int, limit: int | None, as_json: bool) -> None:
    left = limit
    cursor: int | None = after
    while cursor is not None and (left is None or left > 0):
        wanted = min(left, PAGE) if left is not None else PAGE
        page = dev.get("/_b24local/calls", {**filters, "after": cursor, "limit": wanted})
        calls = page["calls"][:left] if left is not None else page["calls"]
        _print(calls, as_json)
        if left is not None:
            left -= len(calls)
        cursor = page["next"]


def _follow(dev: _Dev, filters: dict[str, Any], after: int, as_json: bool) -> None:
    """Print calls after ``after`` (else after the newest one now) as they come."""
    from b24local.devclient import DevServerError

    cursor = after or dev.get("/_b24local/calls", {"limit": 1})["last"]
    typer.echo(f"following calls after #{cursor} (Ctrl-C ends)", err=True)
    while True:
        query = {**filters, "after": cursor, "timeout": FOLLOW_WAIT}
        try:
            page = dev.get("/_b24local/calls/wait", query, timeout=FOLLOW_WAIT + 10)
        except DevServerError as refusal:
            if refusal.status == 408:
                continue  # nothing came: ask again
            raise
        _print(page["calls"], as_json)
        cursor = page["calls"][-1]["id"]


@app.command("summary")
def summary(
    server: Server = "http://127.0.0.1:8024",
    dev_token: DevToken = None,
    data_dir: DataDir = None,
    caller: Caller = None,
    as_json: AsJson = False,
) -> None:
    """Per caller: methods called (counts, errors), and scopes used, unused, missing."""
    from b24local.devclient import DevServerError

    dev = _Dev(server, dev_token, data_dir)
    try:
        callers = dev.get("/_b24local/calls/summary", {"caller": caller})["callers"]
    except DevServerError as failure:
        raise _fail(failure) from None
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
    server: Server = "http://127.0.0.1:8024",
    dev_token: DevToken = None,
    data_dir: DataDir = None,
) -> None:
    """Forget every call recorded so far."""
    from b24local.devclient import DevServerError

    dev = _Dev(server, dev_token, data_dir)
    try:
        dev.delete("/_b24local/calls")
    except DevServerError as failure:
        raise _fail(failure) from None
