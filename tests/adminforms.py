"""Helpers of the administration pages' tests: log in, post a page's form with its
CSRF token, read the page's alert, call REST as the portal's administrator."""

from __future__ import annotations

import re

from b24local import admin
from loginform import token_in

PASSWORD = "admin password"


def log_in(server, user: int, password: str = PASSWORD, *, set_first: bool = True) -> None:
    """Log ``user`` in through the log-in page (a new session for ``server.http``),
    their password set to ``password`` first unless ``set_first`` is false."""
    if set_first:
        server.run(admin.set_password, server.store, user, password)
    server.http.cookies.clear()
    page = server.http.get("/login")
    answer = server.http.post(
        "/login",
        data={"login": str(user), "password": password, "csrf_token": token_in(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def post(server, path: str, data: dict | list, *, token_from: str | None = None, **kwargs):
    """Post a form of ``token_from``'s page (``path``'s own by default), as sent."""
    token = token_in(server.http.get(token_from or path).text)
    fields: dict[str, list[str]] = {"csrf_token": [token]}
    for key, value in data.items() if isinstance(data, dict) else data:
        fields.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    return server.http.post(path, data=fields, follow_redirects=False, **kwargs)


def alert(html: str) -> str:
    found = re.search(r'<p class="alert" role="alert">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def rest(server, method: str, params: dict | None = None) -> object:
    answer = server.call(method, params)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]
