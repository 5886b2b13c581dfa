"""From an HTTP request to a :class:`CallRequest`.

Knows the two URL forms (``/rest/{user}/{code}/{method}`` and ``/rest/{method}``),
the ``.json``/``.xml`` suffix, and the four ways parameters arrive: query string,
JSON body, urlencoded body and multipart body. Query and body are merged as PHP's
``$_REQUEST`` would be, the body winning.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus, unquote_to_bytes

import anyio
import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from .errors import (
    ERROR_BAD_ENCODING,
    ERROR_INVALID_JSON,
    ERROR_METHOD_NOT_FOUND,
    ERROR_NUL_CHARACTER,
    ERROR_PARAMS_TOO_DEEP,
    ERROR_PARAMS_TOO_MANY,
    ERROR_REQUEST_TOO_LARGE,
    NO_AUTH_FOUND,
)
from .params import saturated
from .phpkeys import decode_pairs, holds_nul, shape_of, small_shape_of

ResponseFormat = Literal["json", "xml"]


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_body_bytes: int = 8 * 1024 * 1024
    max_depth: int = 32
    max_params: int = 10_000
    #: Values in a JSON body: first its objects and arrays, counted as its ``{`` and
    #: ``[`` bytes before parsing (millions of them hold the parser, and with it the
    #: GIL, for long), then all values once parsed. More than a form's
    #: ``max_params``, as long ID lists come as JSON.
    max_json_values: int = 100_000
    #: Bodies up to this size are decoded at once, on the event loop; larger ones only
    #: after the caller's credentials were checked, and in a worker thread.
    inline_body_bytes: int = 64 * 1024
    #: The largest body decoded for a caller whose credentials could not be found
    #: without decoding it (see :func:`sniff_auth`).
    unauthenticated_body_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebhookCredentials:
    user_id: int
    code: str


@dataclass(slots=True)
class CallRequest:
    """Everything later stages need from the HTTP request, and nothing else."""

    method: str
    format: ResponseFormat
    params: dict[str, Any]
    webhook: WebhookCredentials | None
    host: str
    scheme: str
    client_ip: str
    headers: Headers = field(repr=False)
    #: A body too big to decode at once: :func:`decode_deferred` merges it into ``params``.
    deferred_body: bytes = field(default=b"", repr=False)


def split_format(name: str) -> tuple[str, ResponseFormat]:
    """``im.user.get.json`` → (``im.user.get``, ``json``). Method names are case-blind."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return lowered[:-5], "json"
    if lowered.endswith(".xml"):
        return lowered[:-4], "xml"
    return lowered, "json"


ParsedPath = tuple[str, ResponseFormat, "WebhookCredentials | None"]
_PARSED: dict[str, ParsedPath] = {}
#: Paths remembered: a client calls the same few again and again.
_PARSED_SIZE = 4096


def parse_path(path: str) -> ParsedPath:
    """Split the part after ``/rest/`` into method, format and webhook credentials."""
    parsed = _PARSED.get(path)
    if parsed is None:
        parsed = _parse_path(path)
        if len(_PARSED) >= _PARSED_SIZE:
            _PARSED.clear()
        _PARSED[path] = parsed
    return parsed


def _parse_path(path: str) -> ParsedPath:
    segments = path.strip("/").split("/") if path.strip("/") else []
    if len(segments) == 1:
        method, fmt = split_format(segments[0])
        return method, fmt, None
    if len(segments) == 3:
        user, code, name = segments
        method, fmt = split_format(name)
        if not (user.isascii() and user.isdigit()) or not code:
            # Still answer in the asked-for format, but as a failed login.
            raise NO_AUTH_FOUND()
        # A user ID past 64 bits names no webhook: it saturates like any integer.
        return method, fmt, WebhookCredentials(saturated(user), code)
    # ``/rest/1/code/`` with no method, or any other shape: an unknown method.
    raise ERROR_METHOD_NOT_FOUND()


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing to buffer more than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isascii()
        and declared.isdigit()
        and saturated(declared) > limit
    ):
        raise ERROR_REQUEST_TOO_LARGE()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ERROR_REQUEST_TOO_LARGE()
        chunks.append(chunk)
    return b"".join(chunks)


#: What parse_qsl would have to unescape.
_ESCAPED = re.compile(r"[%+]")


def _split_pair(part: str) -> tuple[str, str]:
    """``a=1`` → (``a``, ``1``); ``a`` → (``a``, ``""``), as parse_qsl keeps blanks."""
    name, _, value = part.partition("=")
    return name, value


#: Characters unescaped per call (see :func:`_unquote`).
_UNQUOTE_PIECE = 64 * 1024


def _unquote(text: str) -> str:
    """``unquote_plus``, as parse_qsl reads a name or value. A long text goes in
    pieces: unescaping splits it at every ``%``, and one builtin call over
    megabytes of escapes holds the GIL long enough to stall the event loop even
    from a worker thread. Pieces are cut before an escape, never inside one, and
    decoded together, so a character escaped as several bytes stays whole."""
    text = text.replace("+", " ")
    if len(text) <= _UNQUOTE_PIECE:
        return unquote(text, encoding="utf-8", errors="replace")
    pieces: list[bytes] = []
    start = 0
    while start < len(text):
        end = start + _UNQUOTE_PIECE
        # Not inside "%XX": back up to its "%" when one of the two before the cut is.
        escape = text.find("%", end - 2, end)
        if escape != -1:
            end = escape
        pieces.append(unquote_to_bytes(text[start:end]))
        start = end
    return b"".join(pieces).decode("utf-8", errors="replace")


def decode_query(raw: bytes | str, limits: RequestLimits) -> dict[str, Any]:
    """A query string or form body, read as parse_qsl reads it (``&`` between pairs,
    empty ones skipped, ``+`` and ``%XX`` unescaped), here for less of its cost."""
    # Raw bytes outside %-escapes are UTF-8 too (curl -d 'NAME=Jörg' sends them so).
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if text.count("&") + 1 > limits.max_params:
        raise ERROR_PARAMS_TOO_MANY()
    pairs = [_split_pair(part) for part in text.split("&") if part]
    if _ESCAPED.search(text):
        pairs = [(_unquote(name), _unquote(value)) for name, value in pairs]
    return decode_pairs(pairs, max_depth=limits.max_depth, max_count=limits.max_params)


def load_json(text: bytes | str, limits: RequestLimits) -> Any:
    """``orjson.loads``, refusing first a text with too many values to build: the
    parser holds the GIL throughout, and millions of values take it 0.1 to 0.6 s.
    Counted in C as the characters that make them, also inside strings (a bound
    that never misses a value): an object or array per ``{`` or ``[``, and, with
    room for the commas and quotes of text, a value per ``,`` and a string (a key
    or a value) per two quotes."""
    many = limits.max_json_values
    marks = '{[,"' if isinstance(text, str) else b'{[,"'
    opening, bracket, comma, quote = (text.count(marks[i : i + 1]) for i in range(4))
    if opening + bracket > many or comma > 4 * many or quote > 8 * many:
        raise ERROR_PARAMS_TOO_MANY()
    return orjson.loads(text)


def decode_json(body: bytes, limits: RequestLimits) -> dict[str, Any]:
    try:
        value = load_json(body, limits)
    except orjson.JSONDecodeError as exc:
        message = str(exc).lower()
        if "recursion" in message or "depth" in message:
            raise ERROR_PARAMS_TOO_DEEP() from None
        raise ERROR_INVALID_JSON() from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        # PHP would read a top-level JSON list as positional keys "0", "1", ...
        if isinstance(value, list):
            value = {str(i): v for i, v in enumerate(value)}
        else:
            raise ERROR_INVALID_JSON("The request body must be a JSON object")
    # Only a body too big to decode inline (and so decoded in a thread) has values
    # enough to pay for the walk built for many.
    shape = shape_of if len(body) > limits.inline_body_bytes else small_shape_of
    depth, count = shape(value, limit=limits.max_depth, max_values=limits.max_json_values)
    if depth > limits.max_depth:
        raise ERROR_PARAMS_TOO_DEEP()
    if count > limits.max_json_values:
        raise ERROR_PARAMS_TOO_MANY()
    # JSON can carry a NUL only as an escape; look closer only if one is there.
    if b"\\u0000" in body and holds_nul(value):
        raise ERROR_NUL_CHARACTER()
    return value


async def decode_multipart(headers: Headers, body: bytes, limits: RequestLimits) -> dict[str, Any]:
    async def once() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(
        headers,
        once(),
        max_files=100,
        max_fields=limits.max_params,
        max_part_size=limits.max_body_bytes,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        if "many" in str(exc).lower():
            raise ERROR_PARAMS_TOO_MANY() from None
        raise ERROR_BAD_ENCODING() from None
    pairs: list[tuple[str, Any]] = []
    for key, value in form.multi_items():
        # Files are not used by any implemented method; keep their name only.
        pairs.append((key, value.filename or "" if isinstance(value, UploadFile) else value))
    await form.close()
    return decode_pairs(pairs, max_depth=limits.max_depth, max_count=limits.max_params)


BodyKind = Literal["json", "multipart", "query"]


def body_kind(headers: Headers, body: bytes) -> BodyKind:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.endswith("json"):
        return "json"
    if content_type == "multipart/form-data":
        return "multipart"
    if content_type in ("", "text/plain") and body.lstrip()[:1] == b"{":
        # A JSON body sent without its content type (curl -d '{...}' with no -H).
        return "json"
    return "query"


async def decode_body(headers: Headers, body: bytes, limits: RequestLimits) -> dict[str, Any]:
    if not body.strip():
        return {}
    kind = body_kind(headers, body)
    if kind == "json":
        return decode_json(body, limits)
    if kind == "multipart":
        return await decode_multipart(headers, body, limits)
    return decode_query(body, limits)


async def decode_deferred(request: CallRequest, limits: RequestLimits) -> None:
    """Merge a big body's parameters into ``request.params``, decoding it in a worker
    thread: parsing megabytes takes long enough to hold up every other client."""
    body, request.deferred_body = request.deferred_body, b""

    def decode() -> dict[str, Any]:
        # The decoders are coroutines only for multipart's parser; none of them waits.
        return asyncio.run(decode_body(request.headers, body, limits))

    request.params.update(await anyio.to_thread.run_sync(decode))


#: ``auth`` as a top-level-looking member of a JSON body, or a field of a form.
_JSON_AUTH = re.compile(rb'"auth"\s*:\s*("(?:[^"\\]|\\.)*")')
_FORM_AUTH = re.compile(rb"(?:^|&)auth=([^&]*)")


def sniff_auth(request: CallRequest) -> str | None:
    """The ``auth`` token of the deferred body, found without decoding the body.

    A cheap search, not a parse: what it finds may be a nested member, and a token
    spelt otherwise (a multipart field, an escaped name) is missed. That is enough
    for its one use, to decide whether to decode a big body at all: the call is
    still authenticated with the token the decoded parameters hold."""
    body = request.deferred_body
    kind = body_kind(request.headers, body)
    if kind == "json":
        match = _JSON_AUTH.search(body)
        try:
            token = orjson.loads(match.group(1)) if match else None
        except orjson.JSONDecodeError:
            token = None  # a raw control character in the string, say
    elif kind == "query":
        match = _FORM_AUTH.search(body)
        token = unquote_plus(match.group(1).decode("utf-8", "replace")) if match else None
    else:
        token = None
    return token or None


async def parse_request(request: Request, path: str, limits: RequestLimits) -> CallRequest:
    method, fmt, webhook = parse_path(path)
    scope = request.scope
    query = scope.get("query_string", b"")
    params = decode_query(query, limits) if query else {}
    headers = request.headers
    deferred = b""
    # An HTTP/1.1 request without either header has no body: skip reading it.
    if "content-length" in headers or "transfer-encoding" in headers:
        body = await read_body(request, limits.max_body_bytes)
        if len(body) > limits.inline_body_bytes:
            deferred = body
        elif body:
            params.update(await decode_body(headers, body, limits))
    client = scope.get("client")
    return CallRequest(
        method=method,
        format=fmt,
        params=params,
        webhook=webhook,
        host=headers.get("host", ""),
        scheme=scope.get("scheme", "http"),
        client_ip=client[0] if client else "",
        headers=headers,
        deferred_body=deferred,
    )


def requested_format(path: str) -> ResponseFormat:
    """Best guess of the wanted format when the path itself failed to parse."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return split_format(last)[1]
