"""``timeman.networkrange.get/set/check``: office networks, for administrators.

Thin adapters over :mod:`.network`; like the real wrapper, every one of them
refuses anyone but a portal administrator before it reads a parameter.
"""

from __future__ import annotations

from typing import Any

from b24local.rest.call import Call
from b24local.rest.errors import ErrorSpec
from b24local.rest.registry import MethodGroup
from b24local.store import network_ranges

from . import access, network

methods = MethodGroup("timeman")

ACCESS_ERROR = ErrorSpec(
    "ACCESS_ERROR",
    400,
    "You don't have access to use this method",
    "timeman.networkrange.*: the caller is not an administrator",
)
INVALID_FORMAT = ErrorSpec(
    "INVALID_FORMAT",
    400,
    "A wrong format for the RANGES field is passed",
    "RANGES is missing, not JSON, not a list of objects, or over 1,000 ranges",
)
methods.errors = (ACCESS_ERROR, INVALID_FORMAT)

_PAGES = "timeman/networkrange/"


def _admin_only(call: Call) -> None:
    if not access.administers(call.user):
        raise ACCESS_ERROR()


@methods.method(
    "timeman.networkrange.get",
    summary="The office network's address ranges",
    reference=_PAGES + "timeman-networkrange-get.md",
)
async def networkrange_get(call: Call) -> list[dict[str, str]]:
    _admin_only(call)
    ranges = await network_ranges.get_all(call.conn, call.portal.id)
    return [{"ip_range": r.ip_range, "name": r.name} for r in ranges]


@methods.method(
    "timeman.networkrange.set",
    summary="Replace the office network's address ranges",
    reference=_PAGES + "timeman-networkrange-set.md",
    writes=True,
)
async def networkrange_set(call: Call) -> dict[str, Any]:
    _admin_only(call)
    try:
        reading = network.read_ranges(network.decode(call.params.upper().get("RANGES")))
    except network.WrongFormat as wrong:
        raise INVALID_FORMAT(wrong.detail or None) from None
    # One bad range and nothing is saved; the answer names the bad ones as given.
    if reading.errors:
        return {"result": False, "error_ranges": list(reading.errors)}
    await network_ranges.replace(call.conn, call.portal.id, reading.correct)
    return {"result": True}


@methods.method(
    "timeman.networkrange.check",
    summary="Whether an address (by default the caller's) is in the office network",
    reference=_PAGES + "timeman-networkrange-check.md",
)
async def networkrange_check(call: Call) -> dict[str, str] | bool:
    _admin_only(call)
    ip = call.params.upper().str("IP").strip() or call.client_ip
    ranges = await network_ranges.get_all(call.conn, call.portal.id)
    return network.check(ranges, ip)
