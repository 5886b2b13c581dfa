"""Administration, office networks: the ranges ``timeman.networkrange.get`` lists,
replaced as ``timeman.networkrange.set`` replaces them — read by the same
:func:`..scopes.timeman.network.read_ranges`, all or nothing.

The form is one text field, a range a line (``FIRST-LAST Name`` or one address):
a form's field holds at most 2000 characters, some forty IPv4 ranges with names.
"""

from __future__ import annotations

import re

from starlette.responses import RedirectResponse, Response

from b24local.scopes.timeman import network
from b24local.scopes.timeman.access import administers
from b24local.store import network_ranges

from .administer import require
from .pages import handler
from .render import page
from .visit import Visit

Error = tuple[str, dict[str, str]]


#: A line: the range (``FIRST-LAST``, blanks around the dash allowed, as REST takes
#: it), then the name — whatever follows, dashes included.
_LINE = re.compile(r"(\S+(?:\s*-\s*\S+)?)\s*(.*)", re.S)


def _lines(text: str) -> list[dict[str, str]]:
    """Each non-blank line as ``RANGES`` holds a range: the range, then its name."""
    items = []
    for line in text.splitlines():
        found = _LINE.fullmatch(line.strip())
        if found is not None:
            items.append({"ip_range": found[1], "name": found[2].strip()})
    return items


def _text(ranges) -> str:
    return "\n".join(f"{r.ip_range} {r.name}".rstrip() for r in ranges)


async def _networks_page(
    current: Visit, *, error: Error | None = None, status: int = 200, sent: str | None = None
) -> Response:
    async with current.runtime.store.transaction() as conn:
        ranges = await network_ranges.get_all(conn, current.portal.id)
    return page(
        current.request, "admin_networks.html", status=status, visit=current,
        csrf_token=current.csrf_token(), ranges=ranges,
        text=sent if sent is not None else _text(ranges), error=error,
        done=current.request.query_params.get("done", ""),
    )  # fmt: skip


@handler()
async def networks_page(current: Visit) -> Response:
    assert current.user is not None
    require(administers(current.user))
    if current.request.method in ("GET", "HEAD"):
        return await _networks_page(current)
    form = await current.form()
    sent = form.get("ranges", "")
    try:
        reading = network.read_ranges(_lines(sent))
    except network.WrongFormat as wrong:
        error = ("admin.networks.too_many", {"text": wrong.detail})
        return await _networks_page(current, error=error, status=400, sent=sent)
    if reading.errors:
        # As timeman.networkrange.set answers error_ranges: the bad ones as given.
        bad = ", ".join(str(item["ip_range"]) for item in reading.errors)
        return await _networks_page(current, error=("admin.networks.bad_ranges", {"ranges": bad}),
                                    status=400, sent=sent)  # fmt: skip
    async with current.runtime.store.transaction(write=True) as conn:
        await network_ranges.replace(conn, current.portal.id, reading.correct)
    return RedirectResponse("/admin/networks?done=saved", status_code=303)
