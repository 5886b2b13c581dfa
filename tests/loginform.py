"""Posting the OAuth log-in form as a browser does, for any httpx client."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

SESSION = "B24LOCAL_SESSION"


def token_in(html: str) -> str:
    """The CSRF token of a log-in form page; ``""`` if it has none."""
    _, found, rest = html.partition('name="csrf_token" value="')
    return rest.split('"')[0] if found else ""


def form_token(http: httpx.Client, params: Mapping[str, str], headers=None) -> str:
    """Show the log-in form: its cookie goes into the jar and its token comes back
    (``""`` if the page refuses the request, as it then refuses the post too). A
    session cookie is left out meanwhile, as a logged-in browser is not shown the
    form at all."""
    jar = http.cookies.jar
    sessions = [cookie for cookie in jar if cookie.name == SESSION]
    for cookie in sessions:
        jar.clear(cookie.domain, cookie.path, cookie.name)
    try:
        page = http.get("/oauth/authorize/", params=params, headers=headers)
        return token_in(page.text) if page.status_code == 200 else ""
    finally:
        for cookie in sessions:
            jar.set_cookie(cookie)


def post_login(
    http: httpx.Client,
    params: Mapping[str, str],
    login: str,
    password: str,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """The form shown, then posted with ``login`` and ``password``; no redirect followed."""
    token = form_token(http, {"client_id": params["client_id"]}, headers)
    return http.post(
        "/oauth/authorize/",
        params=params,
        data={"login": login, "password": password, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
