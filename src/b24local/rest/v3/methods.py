"""The methods REST 3.0 itself brings: its OpenAPI document, under two names."""

from __future__ import annotations

from b24local.rest.call import Call
from b24local.rest.registry import BASIC, MethodGroup

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
