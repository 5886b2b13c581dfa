"""The reports page and its CSV and XLSX exports: one report (:mod:`.reports`),
shown, or written as a file, with the same rights."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from . import charts, exports
from .pages import handler
from .render import SECURITY_HEADERS, catalogue_for, page
from .reports import (
    Period,
    Report,
    Scope,
    build,
    month_of,
    period_from,
    today_for,
    week_of,
)
from .visit import Refused, Visit

#: A query of ours has a handful of parameters; past this it is not one of ours.
MAX_PARAMS = 10
MAX_PARAM_LENGTH = 40

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _params(current: Visit) -> dict[str, str]:
    items = current.request.query_params.multi_items()
    if len(items) > MAX_PARAMS:
        raise Refused("reports.bad_query", 400)
    params: dict[str, str] = {}
    for key, value in items:
        if len(value) > MAX_PARAM_LENGTH or "\x00" in value:
            raise Refused("reports.bad_query", 400)
        params.setdefault(key, value)
    return params


async def _report(current: Visit) -> Report:
    user = current.user
    assert user is not None
    params = _params(current)
    period = period_from(params, today_for(current.portal, user, current.now))
    scope = Scope.of(params)
    async with current.runtime.store.transaction() as conn:
        return await build(conn, current.portal, user, period, scope, current.now)


def link(path: str, period: Period, scope: Scope) -> str:
    return f"{path}?{urlencode({**period.query(), **scope.query()})}"


@handler()
async def reports_page(current: Visit) -> Response:
    report = await _report(current)
    period, scope = report.period, report.scope
    return page(
        current.request, "reports.html", visit=current, csrf_token=current.csrf_token(),
        active="reports", report=report, bars=charts.bars(report.by_date),
        heat=charts.heat_map(report.by_date),
        links={
            "previous": link("/reports", period.shifted(False), scope),
            "next": link("/reports", period.shifted(True), scope),
            "week": link("/reports", week_of(period.first), scope),
            "month": link("/reports", month_of(period.first), scope),
            "csv": link("/reports.csv", period, scope),
            "xlsx": link("/reports.xlsx", period, scope),
        },
    )  # fmt: skip


def _download(body: bytes, media_type: str, name: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


@handler()
async def reports_csv(current: Visit) -> Response:
    report = await _report(current)
    body = exports.csv_bytes(report, catalogue_for(current.request))
    return _download(body, "text/csv; charset=utf-8", f"report-{report.period.slug}.csv")


@handler()
async def reports_xlsx(current: Visit) -> Response:
    report = await _report(current)
    body = exports.xlsx_bytes(report, catalogue_for(current.request))
    return _download(body, XLSX, f"report-{report.period.slug}.xlsx")
