"""Installing an OAuth application over the ``--dev`` surface.

A test (the pytest plugin's ``b24local_app``) needs an application for the portal it
has just reset, and the CLI's ``app add`` would cost a process start and write
behind the server's back. This installs it in the server itself, through the same
:func:`b24local.admin.add_app` the CLI calls; ``POST /_b24local/tokens`` then gives
it a token pair on the server's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b24local import admin
from b24local.devapi import DEV_BAD_REQUEST, _answer, _error, _route, body_of_json, whole_number
from b24local.store.types import INTEGER_MAX

#: More entries than a list of scopes or users in one request needs.
MAX_ITEMS = 1000


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ValueError(f"{name} is a list of at most {MAX_ITEMS} strings")
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} is a list of strings")
    return value


def _text(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{name} is a string")
    return value


async def install_app(request: Request) -> Response:
    """``{"name"?, "scopes"?, "redirect_uri"?, "handler"?, "users"?, "portal"?}``:
    the application as ``app add --json`` prints it, secret included. Scopes default
    to every scope the server implements."""
    try:
        body = await body_of_json(request)
        scopes = _strings(body.get("scopes", admin.implemented_scopes()), "scopes")
        users = body.get("users", [])
        if not isinstance(users, list) or len(users) > MAX_ITEMS:
            raise ValueError(f"users is a list of at most {MAX_ITEMS} user IDs")
        allowed = [whole_number(u, "users[]", low=1, high=INTEGER_MAX) for u in users]
        portal = body.get("portal")
        if portal is not None and not isinstance(portal, str):
            raise ValueError("portal is a domain name")
        installed, secret = await admin.add_app(
            request.app.state.runtime.store,
            request.app.state.runtime.clock.now(),
            name=_text(body, "name", "Test application"),
            scopes=scopes,
            redirect_uri=_text(body, "redirect_uri"),
            handler=_text(body, "handler"),
            allowed_users=allowed,
            domain=portal or None,
        )
    except (ValueError, orjson.JSONDecodeError, admin.AdminError) as exc:
        return _error(DEV_BAD_REQUEST, f"Bad application request: {exc}")
    return _answer({**admin.app_record(installed), "client_secret": secret})


def app_routes(authorized: Callable[[Request], bool]) -> list[Route]:
    return [_route("/_b24local/apps", authorized, POST=install_app)]
