"""PostgreSQL out of reach: every path a client calls answers a clean error.

The server's database URL names a port nobody listens on, as when PostgreSQL is
down or restarting: REST calls, the OAuth token endpoint and the authorization
server's app.info answer the catalogue's DATABASE_UNAVAILABLE, the log-in pages
(the team's and OAuth's) a page saying so; never a bare 500 with a traceback in
the log.
"""

from __future__ import annotations

import logging
import socket

from starlette.testclient import TestClient

from b24local.app import create_app
from b24local.config import Settings

#: rest/errors.py, DATABASE_UNAVAILABLE.
OUTAGE = {
    "error": "INTERNAL_SERVER_ERROR",
    "error_description": "Internal server error: the database is unavailable, try again later",
}


def _nobody_listens() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_rest_and_oauth_token_answer_database_unavailable(clock, tmp_path, caplog):
    url = f"postgresql://postgres@127.0.0.1:{_nobody_listens()}/away"
    app = create_app(Settings(data_dir=tmp_path, db=url, limits=False), clock=clock)
    form = {
        "grant_type": "refresh_token",
        "client_id": "app.1",
        "client_secret": "s",
        "refresh_token": "r",
    }
    with TestClient(app, raise_server_exceptions=False) as http, caplog.at_level(logging.ERROR):
        call = http.post("/rest/im.user.status.get", json={"auth": "a" * 32})
        token = http.post("/oauth/token/", data=form)
        info = http.post("/oauth/rest/app.info.json", data={"auth": "a" * 32})
        login = http.get("/login")
        authorize = http.get("/oauth/authorize/", params={"client_id": "app.1"})

    assert (call.status_code, call.json()) == (500, OUTAGE)
    assert (token.status_code, token.json()) == (500, OUTAGE)
    assert (info.status_code, info.json()) == (500, OUTAGE)
    assert login.status_code == 503
    assert "The database is unavailable for a moment" in login.text
    assert authorize.status_code == 503
    assert "the database is unavailable" in authorize.text
    assert "Traceback" not in caplog.text
