"""``b24local timeman``: work-time settings, office networks, time control and
the approval of edited workdays."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from b24local import admin

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

app = typer.Typer(help="Work-time settings and approvals.", no_args_is_help=True)
network_app = typer.Typer(help="Office networks (timeman.networkrange.*).", no_args_is_help=True)
app.add_typer(network_app, name="network")


def _clock_seconds(text: str | None, what: str) -> int | None:
    """``HH:MM`` or ``HH:MM:SS`` as seconds."""
    if text is None:
        return None
    if text.strip().startswith("-"):
        typer.echo(f"error: {what} cannot be negative, not {text!r}", err=True)
        raise typer.Exit(1)
    parts = text.split(":")
    try:
        # Digits only: int() alone would take "-00", "+5" or " 5".
        if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError
        hours, minutes, seconds = (int(p) for p in [*parts, "0"][:3])
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
            raise ValueError
    except ValueError:
        typer.echo(f"error: {what} must be HH:MM or HH:MM:SS, not {text!r}", err=True)
        raise typer.Exit(1) from None
    return hours * 3600 + minutes * 60 + seconds


def _settings_record(found) -> dict[str, Any]:
    from b24local.scopes.timeman.report import settings_result

    return settings_result(found, None)


@app.command("settings")
def timeman_settings(
    user: Annotated[
        int | None, typer.Option("--user", help="A user's settings (default: the portal's).")
    ] = None,
    tracking: Annotated[
        bool | None, typer.Option("--tracking/--no-tracking", help="UF_TIMEMAN.")
    ] = None,
    free: Annotated[bool | None, typer.Option("--free/--no-free", help="UF_TM_FREE.")] = None,
    max_start: Annotated[str | None, typer.Option(help="UF_TM_MAX_START, HH:MM[:SS].")] = None,
    min_finish: Annotated[str | None, typer.Option(help="UF_TM_MIN_FINISH, HH:MM[:SS].")] = None,
    min_duration: Annotated[
        str | None, typer.Option(help="UF_TM_MIN_DURATION, HH:MM[:SS].")
    ] = None,
    allowed_delta: Annotated[
        str | None, typer.Option(help="UF_TM_ALLOWED_DELTA, HH:MM[:SS].")
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Show work-time settings, changing those given first."""
    changes = {
        "enabled": tracking,
        "free": free,
        "max_start": _clock_seconds(max_start, "--max-start"),
        "min_finish": _clock_seconds(min_finish, "--min-finish"),
        "min_duration": _clock_seconds(min_duration, "--min-duration"),
        "allowed_delta": _clock_seconds(allowed_delta, "--allowed-delta"),
    }
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.timeman_settings(store, user_id=user, domain=portal, **changes),
    )
    record = _settings_record(found)
    plain = "\n".join(f"{key}\t{str(value).lower() if isinstance(value, bool) else value}"
                      for key, value in record.items())  # fmt: skip
    _emit(record, as_json, plain)


def _network_output(found, as_json: bool) -> None:
    records = [{"ip_range": r.ip_range, "name": r.name} for r in found]
    _emit(records, as_json, "\n".join(f"{r.ip_range}\t{r.name}".rstrip() for r in found))


@network_app.command("list")
def network_list(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """List the office networks: range, name."""
    found = _run(_settings(data_dir, db), lambda store: admin.list_network_ranges(store, portal))
    _network_output(found, as_json)


@network_app.command("set")
def network_set(
    ranges: Annotated[
        list[str] | None,
        typer.Argument(help="RANGE[=NAME]: an address or FIRST-LAST, IPv4 or IPv6."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every range.")] = False,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Replace the office networks with the ranges given."""
    if not ranges and not clear:
        typer.echo("error: give ranges (RANGE[=NAME] ...), or --clear", err=True)
        raise typer.Exit(1)
    pairs = [(text.partition("=")[0], text.partition("=")[2]) for text in ranges or []]
    found = _run(
        _settings(data_dir, db), lambda store: admin.set_network_ranges(store, pairs, portal)
    )
    _network_output(found, as_json)


@app.command("timecontrol")
def timeman_timecontrol(
    changes: Annotated[
        list[str] | None,
        typer.Argument(
            help="NAME=VALUE as timeman.timecontrol.settings.set takes them "
            "(ACTIVE=1, MINIMUM_IDLE_FOR_REPORT=20, REPORT_FULL_USERS=3,7 ...)."
        ),
    ] = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Show time control's settings, changing those given first."""
    parsed: dict[str, Any] = {}
    for text in changes or []:
        name, given, value = text.partition("=")
        if not given:
            typer.echo(f"error: {text!r} is not NAME=VALUE", err=True)
            raise typer.Exit(1)
        name = name.strip().upper()
        parsed[name] = [v for v in value.split(",") if v] if name.endswith("_USERS") else value
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.timecontrol_settings(store, _now(), parsed, portal),
    )
    record = found.as_result()
    shown = {
        key: ",".join(map(str, value))
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else value
        for key, value in record.items()
    }
    plain = "\n".join(f"{key}\t{value}".rstrip() for key, value in shown.items())
    _emit(record, as_json, plain)


def _day_record(stored) -> dict[str, Any]:
    day = stored.day
    return {
        "id": stored.id,
        "user_id": stored.user_id,
        "start": day.start.isoformat(),
        "finish": day.finish.isoformat() if day.finish else None,
        "active": day.active,
    }


@app.command("pending")
def timeman_pending(
    portal: Portal = None, data_dir: DataDir = None, db: Db = None, as_json: Json = False
) -> None:
    """Workdays whose edits wait for a supervisor: ID, user, start, finish."""
    found = _run(_settings(data_dir, db), lambda store: admin.pending_workdays(store, portal))
    records = [_day_record(d) for d in found]
    plain = "\n".join(
        "\t".join([str(r["id"]), str(r["user_id"]), r["start"], r["finish"] or ""]).rstrip()
        for r in records
    )
    _emit(records, as_json, plain)


def _decide(
    approved: bool, workday_id: int, by: int, server, dev_token, portal, data_dir, db, as_json
) -> None:
    from b24local.devclient import server_now

    settings = _settings(data_dir, db)
    if server:
        now = _ask_dev_server(
            settings, dev_token, lambda token, ca: server_now(server, token, ca_file=ca)
        )
    else:
        now = _now()
    decided = _run(
        settings,
        lambda store: admin.decide_workday(
            store, now, workday_id=workday_id, supervisor_id=by, approved=approved, domain=portal
        ),
    )
    _emit(_day_record(decided), as_json, str(decided.id))


Supervisor = Annotated[int, typer.Option("--by", help="The supervisor deciding (a user ID).")]
WorkdayId = Annotated[int, typer.Argument(help="The workday's ID from `timeman pending`.")]


@app.command("approve")
def timeman_approve(
    workday_id: WorkdayId,
    by: Supervisor,
    server: DevServer = None,
    dev_token: DevToken = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Confirm a workday's pending edits (at the time of --server's clock, if given)."""
    _decide(True, workday_id, by, server, dev_token, portal, data_dir, db, as_json)


@app.command("reject")
def timeman_reject(
    workday_id: WorkdayId,
    by: Supervisor,
    server: DevServer = None,
    dev_token: DevToken = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Refuse a workday's pending edits: claimed times go back to the real ones."""
    _decide(False, workday_id, by, server, dev_token, portal, data_dir, db, as_json)


@app.command("history")
def timeman_history(
    workday_id: WorkdayId,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every transition and edit of a workday: when, who, what, report."""
    events = _run(
        _settings(data_dir, db), lambda store: admin.workday_history(store, workday_id, portal)
    )
    plain = "\n".join(
        "\t".join(
            [
                e["at"].isoformat(),
                str(e["actor_id"]),
                e["action"],
                e["claimed_at"].isoformat() if e["claimed_at"] else "",
                e["report"],
            ]
        ).rstrip()
        for e in events
    )
    _emit(events, as_json, plain)


@app.command("records")
def timeman_records(
    user: Annotated[int, typer.Argument(help="Whose records (a user ID).")],
    since: Annotated[
        str | None, typer.Option("--since", help="Days started at or after (ISO date or time).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Days started before (ISO date or time).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 50,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A user's workday records, newest first, as REST 3.0 timeman.record.list shows them:
    ID, start, end, worked seconds, break seconds, state."""
    found = _run(
        _settings(data_dir, db),
        lambda store: admin.workday_records(
            store, _now(), user_id=user, since=since, until=until, limit=limit, domain=portal
        ),
    )
    plain = "\n".join(
        "\t".join(
            str(r[k]) if r[k] is not None else ""
            for k in ("id", "startTime", "endTime", "duration", "breakLength", "state")
        ).rstrip()
        for r in found
    )
    _emit(found, as_json, plain)
