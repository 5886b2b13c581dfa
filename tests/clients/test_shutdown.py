"""Stopping ``b24local serve --tls --dev`` with SIGINT (Ctrl+C) and SIGTERM.

Each signal gets its own server. A clean shutdown is: the process ends within
15 s, uvicorn runs its graceful shutdown (application lifespan closed), nothing
is logged as a traceback, the port is free again, and the exit status is 0.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest

pytestmark = pytest.mark.process

STOP_DEADLINE = 15.0


@dataclass(frozen=True)
class Stopped:
    signal: signal.Signals
    status: int
    seconds: float
    stderr: str
    port: int


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def one_call(server) -> str:
    """One REST call on a connection that is closed right after."""
    connection = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=server.ssl_context(), timeout=10
    )
    try:
        connection.request("POST", f"/rest/1/{server.code}/im.user.status.get", body=b"")
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, body
        return body
    finally:
        connection.close()


@pytest.fixture(scope="module", params=[signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def stopped(request, launch_server) -> Stopped:
    """A server that answered a call and was then stopped with the signal."""
    server = launch_server()
    assert '"result":"online"' in one_call(server)
    began = time.monotonic()
    status = server.stop(request.param)  # fails the test if it takes over 15 s
    return Stopped(
        signal=request.param,
        status=status,
        seconds=time.monotonic() - began,
        stderr=server.stderr(),
        port=server.port,
    )


def test_signal_runs_the_graceful_shutdown(stopped: Stopped) -> None:
    assert stopped.seconds < STOP_DEADLINE
    for line in (
        "Shutting down",
        "Waiting for application shutdown.",
        "Application shutdown complete.",
        "Finished server process",
    ):
        assert line in stopped.stderr, stopped.stderr
    assert "Traceback" not in stopped.stderr, stopped.stderr
    assert "ERROR" not in stopped.stderr, stopped.stderr
    assert port_is_free(stopped.port)


def test_signal_exit_status_is_zero(stopped: Stopped) -> None:
    assert stopped.status == 0, f"{stopped.signal.name}: exit status {stopped.status}"


def test_sigterm_with_an_idle_keepalive_tls_client(launch_server) -> None:
    server = launch_server()
    # A pooled client connection, idle after its request, as requests.Session,
    # httpx.Client or any SDK keeps one.
    keep = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=server.ssl_context(), timeout=10
    )
    try:
        keep.request("POST", f"/rest/1/{server.code}/im.user.status.get", body=b"")
        response = keep.getresponse()
        assert response.status == 200
        response.read()

        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)
        seconds = time.monotonic() - began
        assert seconds < STOP_DEADLINE, (
            f"still running {seconds:.1f} s after SIGTERM\n{server.stderr()}"
        )
    finally:
        keep.close()
