"""REST 3.0 ``batch``: the body is the array of calls, each ``{"method", "query"}``
(and, as the JS SDK sends them, an optional ``as`` alias and ``parallel`` flag);
the answer's ``result`` is the array of the calls' own results, in order.

All or nothing: the first call that fails fails the whole batch with its own
error, and the transaction rolls back (the JS SDK: REST 3.0 batch returns no
per-call errors). A later call takes values from an earlier answer with
``{"$ref": "alias.path"}`` (one value) or ``{"$refArray": "alias.field"}`` (that
field of each of the earlier call's ``items``); only answers holding ``item`` or
``items`` can be referred to.

It reuses the old batch's pieces (its length cap, reference budget and path
lookup); the checks a call passes (scope, limits, REST 3.0 only) are dispatch's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b24local.rest import journal
from b24local.rest.batch import (
    MAX_COMMANDS,
    MissingPath,
    ReferenceBudget,
    Turns,
    lookup_path,
    method_name,
)
from b24local.rest.call import Call
from b24local.rest.errors import (
    ERROR_BATCH_LENGTH_EXCEEDED,
    ERROR_BATCH_METHOD_NOT_ALLOWED,
    RestError,
)

from .errors import INVALID_SELECT, code_of

REF = "$ref"
REF_ARRAY = "$refArray"


@dataclass(frozen=True, slots=True)
class Command:
    #: What later calls refer to it by: its ``as``, else its position.
    alias: str
    method: str
    query: dict[str, Any]


def commands(body: Mapping[str, Any]) -> list[Command]:
    """The calls of a batch body, every one checked before any runs (a batch that
    cannot run whole does not start)."""
    # An ``auth`` beside the calls is a token (the transport takes it out when it
    # authenticates the call), never a call.
    calls = [(key, raw) for key, raw in body.items() if key != "auth"]
    if len(calls) > MAX_COMMANDS:
        raise ERROR_BATCH_LENGTH_EXCEEDED()
    return [_command(index, key, raw) for index, (key, raw) in enumerate(calls)]


def _command(index: int, key: str, raw: Any) -> Command:
    # Case-blind, a .json ending dropped: as the method in the path ("" if none).
    method = method_name(raw) if isinstance(raw, dict) else ""
    if not method:
        if key.lower() == "cmd":
            raise INVALID_SELECT(
                "REST 3.0 batch does not read cmd: send a JSON array of {method, query} objects"
            )
        raise INVALID_SELECT(f"Batch call {index} is not an object with a method name")
    query = raw.get("query")
    # PHP clients encode empty parameters as [].
    if query is None or query == []:
        query = {}
    if not isinstance(query, dict):
        raise INVALID_SELECT(f"The query of batch call {index} is not an object")
    alias = raw.get("as", key)
    if not isinstance(alias, str) or not alias:
        raise INVALID_SELECT(f"The alias (as) of batch call {index} is not a string")
    return Command(alias, method, query)


def substitute(value: Any, context: Mapping[str, Any], budget: ReferenceBudget) -> Any:
    """The parameters with every ``$ref``/``$refArray`` marker replaced by the
    value it names, as that value is (a list stays a list)."""
    if isinstance(value, dict):
        if len(value) == 1:
            marker, path = next(iter(value.items()))
            if marker == REF:
                budget.spend_references(1)
                return _ref(path, context)
            if marker == REF_ARRAY:
                budget.spend_references(1)
                return _ref_array(path, context)
        return {k: substitute(v, context, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, context, budget) for v in value]
    return value


def _entry(marker: str, path: Any, context: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """The earlier answer a path names, and the rest of the path inside it."""
    if not isinstance(path, str) or not path:
        raise INVALID_SELECT(f"{marker} must be a dotted path such as alias.item.id")
    alias, *rest = path.split(".")
    if alias not in context:
        raise INVALID_SELECT(
            f"{marker} names {alias[:100]}, which no earlier call answered with item or items"
        )
    return context[alias], rest


def _ref(path: Any, context: Mapping[str, Any]) -> Any:
    answer, rest = _entry(REF, path, context)
    try:
        return lookup_path(answer, rest)
    except MissingPath:
        raise INVALID_SELECT(f"{REF} {path[:200]} names no value") from None


def _ref_array(path: Any, context: Mapping[str, Any]) -> list[Any]:
    if isinstance(path, str) and "." not in path:
        # The JS SDK: a dot-less path is refused with INVALIDSELECTEXCEPTION.
        raise INVALID_SELECT(f"{REF_ARRAY} must name a field: alias.field")
    answer, rest = _entry(REF_ARRAY, path, context)
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise INVALID_SELECT(f"{REF_ARRAY} {path[:200]} names an answer without items")
    try:
        return [lookup_path(item, rest) for item in items]
    except MissingPath:
        raise INVALID_SELECT(f"{REF_ARRAY} {path[:200]} names no value in an item") from None


def _referable(result: Any) -> bool:
    # The JS SDK: only get (item) and list (items) answers are in the context;
    # an add's id or an update's true is not.
    return isinstance(result, dict) and ("item" in result or "items" in result)


async def batch_v3(call: Call) -> Any:
    """The handler of ``batch`` when it comes by REST 3.0."""
    planned = commands(call.params)
    for command in planned:
        spec = call.registry.get(command.method)
        if spec is not None and not spec.batchable:
            raise ERROR_BATCH_METHOD_NOT_ALLOWED()
    context: dict[str, Any] = {}
    results: list[Any] = []
    budget = ReferenceBudget()
    turns = Turns()
    for command in planned:
        await turns.share()
        noted = journal.command(command.alias)
        query: Any = command.query
        try:
            query = substitute(command.query, context, budget)
            # Any error leaves the handler: the batch fails whole and rolls back.
            outcome = await call.invoke(command.method, query)
        except RestError as error:
            if noted is not None:
                noted.done(command.method, query, error, code_of(error))
            raise
        if noted is not None:
            noted.done(command.method, query)
        results.append(outcome.result)
        if _referable(outcome.result):
            context[command.alias] = outcome.result
    return results
