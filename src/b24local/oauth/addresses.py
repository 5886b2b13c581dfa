"""Where clients reach the server and its portals: the ``Host`` of each request,
unless a public URL says otherwise (a deployment behind a proxy, whose ``Host``
is an internal name).

``serve --public-url`` names the server; ``portal set --public-url`` one portal,
and wins for that portal's addresses.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from b24local.entities import Portal
from b24local.rest.auth import host_name


def parse_public_url(text: str) -> str:
    """``https://host[:port][/path]`` without a trailing slash; a ValueError if
    ``text`` is not such an absolute http(s) URL."""
    parts = urlsplit(text.strip())
    try:
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise ValueError(f"{text!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an absolute http:// or https:// URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{text!r}: give scheme, host, port and path only")
    if any(c.isspace() for c in text.strip()) or not parts.netloc.isascii():
        raise ValueError(f"{text!r}: a host name as a browser sends it (ASCII, no spaces)")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def netloc_of(url: str) -> str:
    return urlsplit(url).netloc


class Addresses:
    """The addresses one request's answers give out."""

    def __init__(self, request: Request, public_url: str | None, reached: Portal | None) -> None:
        self.host = request.headers.get("host", "")
        #: As the request came: ``scheme://Host``.
        self.requested = f"{request.url.scheme}://{self.host}"
        self._public = public_url
        self._reached = reached

    @property
    def server(self) -> str:
        """The authorization server's base: the server's public URL, else the one of
        the portal the request's host leads to, else the request's own."""
        reached = self._reached.public_url if self._reached else None
        return self._public or reached or self.requested

    def portal(self, portal: Portal) -> str:
        """``portal``'s base: its own public URL; else the server's if the request
        led to it; else its domain on the server's scheme and port."""
        if portal.public_url:
            return portal.public_url
        base = self._public or self.requested
        if self._reached is not None and self._reached.id == portal.id:
            return base
        parts = urlsplit(base)
        port = parts.netloc[len(host_name(parts.netloc)) :]
        return parts._replace(netloc=portal.domain + port).geturl()

    def secure(self, portal: Portal) -> bool:
        """Whether the browser reaches ``portal`` over TLS: its cookies say Secure."""
        return self.requested.startswith("https:") or self.portal(portal).startswith("https:")

    def own_origins(self, portal: Portal) -> frozenset[str]:
        """The origins a page of this server may be shown at, for ``Origin`` checks."""
        return frozenset(
            origin_of(url) for url in (self.requested, self.server, self.portal(portal))
        )


class ServerAddresses:
    """The addresses a message the server sends on its own gives out (an event): no
    request names a host, so the server's public URL, else the address it listens
    on, stands in for ``Host``."""

    def __init__(self, public_url: str | None, listening: str) -> None:
        self._public = public_url
        self._listening = listening

    def server(self, portal: Portal) -> str:
        return self._public or portal.public_url or self._listening

    def portal(self, portal: Portal) -> str:
        """As :meth:`Addresses.portal` with the default portal as the one reached."""
        if portal.public_url:
            return portal.public_url
        base = self._public or self._listening
        if portal.is_default:
            return base
        parts = urlsplit(base)
        port = parts.netloc[len(host_name(parts.netloc)) :]
        return parts._replace(netloc=portal.domain + port).geturl()
