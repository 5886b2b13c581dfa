"""Answers for requests no route takes: Bitrix-style bodies instead of Starlette's text;
and for a client gone in the middle of its body, wherever that body was read.

``/rest/...`` answers every HTTP method itself; what is left is an address nothing
is served at (``/oauth/rest/``, an unknown ``/_b24local/...``) or an HTTP method
the OAuth and ``--dev`` endpoints do not take (``PUT /oauth/token/``). Clients of
those endpoints read JSON, so that is what they get, with the ``Allow`` header
Starlette sets.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from b24local.rest.envelope import encode_json
from b24local.rest.errors import ERROR_METHOD_NOT_FOUND, ErrorSpec

NOT_SERVED = ErrorSpec(
    ERROR_METHOD_NOT_FOUND.code, 404, "Nothing is served at this address", "an unknown address"
)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = headers.get("allow") or headers.get("Allow", "")
        body = {"error": "INVALID_REQUEST", "error_description": f"Only {allowed} accepted here"}
    elif exc.status_code == 404:
        body = {"error": NOT_SERVED.code, "error_description": NOT_SERVED.description}
    else:
        body = {"error": "INVALID_REQUEST", "error_description": str(exc.detail)}
    return Response(
        encode_json(body),
        status_code=exc.status_code,
        headers=headers,
        media_type="application/json",
    )


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client left before its body was complete (or was cut off for being too
    slow): nothing ran, and nobody is left to read an answer or a logged trace."""
    return Response(status_code=408)


#: Starlette's ``exception_handlers``.
HANDLERS = {HTTPException: http_error, ClientDisconnect: client_gone}
