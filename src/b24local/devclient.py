"""The CLI's way to a running ``serve --dev``: what must happen on its clock.

A dev server's clock may have been set or moved on, and lives in that process
only. A token pair stamped by the CLI's own (real) clock would then be expired at
once, or live too long, so the CLI asks the server to issue it; a supervisor's
decision on a workday is stamped with the time the server's clock shows. Both go
through the dev control surface (:mod:`b24local.devapi`).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any


class DevServerError(Exception):
    """The server refused, or could not be reached: a one-line message for the CLI,
    and the HTTP status of a refusal (None: no answer)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _tls(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trust store, plus b24local's local CA when there is one: what a
    ``serve --tls`` on the same data directory presents."""
    context = ssl.create_default_context()
    if ca_file is not None and ca_file.is_file():
        context.load_verify_locations(cafile=str(ca_file))
    return context


def post(
    server: str, dev_token: str, path: str, body: dict[str, Any], *, ca_file: Path | None
) -> dict[str, Any]:
    """POST ``body`` to ``server`` + ``path`` with the dev token; the JSON answer."""
    return _call(server, dev_token, path, json.dumps(body).encode(), ca_file)


def get(
    server: str, dev_token: str, path: str, *, ca_file: Path | None, timeout: float = 30
) -> dict[str, Any]:
    """GET ``server`` + ``path`` with the dev token; the JSON answer (``timeout``:
    seconds to wait for it, longer for a long poll)."""
    return _call(server, dev_token, path, None, ca_file, timeout=timeout)


def send(
    server: str,
    dev_token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    ca_file: Path | None,
    timeout: float = 30,
) -> dict[str, Any]:
    """Any HTTP ``method`` (PUT, DELETE ...) with an optional JSON ``body``
    (``timeout``: seconds to wait for the answer, longer for a long poll)."""
    data = json.dumps(body).encode() if body is not None else None
    return _call(server, dev_token, path, data, ca_file, method=method, timeout=timeout)


def server_now(server: str, dev_token: str, *, ca_file: Path | None) -> datetime:
    """The dev server's clock, read now."""
    state = get(server, dev_token, "/_b24local/clock", ca_file=ca_file)
    try:
        return datetime.fromisoformat(state["now"])
    except (KeyError, TypeError, ValueError):
        raise DevServerError(f"{server} answered no clock: is it a b24local --dev?") from None


def _call(
    server: str,
    dev_token: str,
    path: str,
    data: bytes | None,
    ca_file: Path | None,
    *,
    method: str | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {dev_token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        server.rstrip("/") + path, data=data,
        method=method or ("GET" if data is None else "POST"),
        headers=headers,
    )  # fmt: skip
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=_tls(ca_file)))
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise DevServerError(_refusal(error), error.code) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DevServerError(f"cannot reach the dev server at {server}: {reason}") from None


def _refusal(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
        return str(body["error_description"])
    except (ValueError, KeyError, TypeError):
        return f"the dev server answered HTTP {error.code}; is it running with --dev?"
