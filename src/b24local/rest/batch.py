"""``batch``: up to 50 calls in one request, later ones able to use earlier results.

Each sub-call runs through the same dispatch path as a direct call (scope check,
operating-time accounting, its own ``time`` block), inside a savepoint so a
failing sub-call leaves nothing half-written while the others keep their effects.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from b24local.store.prefetch import keep

from . import journal
from .call import Call
from .envelope import ListPage, error_body
from .errors import (
    ERROR_BATCH_LENGTH_EXCEEDED,
    ERROR_BATCH_METHOD_NOT_ALLOWED,
    ERROR_METHOD_NOT_FOUND,
    ERROR_PARAMS_TOO_MANY,
    INTERNAL_SERVER_ERROR,
    ErrorSpec,
    RestError,
)
from .faults import Hang
from .params import Params, php_str
from .registry import BASIC, MethodGroup, Registry
from .transport import RequestLimits, decode_query, split_format
from .v3.schema import V3Spec

log = logging.getLogger("b24local.rest")

methods = MethodGroup(BASIC)

MAX_COMMANDS = 50
#: Sub-query strings get the same depth and count limits as request bodies.
_LIMITS = RequestLimits()


@dataclass(slots=True)
class ReferenceBudget:
    """What the commands of one batch may hold together: as many parameters as one
    request, and as many ``$result`` references. Each command's share is spent
    before the work, so 50 commands cannot make 50 requests' worth of it."""

    params: int = _LIMITS.max_params
    references: int = _LIMITS.max_params

    def spend_params(self, count: int) -> None:
        self.params -= count
        if self.params < 0:
            raise ERROR_PARAMS_TOO_MANY()

    def spend_references(self, count: int) -> None:
        self.references -= count
        if self.references < 0:
            raise ERROR_PARAMS_TOO_MANY("The commands refer to earlier results too many times")


ERROR_BATCH_REFERENCE = ErrorSpec(
    "ERROR_BATCH_REFERENCE",
    400,
    "The command refers to a result that does not exist",
    "batch: $result[...] names no earlier result",
)
methods.errors = (ERROR_BATCH_REFERENCE,)

# $result[cmd][a][0][b], $result_total[cmd], $result_next[cmd]
_REFERENCE = re.compile(r"\$(result|result_total|result_next)((?:\[[^\[\]]*\])+)")


class MissingPath(Exception):
    pass


def _commands(raw: Any) -> list[tuple[str, Any]]:
    """``cmd`` as (key, command) pairs: an object keeps its keys, a list numbers them."""
    if isinstance(raw, dict):
        return [(str(k), v) for k, v in raw.items()]
    if isinstance(raw, list):
        return [(str(i), v) for i, v in enumerate(raw)]
    return []


def _parse(command: Any, budget: ReferenceBudget) -> tuple[str, dict[str, Any]]:
    """``"method?a=1&b[]=2"`` (or ``{"method": ..., "params": {...}}``) → name, params."""
    if isinstance(command, dict) and isinstance(command.get("method"), str):
        params = command.get("params")
        return split_format(command["method"])[0], params if isinstance(params, dict) else {}
    if not isinstance(command, str) or not command.strip():
        raise ERROR_METHOD_NOT_FOUND()
    name, _, query = command.strip().partition("?")
    if query:
        budget.spend_params(query.count("&") + 1)
    return split_format(name.strip())[0], decode_query(query, _LIMITS)


def method_name(command: Any) -> str:
    """The method a command names, without decoding its parameters."""
    if isinstance(command, dict):
        name = command.get("method")
        return split_format(name)[0] if isinstance(name, str) else ""
    if isinstance(command, str):
        return split_format(command.strip().partition("?")[0].strip())[0]
    return ""


def _cmd(params: Params) -> Any:
    """``cmd`` in any case; of several spellings the last wins, as in PHP."""
    return params.upper().get("CMD")


def _writes(params: dict[str, Any], registry: Registry) -> bool:
    """A batch writes if any of its commands names a method that writes; a batch of
    reads runs as a read transaction (on SQLite: no writer lock, no fsync). The
    commands are under ``cmd``, or (REST 3.0) the body's own values."""
    commands = [command for _key, command in _commands(_cmd(Params(params)))[:MAX_COMMANDS]]
    commands += list(params.values())[:MAX_COMMANDS]
    for command in commands:
        spec = registry.get(method_name(command))
        if spec is not None and spec.writes:
            return True
    return False


def _changes(params: dict[str, Any], user_id: int, registry: Registry) -> set[int]:
    """The users a batch's writes change, each named as its own command names them
    (a ``$result`` reference names nobody yet: that command waits on the row lock
    alone). Decoded again by the batch itself; only writes that declare whose data
    they change are decoded here."""
    found: set[int] = set()
    commands = [command for _key, command in _commands(_cmd(Params(params)))[:MAX_COMMANDS]]
    commands += list(params.values())[:MAX_COMMANDS]
    budget = ReferenceBudget()
    for command in commands:
        spec = registry.get(method_name(command))
        if spec is None or not spec.writes or spec.changes is None:
            continue
        _name, sub_params = _parse(command, budget)
        found |= spec.changed_users(sub_params, user_id, registry)
    return found


class Turns:
    """Gives the event loop a turn once a batch has worked :data:`SHARE_AFTER`
    seconds without one: fifty commands of 10,000 parameters each take most of a
    second to parse and run, and every other client would wait that long. Commands
    that suspend anyway (a round trip) cost nothing more."""

    __slots__ = ("_since",)

    #: Seconds of a batch's own work between two turns of the loop at most.
    SHARE_AFTER = 0.005

    def __init__(self) -> None:
        self._since = time.perf_counter()

    async def share(self) -> None:
        if time.perf_counter() - self._since >= self.SHARE_AFTER:
            await asyncio.sleep(0)
            self._since = time.perf_counter()


async def _prefetch(call: Call, commands: list[tuple[str, Any]]) -> None:
    """Put the rows of the commands' lookups in the row cache, one statement per
    table for each method that declares how (``MethodSpec.prefetch``,
    store/prefetch.py). Commands whose parameters refer to earlier results, or that
    do not parse, look their rows up themselves."""
    found: dict[str, list[dict[str, Any]]] = {}
    budget = ReferenceBudget()
    for _key, command in commands[:MAX_COMMANDS]:
        spec = call.registry.get(method_name(command))
        if spec is None or spec.prefetch is None:
            continue
        try:
            _name, sub_params = _parse(command, budget)
        except RestError:
            continue
        if not _refers(sub_params):
            found.setdefault(spec.name, []).append(sub_params)
    rows: dict[Any, Any] = {}
    for name, calls in found.items():
        prefetch = call.registry.get(name).prefetch  # type: ignore[union-attr]
        if len(calls) > 1 and prefetch is not None:
            rows.update(await prefetch(call.conn, call.caller, calls))
    keep(call.conn, rows)


def _refers(value: Any) -> bool:
    """Whether parameters hold a ``$result`` reference anywhere."""
    if isinstance(value, dict):
        return any(_refers(v) for v in value.values())
    if isinstance(value, list):
        return any(_refers(v) for v in value)
    return isinstance(value, str) and "$result" in value


def lookup_path(store: dict[str, Any], path: list[str]) -> Any:
    value: Any = store
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isascii() and key.isdigit() and len(key) < 19:
            # A list index: plain digits, and short (no list is 10**18 long).
            if int(key) >= len(value):
                raise MissingPath
            value = value[int(key)]
        else:
            raise MissingPath
    return value


def _substitute(value: Any, found: dict[str, dict[str, Any]], budget: ReferenceBudget) -> Any:
    """Replace ``$result[...]`` references in every string of the parameters."""
    if isinstance(value, dict):
        return {k: _substitute(v, found, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, found, budget) for v in value]
    if not isinstance(value, str) or "$result" not in value:
        return value
    budget.spend_references(value.count("$result"))

    def resolve(match: re.Match[str]) -> Any:
        path = re.findall(r"\[([^\[\]]*)\]", match.group(2))
        try:
            return lookup_path(found[match.group(1)], path)
        except MissingPath:
            raise ERROR_BATCH_REFERENCE(
                f"The command refers to {match.group(0)}, which does not exist"
            ) from None

    whole = _REFERENCE.fullmatch(value)
    if whole:
        # A parameter that is just a reference takes the value as it is (a list stays one).
        return resolve(whole)
    # Inside a longer string a value reads as PHP would print it (a list as "Array").
    return _REFERENCE.sub(lambda m: php_str(resolve(m)), value)


def _php_array(entries: dict[str, Any]) -> Any:
    """How PHP would encode the map: ``[]`` when empty, a list when keyed 0..n-1.
    Only the map itself: each result inside is already as its method answers it."""
    if all(key == str(index) for index, key in enumerate(entries)):
        return list(entries.values())
    return entries


@methods.method(
    "batch",
    summary="Up to 50 calls in one request, with $result[...] references",
    reference="../settings/how-to-call-rest-api/batch.md",
    batchable=False,
    writes=True,
    writes_when=_writes,
    changes=_changes,
    metered=False,
    v3=V3Spec("rest", array_body=True),
)
async def batch(call: Call) -> Any:
    if call.rest_v3:
        # REST 3.0's batch has its own form; it builds on this module, so it is
        # imported here rather than at the top (the import would be circular).
        from .v3.batch import batch_v3

        return await batch_v3(call)
    params = call.params.upper()
    halt = params.flag("HALT")
    found: dict[str, dict[str, Any]] = {
        "result": {},
        "result_total": {},
        "result_next": {},
    }
    errors: dict[str, dict[str, str]] = {}
    times: dict[str, Any] = {}
    # Where one failed statement spoils the rest of the transaction (PostgreSQL's
    # do), reads need a savepoint of their own too.
    guard_reads = call.conn.failures_abort
    budget = ReferenceBudget()
    commands = _commands(_cmd(params))
    if call.conn.prefetches and call.conn.row_cache is not None and not guard_reads:
        # Reads where a lookup is a round trip: the rows of the commands of one
        # method not yet cached are fetched together (a statement per table).
        await _prefetch(call, commands)

    turns = Turns()
    for index, (key, command) in enumerate(commands):
        await turns.share()
        # The journal's record of the command (None when it is off): what it ran
        # with, else the command as sent.
        noted = journal.command(key)
        name, sub_params = "", command
        try:
            if index >= MAX_COMMANDS:
                raise ERROR_BATCH_LENGTH_EXCEEDED()
            name, sub_params = _parse(command, budget)
            spec = call.registry.get(name)
            # A REST 3.0-only method is unknown here, not barred: invoke says so.
            if spec is not None and spec.v2 and not spec.batchable:
                raise ERROR_BATCH_METHOD_NOT_ALLOWED()
            sub_params = _substitute(sub_params, found, budget)
            if spec is not None and (spec.writes or guard_reads):
                # A failing write leaves nothing half-done, and a failing read leaves
                # the transaction usable for the commands after it.
                async with call.conn.begin_nested():
                    outcome = await call.invoke(name, sub_params)
            else:
                outcome = await call.invoke(name, sub_params)
        except RestError as error:
            errors[key] = error_body(error)
            if noted is not None:
                noted.done(name or method_name(command), sub_params, error)
        except Hang:
            raise  # the whole request hangs, its transaction rolled back
        except Exception:
            log.exception("unexpected failure in batch command %r", key)
            errors[key] = error_body(INTERNAL_SERVER_ERROR())
            if noted is not None:
                noted.done(name or method_name(command), sub_params, INTERNAL_SERVER_ERROR())
        else:
            if noted is not None:
                noted.done(name, sub_params)
            result = outcome.result
            if isinstance(result, ListPage):
                found["result"][key] = result.items
                if result.total is not None:
                    found["result_total"][key] = result.total
                if result.next is not None:
                    found["result_next"][key] = result.next
            else:
                found["result"][key] = result
            times[key] = outcome.time
            continue
        if halt:
            break

    return {
        "result": _php_array(found["result"]),
        "result_error": _php_array(errors),
        "result_total": _php_array(found["result_total"]),
        "result_next": _php_array(found["result_next"]),
        "result_time": _php_array(times),
    }
