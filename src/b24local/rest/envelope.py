"""The bodies clients see: ``{"result", "time"}``, list extras, and errors.

This is the one place where answers are rendered, as JSON or as XML.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from xml.sax.saxutils import escape

import orjson
from starlette.responses import Response

from .errors import RestError
from .transport import ResponseFormat

ATOM = "%Y-%m-%dT%H:%M:%S%z"


def atom(moment: datetime, zone: tzinfo | None = None) -> str:
    """PHP's ``DATE_ATOM``: ``2026-03-02T09:30:00+01:00`` (no fractions), in ``zone``
    or else in the moment's own zone."""
    zone = zone if zone is not None else moment.tzinfo
    if zone is None:
        raise ValueError("a naive datetime has no ATOM form")
    return _atom_at(math.floor(moment.timestamp()), zone)


@functools.lru_cache(maxsize=4096)
def _atom_at(second: int, zone: tzinfo) -> str:
    # Every answer formats its start and finish: within a second, the same text.
    text = datetime.fromtimestamp(second, zone).strftime(ATOM)
    return f"{text[:-2]}:{text[-2:]}"


@dataclass(frozen=True, slots=True)
class Operating:
    """What the limits stage reports for the ``time`` block."""

    operating: float = 0.0
    reset_at: int = 0


@dataclass(frozen=True, slots=True)
class ListPage:
    """A list method's answer: one page of items and the paging extras."""

    items: Any
    total: int | None = None
    next: int | None = None


def time_block(
    started: datetime,
    finished: datetime,
    processing: float,
    zone: tzinfo,
    operating: Operating | None,
) -> dict[str, Any]:
    """A call's ``time`` block; without ``operating``, the block lacks
    ``operating`` and ``operating_reset_at``, as some real portals' do."""
    start = started.timestamp()
    # The call took at least its processing time, even by a clock that stood still
    # meanwhile (a frozen --dev clock), so it never finishes sooner than that.
    duration = max(finished.timestamp() - start, processing)
    finish = start + duration
    block: dict[str, Any] = {
        "start": start,
        "finish": finish,
        "duration": duration,
        "processing": processing,
        "date_start": _atom_at(math.floor(start), zone),
        "date_finish": _atom_at(math.floor(finish), zone),
    }
    if operating is not None:
        block["operating_reset_at"] = operating.reset_at
        block["operating"] = operating.operating
    return block


def success_body(result: Any, time: dict[str, Any]) -> dict[str, Any]:
    if isinstance(result, ListPage):
        body: dict[str, Any] = {"result": result.items}
        if result.next is not None:
            body["next"] = result.next
        if result.total is not None:
            body["total"] = result.total
        body["time"] = time
        return body
    return {"result": result, "time": time}


def error_body(error: RestError) -> dict[str, Any]:
    return {"error": error.code, "error_description": error.description, **error.extra}


def render(body: dict[str, Any], status: int, fmt: ResponseFormat) -> Response:
    if fmt == "xml":
        return Response(to_xml(body), status_code=status, media_type="text/xml; charset=utf-8")
    return Response(encode_json(body), status_code=status, media_type="application/json")


def encode_json(body: Any) -> bytes:
    """JSON as the real service writes it: PHP's ``JSON_HEX_TAG`` turns ``<`` and ``>``
    into ``\\u003C`` and ``\\u003E`` (the reference's "Department name not
    provided.\\u003Cbr\\u003E"). Outside strings JSON has no ``<`` or ``>``, so
    replacing the bytes touches string contents only."""
    out = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    if b"<" in out or b">" in out:
        out = out.replace(b"<", b"\\u003C").replace(b">", b"\\u003E")
    return out


def render_error(error: RestError, fmt: ResponseFormat = "json") -> Response:
    return render(error_body(error), error.status, fmt)


def to_xml(body: dict[str, Any]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><response>']
    _xml_value(body, parts)
    parts.append("</response>")
    return "".join(parts).encode("utf-8")


def _xml_value(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            tag = _xml_tag(str(key))
            out.append(f"<{tag}>")
            _xml_value(item, out)
            out.append(f"</{tag}>")
    elif isinstance(value, list | tuple):
        for item in value:
            out.append("<item>")
            _xml_value(item, out)
            out.append("</item>")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif value is None:
        return
    else:
        out.append(escape(_XML_INVALID.sub("", str(value))))


# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_NAME_START = re.compile(r"[A-Za-z_]")
_XML_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _xml_tag(key: str) -> str:
    """An element name for a key: keys that cannot start one (numbers, say) become
    ``item``; characters a name cannot hold become ``_``."""
    if not key or not _XML_NAME_START.match(key):
        return "item"
    return _XML_NOT_NAME.sub("_", key)
