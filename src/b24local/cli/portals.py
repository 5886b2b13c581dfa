"""``b24local portal``: portals (Bitrix24 accounts), their plans and limits."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from b24local import admin, plans

from .common import (
    DataDir,
    Db,
    Json,
    _check_zone,
    _emit,
    _now,
    _positive,
    _public_url,
    _run,
    _settings,
)

app = typer.Typer(help="Manage portals (Bitrix24 accounts).", no_args_is_help=True)


def _portal_record(portal) -> dict[str, Any]:
    return {
        "id": portal.id,
        "domain": portal.domain,
        "member_id": portal.member_id,
        "plan": portal.plan,
        "status": portal.status,
        "time_zone": portal.time_zone,
        "default": portal.is_default,
        "rate_threshold": portal.rate_threshold,
        "rate_drain": portal.rate_drain,
        "public_url": portal.public_url,
    }


@app.command("add")
def portal_add(
    domain: Annotated[str, typer.Option("--domain", help="Host name, e.g. acme.localhost.")],
    plan: Annotated[str, typer.Option(help=f"Plan: {', '.join(plans.KNOWN)}.")] = plans.DEFAULT,
    tz: Annotated[str, typer.Option("--tz", help="The portal's time zone.")] = "UTC",
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a portal with an administrator (user 1); prints its member_id."""
    _check_zone(tz)
    made = _run(
        _settings(data_dir, db),
        lambda store: admin.add_portal(store, _now(), domain=domain, plan=plan, time_zone=tz),
    )
    _emit(_portal_record(made.portal), as_json, made.portal.member_id)


@app.command("list")
def portal_list(data_dir: DataDir = None, db: Db = None, as_json: Json = False) -> None:
    """List portals: domain, plan, status, member_id."""
    found = _run(_settings(data_dir, db), admin.list_portals)
    plain = "\n".join(
        "\t".join(
            [p.domain, p.plan, p.status, p.member_id, "default" if p.is_default else ""]
        ).rstrip()
        for p in found
    )
    _emit([_portal_record(p) for p in found], as_json, plain)


@app.command("set")
def portal_set(
    domain: Annotated[
        str | None, typer.Argument(help="The portal (default portal if omitted).")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(help=f"Plan: {', '.join(plans.KNOWN)}; free answers ACCESS_DENIED."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="active; blocked (OVERLOAD_LIMIT); deleted (PORTAL_DELETED)."),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="The portal's time zone.")] = None,
    rate_threshold: Annotated[
        float | None, typer.Option(help="Leaky bucket size X.", callback=_positive)
    ] = None,
    rate_drain: Annotated[
        float | None, typer.Option(help="Leaky bucket drain Y per second.", callback=_positive)
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            help='How clients reach this portal behind a proxy; "" goes back to the Host header.',
            callback=_public_url,
        ),
    ] = None,
    data_dir: DataDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change a portal's plan, status, time zone, request-rate limit or public URL."""
    _check_zone(tz)
    changed = _run(
        _settings(data_dir, db),
        lambda store: admin.update_portal(
            store,
            domain,
            plan=plan,
            status=status,
            time_zone=tz,
            rate_threshold=rate_threshold,
            rate_drain=rate_drain,
            public_url=public_url,
        ),
    )
    _emit(_portal_record(changed), as_json, changed.domain)
