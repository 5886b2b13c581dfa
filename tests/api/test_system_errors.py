"""Every system error of the catalogue, provoked the way docs/compat.md says."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import update

from b24local import admin
from b24local.rest.errors import SYSTEM_ERRORS
from b24local.store.tables import portals

AUTH = {"Authorization": "Bearer test-dev-token"}


def answer(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["error_description"]


def expected(code: str) -> tuple[int, str, str]:
    spec = next(e for e in SYSTEM_ERRORS if e.code == code)
    return spec.status, spec.code, spec.description


def set_portal(server, **values) -> None:
    async def go():
        async with server.store.transaction(write=True) as conn:
            await conn.execute(update(portals).values(**values))

    server.run(go)


# --- natural triggers ------------------------------------------------------------------


def test_no_auth_found(server):
    response = server.http.post("/rest/1/wrongcode0000000/server.time", json={})
    assert answer(response) == expected("NO_AUTH_FOUND")


def test_insufficient_scope(server):
    hook = server.add_webhook(server.add_user(), ["im"])
    assert answer(server.call("user.current", hook=hook)) == expected("insufficient_scope")


def test_invalid_credentials(server):
    user = server.add_user()
    hook = server.add_webhook(user, ["im"])
    server.run(admin.update_user, server.store, server.clock.now(), user, active=False)
    assert answer(server.call("im.user.status.get", hook=hook)) == expected("INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"status": "blocked"}, "OVERLOAD_LIMIT"),
        ({"plan": "free"}, "ACCESS_DENIED"),
        ({"status": "deleted"}, "PORTAL_DELETED"),
    ],
)
def test_portal_states(server, values, code):
    server.run(admin.update_portal, server.store, None, **values)
    assert answer(server.call("server.time")) == expected(code)


def test_invalid_request_under_require_https(server_with):
    with server_with(require_https=True) as srv:
        assert answer(srv.call("server.time")) == expected("INVALID_REQUEST")


def test_query_limit_exceeded(server_with):
    with server_with(limits=True, rate_threshold=2, rate_drain=1) as srv:
        srv.call("server.time")
        srv.call("server.time")
        assert answer(srv.call("server.time")) == expected("QUERY_LIMIT_EXCEEDED")


def test_batch_errors(server):
    body = server.call(
        "batch",
        {"cmd": {**{f"c{i}": "server.time" for i in range(50)}, "late": "server.time",
                 "inner": "batch?cmd[x]=server.time"}},
    ).json()["result"]  # fmt: skip
    errors = body["result_error"]
    assert errors["late"] == {
        "error": "ERROR_BATCH_LENGTH_EXCEEDED",
        "error_description": "Max batch length exceeded",
    }
    assert len(body["result"]) == 50
    nested = server.call("batch", {"cmd": {"inner": "batch?cmd[x]=server.time"}}).json()
    assert nested["result"]["result_error"]["inner"] == {
        "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
        "error_description": "Method is not allowed for batch usage",
    }


def test_expired_token(server):
    from datetime import timedelta

    from b24local.store import tokens

    async def issue():
        async with server.store.transaction(write=True) as conn:
            now = server.clock.now()
            return await tokens.issue(
                conn,
                portal_id=1,
                user_id=1,
                scopes=frozenset({"im"}),
                now=now,
                expires_at=now + timedelta(hours=1),
            )

    token = server.run(issue)
    server.clock.advance(3601)
    response = server.http.post("/rest/server.time", json={"auth": token})
    assert answer(response) == expected("expired_token")


def test_internal_server_error(server, monkeypatch):
    registry = server.http.app.state.runtime.registry

    async def broken(call):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        registry._methods, "server.time", replace(registry.get("server.time"), handler=broken)
    )
    assert answer(server.call("server.time")) == expected("INTERNAL_SERVER_ERROR")


def test_unexpected_answer(server, monkeypatch):
    registry = server.http.app.state.runtime.registry

    async def odd(call):
        return {1j}

    monkeypatch.setitem(
        registry._methods, "server.time", replace(registry.get("server.time"), handler=odd)
    )
    assert answer(server.call("server.time")) == expected("ERROR_UNEXPECTED_ANSWER")


# Each of them forced through the --dev control surface: tests/api/test_faults.py.


# --- the execution time limit -----------------------------------------------------------


def test_a_call_past_the_time_limit_is_cancelled_and_rolled_back(server_with, monkeypatch):
    with server_with(time_limit=0.2) as srv:
        registry = srv.http.app.state.runtime.registry
        original = registry.get("im.user.status.set")

        async def slow(call):
            result = await original.handler(call)  # writes the new status...
            # ...then never finishes. The limit is real execution time (0.2 s
            # here), like `processing`, so this waits for the watchdog to act.
            await asyncio.Event().wait()
            return result

        monkeypatch.setitem(
            registry._methods, "im.user.status.set", replace(original, handler=slow)
        )
        response = srv.call("im.user.status.set", {"STATUS": "dnd"})
        assert answer(response) == (
            504,
            "ERROR_REQUEST_TIMEOUT",
            "The request took longer than the execution time limit",
        )
        assert srv.call("im.user.status.get").json()["result"] == "online"
