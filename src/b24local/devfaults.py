"""The dev API's forced faults: ``/_b24local/faults`` (list, add, clear),
``/_b24local/faults/{id}`` (remove one) and ``/_b24local/faults/operating`` (the
switch that drops ``operating`` from answers' ``time`` blocks).

The rules themselves live in :mod:`b24local.rest.faults`; this module reads and
checks what a test sends. Everything is checked before a rule is added: a wrong
type, a number out of range (``NaN``, ``1e300``, negative) or a field that does
not exist is ``400 ERROR_ARGUMENT``, and nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b24local.clock import Clock
from b24local.devapi import (
    DEV_BAD_REQUEST,
    MAX_FAULT_TIMES,
    _answer,
    _error,
    _route,
    body_of_json,
    whole_number,
)
from b24local.rest.errors import ErrorSpec
from b24local.rest.faults import MAX_HANG, MAX_LATENCY, MAX_SECONDS, Faults

DEV_NO_FAULT = ErrorSpec("NOT_FOUND", 404, "No fault with this ID")

#: What a rule may say, and nothing else (a misspelt field would otherwise
#: quietly widen the rule it was meant to narrow).
FIELDS = frozenset(
    ("error", "method", "caller", "times", "probability", "seed", "latency", "hang", "seconds")
)
#: The longest text a rule takes (method names and caller IDs are far shorter).
MAX_TEXT = 300
MAX_SEED = 2**63 - 1


def text(body: dict[str, Any], name: str, *, empty: bool = False) -> str | None:
    """A string, or None if absent (or, unless ``empty``, "")."""
    value = body.get(name)
    if value is None or (value == "" and not empty):
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValueError(f"{name} must be a string of at most {MAX_TEXT} characters")
    return value


def number(body: dict[str, Any], name: str, *, high: float, zero: bool = False) -> float | None:
    """A JSON number from 0 (itself only with ``zero``) to ``high``; None if absent."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    low_ok = value >= 0 if zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= high):
        above = "from 0" if zero else "above 0"
        raise ValueError(f"{name} must be a number {above} up to {high:g}")
    return float(value)


def rule_of(body: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :meth:`Faults.add` a request body asks for."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ValueError(f"unknown field {str(unknown[0])[:100]!r}")
    times, seed = body.get("times"), body.get("seed")
    return {
        # The catalogue has an error whose code is "" (the real service's).
        "error": text(body, "error", empty=True),
        "method": text(body, "method"),
        "caller": text(body, "caller"),
        "times": None
        if times is None
        else whole_number(times, "times", low=1, high=MAX_FAULT_TIMES),
        "probability": number(body, "probability", high=1.0, zero=True),
        "seed": None if seed is None else whole_number(seed, "seed", low=0, high=MAX_SEED),
        "latency": number(body, "latency", high=MAX_LATENCY) or 0.0,
        "hang": number(body, "hang", high=MAX_HANG) or 0.0,
        "seconds": number(body, "seconds", high=MAX_SECONDS),
    }


def fault_routes(
    clock: Clock, faults: Faults, authorized: Callable[[Request], bool]
) -> list[Route]:
    def listing(**extra: Any) -> Response:
        now = clock.now()
        return _answer({
            "faults": [fault.record(now) for fault in faults.pending(now)],
            "drop_operating": faults.drop_operating,
            **extra,
        })  # fmt: skip

    async def read_faults(request: Request) -> Response:
        return listing()

    async def add_fault(request: Request) -> Response:
        try:
            rule = rule_of(await body_of_json(request))
            now = clock.now()
            fault = faults.add(now, **rule)
        except (ValueError, orjson.JSONDecodeError) as exc:  # a FaultError is one
            return _error(DEV_BAD_REQUEST, f"Bad fault request: {exc}")
        return listing(added=fault.record(now))

    async def clear_faults(request: Request) -> Response:
        faults.clear()
        return listing()

    async def remove_fault(request: Request) -> Response:
        try:
            fault_id = whole_number(
                request.path_params["fault_id"], "the fault ID", low=1, high=MAX_SEED
            )
        except ValueError as exc:
            return _error(DEV_BAD_REQUEST, f"Bad fault request: {exc}")
        if not faults.remove(fault_id):
            return _error(DEV_NO_FAULT)
        return listing()

    async def set_operating(request: Request) -> Response:
        try:
            drop = (await body_of_json(request)).get("drop")
            if not isinstance(drop, bool):
                raise ValueError("drop is true or false")
        except (ValueError, orjson.JSONDecodeError) as exc:
            return _error(DEV_BAD_REQUEST, f"Bad fault request: {exc}")
        faults.drop_operating = drop
        return listing()

    return [
        _route(
            "/_b24local/faults", authorized, GET=read_faults, POST=add_fault, DELETE=clear_faults
        ),
        # Before the ID's route, which would take "operating" for an ID.
        _route("/_b24local/faults/operating", authorized, PUT=set_operating),
        _route("/_b24local/faults/{fault_id}", authorized, DELETE=remove_fault),
    ]
