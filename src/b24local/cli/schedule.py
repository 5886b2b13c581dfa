"""``b24local schedule``: work schedules (``timeman.schedule.get``).

Options build a schedule definition (the field names of ``timeman.schedule.get``)
and hand it to :mod:`b24local.schedule_admin`, the same code a seed file goes
through. ``--json`` prints schedules exactly as ``timeman.schedule.get`` answers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, get_type_hints
from zoneinfo import ZoneInfo

import typer

from b24local import schedule_admin
from b24local.scopes.timeman.report import schedule_result
from b24local.scopes.timeman.schedule import Schedule, ScheduleError, span_seconds
from b24local.store.engine import Store

from .common import DataDir, Db, Json, Portal, _emit, _now, _run, _settings

app = typer.Typer(help="Work schedules (timeman.schedule.get).", no_args_is_help=True)

Name = Annotated[str | None, typer.Option("--name", help="NAME.")]
Type = Annotated[str | None, typer.Option("--type", help="SCHEDULE_TYPE: FIXED, SHIFT, FLEXTIME.")]
Period = Annotated[
    str | None, typer.Option("--period", help="REPORT_PERIOD: MONTH, WEEK, TWO_WEEKS, QUARTER.")
]
WeekStart = Annotated[
    int | None, typer.Option("--week-start", help="START_WEEK_DAY: 0 Monday ... 6 Sunday.")
]
ForAll = Annotated[bool | None, typer.Option("--for-all/--not-for-all", help="IS_FOR_ALL_USERS.")]
Shifts = Annotated[
    list[str] | None,
    typer.Option(
        "--shift",
        help="START-END, then @DAYS and /BREAK if wanted: 09:00-18:00@12345/01:00 (repeatable).",
    ),
]
Holidays = Annotated[
    list[str] | None, typer.Option("--holiday", help="A day off, YYYY-MM-DD (repeatable).")
]
Workdays = Annotated[
    list[str] | None,
    typer.Option("--working-day", help="A working day off the usual weekdays (repeatable)."),
]
Clock = Annotated[str | None, typer.Option(help="HH:MM[:SS].")]


def _shift(text: str) -> dict[str, Any]:
    hours, _, pause = text.partition("/")
    hours, _, days = hours.partition("@")
    start, _, end = hours.partition("-")
    shift: dict[str, Any] = {"WORK_TIME_START": start.strip(), "WORK_TIME_END": end.strip()}
    if days:
        shift["WORK_DAYS"] = days.strip()
    if pause:
        shift["BREAK_DURATION"] = pause.strip()
    return shift


def _definition(**given: Any) -> dict[str, Any]:
    """A (partial) definition from the options given; ``None`` means "leave as is"."""
    found: dict[str, Any] = {}
    plain = {"NAME": "name", "SCHEDULE_TYPE": "kind", "REPORT_PERIOD": "period",
             "IS_FOR_ALL_USERS": "for_all"}  # fmt: skip
    for key, option in plain.items():
        if given[option] is not None:
            found[key] = given[option]
    if given["week_start"] is not None:
        found["REPORT_PERIOD_OPTIONS"] = {"START_WEEK_DAY": given["week_start"]}
    if given["shift"]:
        found["SHIFTS"] = [_shift(text) for text in given["shift"]]
    if given["holiday"] or given["working_day"]:
        marks = {d: 0 for d in given["holiday"] or []} | {d: 1 for d in given["working_day"] or []}
        found["CALENDAR"] = {"EXCLUSIONS": marks}
    rules = {
        "MAX_EXACT_START": "max_start",
        "MIN_EXACT_END": "min_finish",
        "MIN_DAY_DURATION": "min_duration",
        "MAX_ALLOWED_TO_EDIT_WORK_TIME": "edit_tolerance",
    }
    chosen = {key: given[option] for key, option in rules.items() if given[option] is not None}
    if chosen:
        found["SCHEDULE_VIOLATION_RULES"] = {
            key: value if key in ("MAX_EXACT_START", "MIN_EXACT_END") else _span(value)
            for key, value in chosen.items()
        }
    return found


def _span(text: str) -> int:
    """A length as ``HH:MM[:SS]`` in seconds (``-1`` lifts the rule), read as the
    schedule rules read one; a bare number is refused (seconds or hours?)."""
    if text.strip() == "-1":
        return -1
    try:
        if ":" in text:
            return span_seconds(text, "a length")
    except ScheduleError:
        pass
    typer.echo(f"error: a length must be HH:MM[:SS] or -1, not {text!r}", err=True)
    raise typer.Exit(1)


def _line(schedule: Schedule) -> str:
    shifts = ",".join(
        f"{s.start // 3600:02d}:{s.start % 3600 // 60:02d}-{s.end // 3600:02d}:"
        f"{s.end % 3600 // 60:02d}@{s.work_days}"
        for s in schedule.shifts
    )
    who = "all" if schedule.for_all_users else ""
    deleted = "deleted" if schedule.deleted else ""
    fields = [str(schedule.id), schedule.name, schedule.schedule_type, schedule.report_period]
    return "\t".join([*fields, shifts, who, deleted]).rstrip()


def _show(
    where: tuple[Path | None, str | None, str | None],
    work: Callable[[Store], Awaitable[Schedule | list[Schedule]]],
    as_json: bool,
) -> None:
    """Run ``work`` and print its schedules as ``timeman.schedule.get`` answers (in the
    portal's zone), or one line each."""
    data_dir, db, portal = where

    async def go(store: Store) -> tuple[ZoneInfo, Schedule | list[Schedule]]:
        found = await work(store)
        return await schedule_admin.portal_zone(store, portal), found

    zone, found = _run(_settings(data_dir, db), go)
    many = found if isinstance(found, list) else [found]
    records = [schedule_result(s, zone) for s in many]
    plain = "\n".join(_line(s) for s in many)
    _emit(records if isinstance(found, list) else records[0], as_json, plain)


#: The options ``add`` and ``update`` share, each one field of the definition.
_FIELDS: dict[str, Any] = {
    "kind": Type,
    "period": Period,
    "week_start": WeekStart,
    "for_all": ForAll,
    "shift": Shifts,
    "holiday": Holidays,
    "working_day": Workdays,
    "max_start": Clock,
    "min_finish": Clock,
    "min_duration": Clock,
    "edit_tolerance": Clock,
}


def _with_fields(command: Callable[..., None]) -> Callable[..., None]:
    """Declare :data:`_FIELDS` once for both commands: the command takes them as
    ``**fields``, and typer, which reads a function's signature and annotations,
    is shown them as keyword options defaulting to ``None`` ("leave as is")."""
    signature = inspect.signature(command)
    hints = get_type_hints(command, include_extras=True)
    own = [
        p.replace(annotation=hints[p.name])
        for p in signature.parameters.values()
        if p.kind != p.VAR_KEYWORD
    ]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in _FIELDS.items()
    ]
    command.__signature__ = signature.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
    return command


@app.command("add")
@_with_fields
def schedule_add(
    name: Annotated[str, typer.Argument(help="NAME.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
    **fields: Any,
) -> None:
    """Add a schedule (FIXED, by month, working 09:00-18:00 on weekdays, unless told)."""
    definition = _definition(name=name, **fields)
    work = partial(schedule_admin.add_schedule, definition=definition, now=_now(), domain=portal)
    _show((data_dir, db, portal), work, as_json)


@app.command("update")
@_with_fields
def schedule_update(
    schedule_id: Annotated[int, typer.Argument(help="The schedule's ID.")],
    name: Name = None,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
    **fields: Any,
) -> None:
    """Change the fields given (--shift, --holiday and --working-day replace the lists)."""
    definition = _definition(name=name, **fields)
    work = partial(
        schedule_admin.update_schedule,
        schedule_id=schedule_id, definition=definition, now=_now(), domain=portal,
    )  # fmt: skip
    _show((data_dir, db, portal), work, as_json)


@app.command("assign")
def schedule_assign(
    schedule_id: Annotated[int, typer.Argument(help="The schedule's ID.")],
    user: Annotated[
        list[int] | None, typer.Option("--user", help="A user it applies to (repeatable).")
    ] = None,
    department: Annotated[
        list[int] | None,
        typer.Option("--department", help="A department it applies to, with those below."),
    ] = None,
    exclude_user: Annotated[
        list[int] | None, typer.Option("--exclude-user", help="A user it never applies to.")
    ] = None,
    exclude_department: Annotated[
        list[int] | None, typer.Option("--exclude-department", help="A department left out.")
    ] = None,
    for_all: ForAll = None,
    clear: Annotated[bool, typer.Option("--clear", help="Drop earlier assignments.")] = False,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Say whom a schedule applies to."""
    changes = {
        "USERS": user or [],
        "DEPARTMENTS": department or [],
        "EXCLUDED_USERS": exclude_user or [],
        "EXCLUDED_DEPARTMENTS": exclude_department or [],
    }
    found = _run(
        _settings(data_dir, db),
        lambda store: schedule_admin.assign_schedule(
            store, schedule_id, changes, for_all=for_all, clear=clear, domain=portal
        ),
    )
    a = found.assignments
    record = {
        "ID": found.id,
        "IS_FOR_ALL_USERS": found.for_all_users,
        "USERS": list(a.users),
        "DEPARTMENTS": list(a.departments),
        "EXCLUDED_USERS": list(a.excluded_users),
        "EXCLUDED_DEPARTMENTS": list(a.excluded_departments),
    }
    plain = "\n".join(
        f"{key}\t{' '.join(map(str, v)) if isinstance(v, list) else str(v).lower()}".rstrip()
        for key, v in record.items()
    )
    _emit(record, as_json, plain)


@app.command("list")
def schedule_list(
    deleted: Annotated[bool, typer.Option("--deleted", help="Show deleted ones too.")] = False,
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """List schedules: ID, name, type, report period, shifts, 'all' if for everyone."""
    work = partial(schedule_admin.list_schedules, domain=portal, deleted=deleted)
    _show((data_dir, db, portal), work, as_json)


@app.command("remove")
def schedule_remove(
    schedule_id: Annotated[int, typer.Argument(help="The schedule's ID.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Delete a schedule (it stays readable, marked DELETED, and applies to no one)."""
    work = partial(
        schedule_admin.remove_schedule, schedule_id=schedule_id, now=_now(), domain=portal
    )
    _show((data_dir, db, portal), work, as_json)


@app.command("load")
def schedule_load(
    path: Annotated[Path, typer.Argument(help="A .json or .toml file of schedules.")],
    portal: Portal = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create or update schedules from a file (matched by ID, else NAME); all or nothing."""
    settings = _settings(data_dir, db)

    async def work(store):
        definitions = schedule_admin.read_seed(path)
        return await schedule_admin.load_schedules(store, definitions, _now(), portal)

    done = _run(settings, work)
    records = [{"action": action, "ID": s.id, "NAME": s.name} for action, s in done]
    _emit(records, as_json, "\n".join(f"{r['action']}\t{r['ID']}\t{r['NAME']}" for r in records))
