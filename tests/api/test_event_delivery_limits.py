"""What hostile or broken handlers cannot do to the sender: an answer streamed
forever, a URL no client can use, hundreds of handlers that never answer, two
dispatches racing for one handler's slots; and the dev API's paging and its
refusal of NULs."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.api.test_event_delivery import (
    DEV,
    handler,
    listed,
    new_app,
    run_now,
    wait,
)

from b24local.store import events as event_store
from conftest import make_server

#: Sender logic with timeouts: what the store holds does not change it, so SQLite only.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

__all__ = ["handler"]  # the fixture, shared with test_event_delivery


def enqueue(server, app, urls: list[str], *, event="ONAPPTEST", later=False) -> list[int]:
    """Rows for ``urls`` as the install code writes them; ``later``: due tomorrow, so
    the polling loop leaves them to the test."""
    now = server.clock.now() + (timedelta(days=1) if later else timedelta())

    async def go():
        ids = []
        async with server.store.transaction(write=True) as conn:
            for i, url in enumerate(urls):
                one = {"event": event, "handler_url": url, "data": {"N": str(i)}, "now": now}
                ids.append(await event_store.enqueue(conn, 1, **one, app_id=app.id, auth_user_id=1))
        return ids

    return server.run(go)


@contextmanager
def raw_handler(serve) -> Iterator[tuple[str, list[socket.socket]]]:
    """A listening socket whose every connection is given to ``serve(sock)`` in a
    thread; yields its base URL and the connections accepted so far."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)
            threading.Thread(target=serve, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in accepted:
            conn.close()


def never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()


def stream_forever(pause: float, size: int = 4096):
    """Answers 200 and then a chunked body that never ends, ``size`` bytes each ``pause``."""

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            chunk = b"x" * size
            while not stop.is_set():
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                time.sleep(pause)
        except OSError:  # the sender hung up
            pass

    return serve


# --- answers and URLs -------------------------------------------------------------------------


@sqlite_only
def test_an_endless_answer_is_read_only_so_far(server):
    app = new_app(server)
    with raw_handler(stream_forever(0)) as (base, _):
        enqueue(server, app, [base + "/endless"])
        began = time.monotonic()
        row = wait(server, "ONAPPTEST", timeout=10)
    assert time.monotonic() - began < 3
    assert row["state"] == "delivered" and row["last_status"] == 200
    assert row["last_answer"] == "x" * 2000


@sqlite_only
def test_a_trickling_answer_ends_at_the_event_timeout(db_url, clock, tmp_path):
    http, server = make_server(db_url, clock, tmp_path, event_timeout=1.0)
    with http, raw_handler(stream_forever(0.05, 16)) as (base, _):
        app = new_app(server)
        enqueue(server, app, [base + "/trickle"])
        began = time.monotonic()
        row = wait(server, "ONAPPTEST", timeout=10)
        assert time.monotonic() - began < 2.5
    assert row["state"] == "pending" and row["attempts"] == 1
    assert "no answer in time" in row["last_error"]


@sqlite_only
def test_a_url_no_client_can_parse_fails_at_once(server):
    app = new_app(server)
    enqueue(server, app, ["http://é..x/"])
    row = wait(server, "ONAPPTEST")
    assert row["state"] == "failed" and row["attempts"] == 1
    assert "not a usable URL" in row["last_error"]


@sqlite_only
def test_a_url_that_fails_when_sent_counts_against_the_attempts(server):
    app = new_app(server)
    enqueue(server, app, ["http://xn--a/"])
    row = wait(server, "ONAPPTEST")
    assert row["state"] == "pending" and row["attempts"] == 1 and row["last_error"]
    for pause in (10, 20, 40, 80):
        server.clock.advance(pause)
        run_now(server)
    (row,) = listed(server)
    assert row["state"] == "failed" and row["attempts"] == 5
    server.clock.advance(3600)
    assert run_now(server, everything=True) == 0


@sqlite_only
def test_a_name_that_cannot_be_resolved_is_refused_when_private_is_forbidden(
    db_url, clock, tmp_path
):
    http, server = make_server(db_url, clock, tmp_path, forbid_private_handlers=True)
    with http:
        app = new_app(server)
        enqueue(server, app, ["http://xn--a/"])
        row = wait(server, "ONAPPTEST")
    assert row["state"] == "failed" and "does not resolve" in row["last_error"]


# --- slots --------------------------------------------------------------------------------------


class Gauge(BaseHTTPRequestHandler):
    """Counts requests in flight at once; each takes ``hold`` seconds."""

    lock = threading.Lock()
    now = 0
    peak = 0
    hold = 0.3

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with Gauge.lock:
            Gauge.now += 1
            Gauge.peak = max(Gauge.peak, Gauge.now)
        time.sleep(Gauge.hold)
        with Gauge.lock:
            Gauge.now -= 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@sqlite_only
def test_racing_dispatches_keep_the_per_url_cap(server):
    gauge = ThreadingHTTPServer(("127.0.0.1", 0), Gauge)
    gauge.daemon_threads = True
    threading.Thread(target=gauge.serve_forever, daemon=True).start()
    Gauge.peak = 0
    try:
        app = new_app(server)
        url = f"http://127.0.0.1:{gauge.server_address[1]}/busy"
        enqueue(server, app, [url] * 6, later=True)
        sender = server.http.app.state.runtime.sender

        async def race():
            return await asyncio.gather(*(sender.dispatch(everything=True) for _ in range(3)))

        started = server.run(race)
        assert sum(len(tasks) for tasks in started) == 2
        while listed(server, state="pending"):
            run_now(server, everything=True)
        assert Gauge.peak == 2
        assert len(listed(server, state="delivered")) == 6
    finally:
        gauge.shutdown()
        gauge.server_close()


# --- the dev API ------------------------------------------------------------------------------


def test_the_listing_pages_with_limit_and_next(server):
    app = new_app(server)
    ids = enqueue(server, app, ["http://127.0.0.1:9/x"] * 503, later=True)
    page = server.http.get("/_b24local/events/deliveries", headers=DEV).json()
    assert len(page["deliveries"]) == 500 and page["next"] == ids[499]
    rest = server.http.get(
        "/_b24local/events/deliveries", params={"after": page["next"]}, headers=DEV
    ).json()
    assert [r["id"] for r in rest["deliveries"]] == ids[500:] and rest["next"] is None
    two = server.http.get(
        "/_b24local/events/deliveries", params={"limit": 2, "after": ids[0]}, headers=DEV
    ).json()
    assert [r["id"] for r in two["deliveries"]] == ids[1:3] and two["next"] == ids[2]
    whole = server.http.get("/_b24local/events/deliveries", params={"limit": 1000}, headers=DEV)
    assert len(whole.json()["deliveries"]) == 503 and whole.json()["next"] is None
    for limit in ("0", "1001", "x", "-1", "1e3"):
        bad = server.http.get("/_b24local/events/deliveries", params={"limit": limit}, headers=DEV)
        assert bad.status_code == 400 and bad.json()["error"] == "ERROR_ARGUMENT", limit


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/_b24local/events/deliveries", {"event": "\x00"}, None),
        ("GET", "/_b24local/events/deliveries", {"state": "pending\x00"}, None),
        ("GET", "/_b24local/events/deliveries/wait", {"event": "ON\x00"}, None),
        ("GET", "/_b24local/events/deliveries", {"\x00": "1"}, None),
        ("POST", "/_b24local/tokens", None, {"client_id": "a\x00", "user_id": 1}),
        ("POST", "/_b24local/tokens", None, {"client_id": "a", "user_id": 1, "portal": "\x00"}),
        ("POST", "/_b24local/faults", None, {"error": "QUERY_LIMIT_EXCEEDED", "method": "\x00"}),
        ("POST", "/_b24local/clock", None, {"now": "2026-01-01T00:00:00+00:00\x00"}),
        ("POST", "/_b24local/events/run", None, {"all": False, "\x00": 1}),
    ],
)
def test_the_dev_api_refuses_nul_characters(server, method, path, params, body):
    answer = server.http.request(method, path, params=params, json=body, headers=DEV)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "ERROR_BAD_ENCODING"
    assert "NUL" in answer.json()["error_description"]
    # Without the token, the token is what is wrong.
    assert server.http.request(method, path, params=params, json=body).status_code == 401
