"""Rendering a page: the Jinja2 templates, the catalogue, and the headers every
page carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .catalogue import Catalogue, choose
from .day import hours

#: The page's own scripts and style sheets only; forms post back here, and the
#: script asks only here (the team board's live rows); no frames around the page
#: (clickjacking), no ``<base>`` to redirect links.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _clock(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M") if moment else ""


_environment = Environment(
    loader=PackageLoader("b24local.web"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["clock"] = _clock
_environment.filters["hours"] = hours


def catalogue_for(request: Request) -> Catalogue:
    return Catalogue(choose(request.headers.get("accept-language", "")))


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    t = catalogue_for(request)
    html = _environment.get_template(template).render(t=t, lang=t.language, **context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
