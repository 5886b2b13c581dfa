"""A forced hang against a real ``serve --dev``: the call sends nothing, the
client's own time-out fires, and once the client has gone the server holds
nothing for it (a still-held call would keep a graceful shutdown waiting)."""

from __future__ import annotations

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
