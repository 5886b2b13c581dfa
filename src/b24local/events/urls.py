"""Whether a handler URL is one events can be posted to: one check for ``event.bind``,
outgoing webhooks and applications' install handlers."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

#: Longer URLs are refused: no browser or server takes them, and the outbox indexes
#: the URL (PostgreSQL holds at most 2,704 bytes in one index entry).
MAX_LENGTH = 2048

Problem = Literal["wrong", "protocol"]


def handler_problem(url: str) -> Problem | None:
    """None for a usable handler; ``"protocol"`` for a URL of another scheme than
    http(s); ``"wrong"`` for anything else the sender could never post to (no host,
    a bad port, spaces, a host no IDNA encoding takes, too long)."""
    if len(url.encode("utf-8", "surrogatepass")) > MAX_LENGTH:
        return "wrong"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises for a port out of range, as PHP's parse_url fails
    except ValueError:
        return "wrong"
    if not parts.hostname or any(c.isspace() or not c.isprintable() for c in url):
        return "wrong"
    if parts.scheme.lower() not in ("http", "https"):
        return "protocol"
    import httpx  # here, not at the top: the server starts without it

    try:
        httpx.URL(url).host  # noqa: B018 -- the host is decoded (IDNA) when first read
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return "wrong"
    return None
