"""``X-Forwarded-Host`` from a trusted proxy: the host name the client asked for.

The ``Host`` header chooses the portal (and the addresses answers give out when
no public URL is set). A proxy that passes ``Host`` through needs nothing here;
one that rewrites it to the backend's own name says the original in
``X-Forwarded-Host``. Believed only from the ``--trusted-proxy`` addresses, as
uvicorn's ``ProxyHeadersMiddleware`` believes ``X-Forwarded-For`` (which runs
after this, so the peer seen here is still the proxy itself).
"""

from __future__ import annotations

from uvicorn.middleware.proxy_headers import _TrustedHosts

_FORWARDED_HOST = b"x-forwarded-host"


class ForwardedHost:
    def __init__(self, app, trusted_hosts: list[str]) -> None:
        self.app = app
        # uvicorn's own parsing of the trusted addresses (IPs, networks, "*").
        self.trusted = _TrustedHosts(trusted_hosts)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            if client and client[0] in self.trusted:
                host = _forwarded_host(scope["headers"])
                if host:
                    scope = dict(scope)
                    kept = [(k, v) for k, v in scope["headers"] if k != b"host"]
                    scope["headers"] = [(b"host", host), *kept]
        await self.app(scope, receive, send)


def _forwarded_host(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The last host named: the one the nearest (trusted) proxy added, if several
    proxies each appended theirs."""
    values = [value for name, value in headers if name == _FORWARDED_HOST]
    if not values:
        return None
    last = values[-1].split(b",")[-1].strip()
    # A host name, or an address, with an optional port: nothing else may pass.
    if not last or len(last) > 255 or not all(33 <= c < 127 for c in last):
        return None
    if any(c in last for c in b"/?#@\\"):
        return None
    return last
