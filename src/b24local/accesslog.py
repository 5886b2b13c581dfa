"""uvicorn's access log without secrets.

A webhook's code is a segment of its URL (``/rest/1/CODE/method``), and a token may
ride in the query (``?auth=...``); a log line that keeps them hands the webhook or the
session to whoever reads the log. The line keeps the caller's user ID and the
method, which is what a log is read for.
"""

from __future__ import annotations

import logging
import re

#: ``/rest/USER/CODE/`` (REST 2) and ``/rest/api/USER/CODE/`` (REST 3.0).
_WEBHOOK = re.compile(r"^(/rest/(?:api/)?\d+/)[^/?]+")
#: Query parameters that carry a credential, whatever their case.
_SECRET = re.compile(
    r"(?i)((?:^|[?&])(?:auth|access_token|refresh_token|client_secret|code|password)=)[^&#]*"
)
HIDDEN = "***"


def redact(path: str) -> str:
    """``path`` (with its query) as it may be logged."""
    return _SECRET.sub(rf"\g<1>{HIDDEN}", _WEBHOOK.sub(rf"\g<1>{HIDDEN}", path))


class WithoutSecrets(logging.Filter):
    """For the ``uvicorn.access`` logger, whose records carry ``(client, method,
    path, http_version, status)`` as their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True
