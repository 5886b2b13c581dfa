"""The ``/rest/api/...`` path: REST 3.0's transport, on the same auth, limits,
dispatch and store as the old path (it borrows the old endpoint's parts).

What differs: the body is JSON or nothing (the query string is never read, so the
JS SDK's telemetry parameters there are harmless), only methods declaring a
:class:`~.schema.V3Spec` answer, errors take the unified shape, and calls to
methods that write honour ``Idempotency-Key``.
"""

from __future__ import annotations

import logging

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from b24local.rest.auth import Caller
from b24local.rest.dispatch import (
    ACCEPTED_METHODS,
    Outcome,
    RestEndpoint,
    answered,
    held,
    unexpected,
)
from b24local.rest.envelope import encode_json
from b24local.rest.errors import (
    ERROR_METHOD_NOT_FOUND,
    ERROR_UNEXPECTED_ANSWER,
    INVALID_HTTP_METHOD,
    INVALID_REQUEST,
    RestError,
)
from b24local.rest.faults import Hang
from b24local.rest.journal import note_error, note_request
from b24local.rest.transport import CallRequest, decode_json, parse_path, read_body
from b24local.store import idempotency as kept_answers

from . import idempotency
from .errors import IDEMPOTENCY_KEY_REUSED, INVALID_JSON, code_of, render_error
from .methods import Document

log = logging.getLogger("b24local.rest.v3")


class V3Endpoint:
    def __init__(self, rest: RestEndpoint) -> None:
        self.rest = rest

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request, request.path_params.get("path", ""))
        await response(scope, receive, send)

    async def handle(self, request: Request, path: str) -> Response:
        return await answered(request, path, self._answer(request, path), self.rest.journal, "v3")

    async def _answer(self, request: Request, path: str) -> Response:
        key: str | None = None
        try:
            if request.method not in ACCEPTED_METHODS:
                note_error(INVALID_HTTP_METHOD())
                response = render_error(INVALID_HTTP_METHOD())
                response.headers["Allow"] = ", ".join(ACCEPTED_METHODS)
                return response
            raw_key = request.headers.get(idempotency.HEADER)
            key = idempotency.valid_key(raw_key) if raw_key is not None else None
            call_request = await self._parse(request, path)
            note_request(call_request)
            if self.rest.require_https and call_request.scheme != "https":
                raise INVALID_REQUEST()
            response = await self.rest.watched(self._run, call_request, key)
        except Hang as hang:
            error = await held(request, hang)
            note_error(error, code_of(error))
            response = render_error(error)
        except RestError as error:
            note_error(error, code_of(error))
            response = render_error(error)
        except ClientDisconnect:
            raise
        except Exception as failure:
            error = unexpected(failure, request)
            note_error(error, code_of(error))
            response = render_error(error)
        if key is not None:
            response.headers["Idempotency-Key"] = key
        return response

    async def _parse(self, request: Request, path: str) -> CallRequest:
        method, _, webhook = parse_path(path)
        limits = self.rest.request_limits
        headers = request.headers
        client = request.scope.get("client")
        call_request = CallRequest(
            method=method,
            format="json",
            params={},
            webhook=webhook,
            host=headers.get("host", ""),
            scheme=request.scope.get("scheme", "http"),
            client_ip=client[0] if client else "",
            headers=headers,
        )
        if "content-length" not in headers and "transfer-encoding" not in headers:
            return call_request
        body = await read_body(request, limits.max_body_bytes)
        if not body.strip():
            return call_request
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        # Only a JSON object (or, for batch, the array of its calls): form data,
        # and the lists and scalars the old path would read as PHP does, are all
        # refused alike. An array is read as PHP reads it, keyed "0", "1", ...
        spec = self.rest.dispatcher.registry.get(method)
        array = spec is not None and spec.v3 is not None and spec.v3.array_body
        opening = body.lstrip()[:1]
        if not content_type.endswith("json") or opening not in (b"{[" if array else b"{"):
            raise INVALID_JSON()
        if len(body) <= limits.inline_body_bytes:
            call_request.params = decode_json(body, limits)
            return call_request
        # A big body: as on the old path, its caller is checked before it is
        # decoded, and it is decoded aside (megabytes of JSON hold the event loop).
        call_request.deferred_body = body
        if self.rest.require_https and call_request.scheme != "https":
            raise INVALID_REQUEST()
        await self.rest.admit_big_body(call_request)
        call_request.deferred_body = b""
        call_request.params = await anyio.to_thread.run_sync(decode_json, body, limits)
        return call_request

    async def _run(self, request: CallRequest, key: str | None) -> Response:
        dispatcher = self.rest.dispatcher
        spec = dispatcher.registry.get(request.method)
        if spec is None or spec.v3 is None:
            raise ERROR_METHOD_NOT_FOUND()
        writes = spec.writes_for(request.params, dispatcher.registry)
        # Reads need no key: repeating them changes nothing (rest-v3.md).
        guarded = key is not None and writes
        # Taken out of the parameters first: the body's hash is of what the call does.
        transaction, credentials = await self.rest.transaction_for(request, spec)
        digest = idempotency.body_hash(request.params) if guarded else ""
        async with transaction as conn:
            now = dispatcher.clock.now()
            caller = await self.rest.caller(conn, request.host, credentials, now)
            blocked = await dispatcher.admit(caller, spec.name, now)
            owner = _owner(caller, spec.name, key) if guarded else None
            if owner is not None:
                earlier = await kept_answers.find(conn, owner, now)
                if earlier is not None:
                    if earlier.body_hash != digest:
                        raise IDEMPOTENCY_KEY_REUSED()
                    replay = _json(earlier.answer.encode())
                    replay.headers["Idempotent-Replayed"] = "true"
                    return replay
            outcome = await dispatcher.invoke(
                caller,
                spec.name,
                request.params,
                conn,
                client_ip=request.client_ip,
                rest_v3=True,
                blocked=blocked,
            )
            answer = _encoded(outcome)
            if owner is not None:
                await kept_answers.keep(
                    conn,
                    owner,
                    digest,
                    answer.decode(),
                    now=now,
                    expires_at=now + idempotency.KEPT_FOR,
                )
        return _json(answer)


def _owner(caller: Caller, method: str, key: str | None) -> kept_answers.KeyOwner:
    assert key is not None
    return kept_answers.KeyOwner(caller.portal.id, caller.client, caller.user.id, method, key)


def _encoded(outcome: Outcome) -> bytes:
    body = outcome.result if isinstance(outcome.result, Document) else outcome.body
    try:
        return encode_json(body)
    except (TypeError, ValueError):
        log.exception("a method produced a result that cannot be encoded")
        raise ERROR_UNEXPECTED_ANSWER() from None


def _json(body: bytes) -> Response:
    return Response(body, status_code=200, media_type="application/json")
