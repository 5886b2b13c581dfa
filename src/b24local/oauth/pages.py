"""The few HTML pages of the authorization flow: log-in form, code, error.

Every HTML answer of the server is made by :func:`_page`, which gives each the
headers that keep it out of other sites' frames and the browser from running
anything but its own style sheet.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape

from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}"
    "button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#b00020}code{word-break:break-all}"
)


_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
#: No scripts, images, fonts or connections; the one inline style sheet; no frames
#: around the page (clickjacking), no ``<base>`` to redirect the form. There is no
#: ``form-action``: browsers apply it to the redirect that follows the post, which
#: goes to the app's own site.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def _page(
    title: str, body: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · b24local</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def login_form(
    app_name: str,
    portal: str,
    carried: Mapping[str, str],
    *,
    error: str = "",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Ask for a login and password; ``carried`` are the request's OAuth parameters
    and the form's CSRF token."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in carried.items()
    )
    warning = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<p><strong>{escape(app_name)}</strong> asks for access to {escape(portal)}.</p>"
        f'{warning}<form method="post">{hidden}'
        '<label for="login">Login (e-mail or user ID)</label>'
        '<input id="login" name="login" autocomplete="username" required autofocus>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        "<button type=submit>Log in and allow</button></form>"
    )
    return _page("Log in", body, status, headers)


def code_page(app_name: str, code: str) -> HTMLResponse:
    """For an app without a redirect URI: the code, to be typed into the app."""
    body = (
        f"<p>Enter this code in <strong>{escape(app_name)}</strong>; "
        f"it is valid for 30 seconds:</p><p><code>{escape(code)}</code></p>"
    )
    return _page("Authorization code", body)


def error_page(message: str, status: int) -> HTMLResponse:
    return _page("Authorization failed", f'<p class="error">{escape(message)}</p>', status)
