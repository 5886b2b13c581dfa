"""The methods REST 3.0 itself brings: its OpenAPI document (under two names) and
``rest.scope.list``."""

from __future__ import annotations

from typing import Any

from b24local.rest.call import Call
from b24local.rest.registry import BASIC, MethodGroup, Registry

from .errors import VALIDATION
from .openapi import document
from .schema import V3Spec

methods = MethodGroup(BASIC)


class Document(dict):
    """An answer sent as it is, without the ``result``/``time`` envelope: the
    OpenAPI document is read by Swagger and Postman, which expect it at the top."""


async def openapi(call: Call) -> Document:
    return Document(document(call.registry))


for _name in ("rest.documentation.openapi", "documentation"):
    methods.method(
        _name,
        summary="The OpenAPI document of the REST 3.0 methods",
        reference="rest-v3.md",
        v3=V3Spec("rest"),
        v2=False,
        batchable=False,
    )(openapi)


#: ``rest.scope.list``'s optional filters, each matched exactly.
_SCOPE_FILTERS = ("filterModule", "filterController", "filterMethod")


def route(name: str) -> tuple[str, str, str]:
    """A method name as module, controller and action (``timeman.record.list``:
    timeman, record, list); a name without dots is a module alone."""
    module, _, rest = name.partition(".")
    controller, _, action = rest.rpartition(".")
    return module, controller, action


def scope_map(registry: Registry, wanted: tuple[str | None, ...]) -> dict[str, Any]:
    """Every method under module → controller → action, each with its scope."""
    tree: dict[str, Any] = {}
    for spec in registry:
        place = route(spec.name)
        if any(want is not None and want != part for want, part in zip(wanted, place, strict=True)):
            continue
        module, controller, action = place
        tree.setdefault(module, {}).setdefault(controller, {})[action] = {
            "scope": spec.scope,
            "title": spec.summary,
            "description": spec.summary,
            "fields": None,
        }
    return tree


@methods.method(
    "rest.scope.list",
    summary="Which scope each method needs, by module, controller and action",
    reference="rest-v3.md",
    v3=V3Spec("rest", parameters=_SCOPE_FILTERS),
    v2=False,
)
async def scope_list(call: Call) -> Any:
    wanted: list[str | None] = []
    for name in _SCOPE_FILTERS:
        value = call.params.get(name)
        if value is not None and not isinstance(value, str):
            raise VALIDATION.invalid(name, f"Field `{name}` must be a string")
        wanted.append(value or None)
    # Nothing found is PHP's empty array: [].
    return scope_map(call.registry, tuple(wanted)) or []
