"""The few HTML pages of the authorization flow: log-in form, code, error."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}"
    "button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#b00020}code{word-break:break-all}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · b24local</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def login_form(
    app_name: str, portal: str, carried: Mapping[str, str], *, error: str = "", status: int = 200
) -> HTMLResponse:
    """Ask for a login and password; ``carried`` are the request's OAuth parameters."""
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
    return _page("Log in", body, status)


def code_page(app_name: str, code: str) -> HTMLResponse:
    """For an app without a redirect URI: the code, to be typed into the app."""
    body = (
        f"<p>Enter this code in <strong>{escape(app_name)}</strong>; "
        f"it is valid for 30 seconds:</p><p><code>{escape(code)}</code></p>"
    )
    return _page("Authorization code", body)


def error_page(message: str, status: int) -> HTMLResponse:
    return _page("Authorization failed", f'<p class="error">{escape(message)}</p>', status)
