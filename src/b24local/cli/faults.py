"""``b24local fault``: forced faults of a running ``serve --dev``, from a shell or
a CI script, through its dev API (``/_b24local/faults``, docs/faults.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DEFAULT_SERVER, DevConnection, DevServerUrl, DevToken, failing_as_cli
from .common import ServerDataDir as DataDir

app = typer.Typer(
    help="Forced faults of a running `serve --dev`: errors, latency, hangs.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Structured output.")]


def _ask(
    server: str,
    dev_token: str | None,
    data_dir: Path | None,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with failing_as_cli():
        return DevConnection(server, dev_token, data_dir).ask(method, path, body)


def describe(rule: dict[str, Any]) -> str:
    """One line: the ID, what it does and what is left of it."""
    what = rule.get("error")
    parts = [str(rule.get("id")), "(no error)" if what is None else what or '""']
    for key in ("method", "caller", "times", "probability", "seed", "latency", "hang"):
        if rule.get(key) is not None:
            parts.append(f"{key}={rule[key]}")
    if rule.get("seconds_left") is not None:
        parts.append(f"seconds_left={rule['seconds_left']:g}")
    return "  ".join(parts)


def _show(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(answer, ensure_ascii=False))
        return
    for rule in answer.get("faults", []):
        typer.echo(describe(rule))
    if answer.get("drop_operating"):
        typer.echo("time blocks without operating")


@app.command("add")
def fault_add(
    server: DevServerUrl = DEFAULT_SERVER,
    error: Annotated[
        str | None, typer.Option("--error", help="The error code to answer with.")
    ] = None,
    method: Annotated[str | None, typer.Option(help="Only calls of this method.")] = None,
    caller: Annotated[
        str | None, typer.Option(help="Only calls by webhook:ID, app:CLIENT_ID or user:ID.")
    ] = None,
    times: Annotated[int | None, typer.Option(help="Calls it acts on (default 1).")] = None,
    probability: Annotated[
        float | None, typer.Option(help="Chance (0 to 1) that it acts on a matching call.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the chance: a repeatable run.")] = None,
    latency: Annotated[
        float | None, typer.Option(help="Seconds to answer late by (up to 60).")
    ] = None,
    hang: Annotated[
        float | None, typer.Option(help="Seconds to send nothing for (up to 300).")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="How long it lasts, on the server's clock.")
    ] = None,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Add a rule; prints its ID."""
    given = {
        "error": error, "method": method, "caller": caller, "times": times,
        "probability": probability, "seed": seed, "latency": latency, "hang": hang,
        "seconds": seconds,
    }  # fmt: skip
    rule = {key: value for key, value in given.items() if value is not None}
    answer = _ask(server, dev_token, data_dir, "POST", "/_b24local/faults", rule)
    added = answer["added"]
    typer.echo(json.dumps(added, ensure_ascii=False) if as_json else str(added["id"]))


@app.command("list")
def fault_list(
    server: DevServerUrl = DEFAULT_SERVER,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """The rules, one a line, with what is left of each."""
    _show(_ask(server, dev_token, data_dir, "GET", "/_b24local/faults"), as_json)


@app.command("clear")
def fault_clear(
    server: DevServerUrl = DEFAULT_SERVER,
    fault_id: Annotated[
        int | None, typer.Argument(help="The rule to remove (default: every rule).")
    ] = None,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Remove one rule, or all of them (and the operating switch); prints what is left."""
    path = "/_b24local/faults" if fault_id is None else f"/_b24local/faults/{fault_id}"
    _show(_ask(server, dev_token, data_dir, "DELETE", path), as_json)


@app.command("operating")
def fault_operating(
    drop: Annotated[
        bool, typer.Option("--drop/--keep", help="Answer time blocks without operating.")
    ],
    server: DevServerUrl = DEFAULT_SERVER,
    dev_token: DevToken = None,
    data_dir: DataDir = None,
) -> None:
    """Drop (or keep) operating and operating_reset_at in answers' time blocks."""
    _ask(server, dev_token, data_dir, "PUT", "/_b24local/faults/operating", {"drop": drop})
