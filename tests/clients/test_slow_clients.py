"""Slow and idle clients against a real ``b24local serve --tls`` with small limits:
requests that do not arrive in time get ``408``, idle connections are closed, and
connections beyond the ceiling are refused while honest clients are still served.

The dribbling clients are raw TLS sockets, so nothing buffers their bytes.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.process

CEILING = 20


@pytest.fixture(scope="module")
def server(launch_server):
    """Deadlines of one second, and a body must average 1,000 bytes a second."""
    return launch_server(
        args=["--header-timeout", "1", "--body-timeout", "1", "--body-min-rate", "1000",
              "--keep-alive-timeout", "1"]
    )  # fmt: skip


@pytest.fixture(scope="module")
def crowded(launch_server):
    """Room for 20 connections; deadlines long enough to fill it in the meantime."""
    return launch_server(
        args=["--max-connections", str(CEILING), "--header-timeout", "3",
              "--keep-alive-timeout", "3"]
    )  # fmt: skip


def connect(server) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return server.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")


def head(
    server,
    *,
    length: int | None = None,
    path: str | None = None,
    form: bool = False,
    token: str | None = None,
) -> bytes:
    """A request line and headers (for a body of ``length`` bytes), by default a
    call of ``server.time`` with a JSON body."""
    path = path or urlsplit(server.webhook_url).path + "server.time"
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if length is not None:
        lines += [f"Content-Type: {kind}", f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(sock: ssl.SSLSocket, wait: float = 5.0) -> bytes | None:
    """Everything the server sends until it closes the connection; None if it is
    still open after ``wait`` seconds."""
    sock.settimeout(wait)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except (ConnectionError, ssl.SSLError):
        pass
    return received


def dribble(sock: ssl.SSLSocket, data: bytes, every: float, wait: float = 5.0) -> bytes | None:
    """Send ``data`` a few bytes every ``every`` seconds until the server answers or
    closes (or ``wait`` passes); what it sent."""
    began = time.monotonic()
    for start in range(0, len(data), 5):
        try:
            sock.sendall(data[start : start + 5])
        except (ConnectionError, ssl.SSLError):
            break
        sock.settimeout(every)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if time.monotonic() - began > wait:
                return None
            continue
        except (ConnectionError, ssl.SSLError):
            return b""
        return chunk + (answer(sock) or b"")
    return answer(sock)


def call(server) -> httpx.Response:
    with httpx.Client(verify=server.ssl_context(), timeout=5) as client:
        return client.post(server.webhook_url + "server.time")


@pytest.mark.parametrize("part", ["headers", "blank lines", "body"])
def test_a_request_that_does_not_arrive_in_time_gets_408(server, part):
    body = json.dumps({"pad": "x" * 2000}).encode()
    with connect(server) as sock:
        began = time.monotonic()
        if part == "headers":
            # 25 bytes a second: the headers would take seconds.
            reply = dribble(sock, head(server, length=len(body)) + body, every=0.2)
        elif part == "blank lines":
            # What a parser skips before a request is no request yet, nor idleness.
            reply = dribble(sock, b"\r\n" * 1000, every=0.2)
        else:
            # The headers at once, then 25 bytes a second of body (1000 asked for).
            sock.sendall(head(server, length=len(body)))
            reply = dribble(sock, body, every=0.2)
        took = time.monotonic() - began

    assert reply is not None, "still waiting after 5 s"
    status, _, payload = reply.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 408 "), reply
    assert b"connection: close" in status.lower()
    assert json.loads(payload) == {
        "error": "ERROR_REQUEST_TIMEOUT",
        "error_description": "The request did not arrive in time",
    }
    assert 0.9 < took < 3, took
    # The call cut off while reading its body is no failure of the server's (the
    # next call is answered after the server has seen the connection go).
    assert call(server).status_code == 200
    assert "Traceback" not in server.stderr()


@pytest.mark.parametrize("path", ["/oauth/token/", "/_b24local/faults"])
def test_a_body_cut_off_outside_rest_is_no_server_failure(server, path):
    """The OAuth and --dev endpoints read bodies themselves; one that stops arriving
    there is the client's doing too, not a failure for the log."""
    body = b"grant_type=refresh_token&client_id=" + b"x" * 2000
    with connect(server) as sock:
        sock.sendall(head(server, length=len(body), path=path, form=True, token=server.dev_token))
        reply = dribble(sock, body, every=0.2)

    assert reply is not None, "still waiting after 5 s"
    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert call(server).status_code == 200
    assert "Traceback" not in server.stderr()


def test_idle_connections_are_closed(server):
    with connect(server) as silent, connect(server) as served:
        served.sendall(head(server))
        # Neither a connection that never sent a byte nor one kept alive after its
        # answer is held past the keep-alive timeout (1 s).
        reply = answer(served, wait=3)
        assert reply is not None and reply.startswith(b"HTTP/1.1 200 "), reply
        assert answer(silent, wait=1) == b""


def test_connections_beyond_the_ceiling_are_refused(crowded):
    busy = []
    try:
        for _ in range(CEILING):
            busy.append(connect(crowded))
            busy[-1].sendall(b"P")  # a request begun: not idle
        with connect(crowded) as extra:
            extra.sendall(head(crowded))
            assert answer(extra, wait=3) == b""  # closed unanswered
    finally:
        for sock in busy:
            sock.close()
    assert call(crowded).status_code == 200


def test_a_newcomer_at_the_ceiling_closes_the_longest_idle_connection(crowded):
    idle = [connect(crowded) for _ in range(CEILING)]
    try:
        assert call(crowded).status_code == 200
        # Cut off at once, not after the keep-alive timeout (3 s).
        assert answer(idle[0], wait=0.5) == b""
    finally:
        for sock in idle:
            sock.close()


def test_a_slow_but_steady_client_is_served(server):
    body = json.dumps({"pad": "x" * 2990}).encode()
    with connect(server) as sock:
        began = time.monotonic()
        request = head(server, length=len(body))
        for piece in (request[:10], request[10:30], request[30:]):
            sock.sendall(piece)
            time.sleep(0.2)
        # 1,500 bytes a second for two seconds: past the body timeout (1 s), but
        # above the minimum rate (1,000 bytes a second).
        for start in range(0, len(body), 150):
            sock.sendall(body[start : start + 150])
            time.sleep(0.1)
        reply = answer(sock, wait=3)
        took = time.monotonic() - began
    assert reply is not None and reply.startswith(b"HTTP/1.1 200 "), reply
    assert b'"result"' in reply
    assert took > 2
