"""Faults against a real ``serve --dev``. A forced hang: the call sends nothing, the
client's own time-out fires, and once the client has gone the server holds
nothing for it (a still-held call would keep a graceful shutdown waiting). And the
``b24local fault`` commands, which drive the dev API from a shell."""

from __future__ import annotations

import json
import time

import httpx
import pytest

pytestmark = pytest.mark.process


def test_a_hung_call_meets_the_clients_timeout_and_is_let_go(launch_server) -> None:
    server = launch_server()
    server.dev("POST", "/_b24local/faults", {"hang": 300, "method": "server.time"})
    url = server.webhook_url + "server.time"
    with httpx.Client(verify=server.ssl_context(), trust_env=False, timeout=0.5) as http:
        began = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):  # not a byte came back
            http.post(url)
        assert time.monotonic() - began < 5
    with httpx.Client(verify=server.ssl_context(), trust_env=False, timeout=5) as http:
        assert http.post(url).status_code == 200  # the rule was used up
    assert server.dev("GET", "/_b24local/faults")["faults"] == []

    began = time.monotonic()
    assert server.stop() == 0
    stderr = server.stderr()
    # uvicorn waits up to 5 s for running calls, then cancels them and says so.
    assert "timeout graceful shutdown exceeded" not in stderr, stderr
    assert time.monotonic() - began < 4
    assert "Traceback" not in stderr, stderr


def test_the_fault_commands_drive_a_running_server(live_server) -> None:
    def fault(*args: str):
        return live_server.run_cli(
            "fault", *args, "--server", live_server.base_url, "--dev-token", live_server.dev_token
        )

    def call() -> httpx.Response:
        with httpx.Client(verify=live_server.ssl_context(), trust_env=False) as http:
            return http.post(live_server.webhook_url + "server.time")

    live_server.dev("POST", "/_b24local/clock", {"freeze": True})  # seconds_left stays
    added = fault(
        "add", "--error", "QUERY_LIMIT_EXCEEDED", "--method", "server.time", "--times", "2"
    )
    assert added.returncode == 0, added.stderr
    first = added.stdout.strip()
    second = fault("add", "--latency", "0.01", "--caller", "user:1", "--seconds", "30", "--json")
    assert json.loads(second.stdout)["seconds_left"] == 30
    listed = fault("list").stdout.splitlines()
    assert listed[0] == f"{first}  QUERY_LIMIT_EXCEEDED  method=server.time  times=2"
    assert listed[1].endswith("(no error)  caller=user:1  latency=0.01  seconds_left=30")
    assert call().status_code == 503

    assert len(fault("clear", first).stdout.splitlines()) == 1
    assert call().status_code == 200
    assert fault("operating", "--drop").returncode == 0
    assert "operating" not in call().json()["time"]
    assert fault("clear").stdout == ""
    assert "operating" in call().json()["time"]

    refused = fault("add", "--error", "OVERLOAD_LIMIT", "--probability", "2")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: Bad fault request: probability must be")
    unknown = fault("add", "--error", "NOPE")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "error: Bad fault request: unknown error code 'NOPE'\n",
    )
