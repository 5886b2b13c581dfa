"""``b24local calls`` against a real ``serve --tls --dev``: ``--follow`` prints a
call made after it started, as it comes; the listing and the summary read the
same journal; Ctrl-C ends the follow quietly."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading

import httpx
import pytest

from .conftest import console_script, server_env

pytestmark = pytest.mark.process

WAIT = 20.0


def _lines(stream, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def test_follow_list_and_summary(live_server) -> None:
    reach = ["--server", live_server.base_url, "--dev-token", live_server.dev_token,
             "--data-dir", str(live_server.data_dir)]  # fmt: skip
    follow = subprocess.Popen(
        [str(console_script()), "calls", *reach, "--follow", "--json", "--method", "user.*"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server_env(),
    )  # fmt: skip
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    for stream, into in ((follow.stdout, out), (follow.stderr, err)):
        threading.Thread(target=_lines, args=(stream, into), daemon=True).start()
    try:
        # It says where it starts once it asked the server: a call now is a new one.
        assert err.get(timeout=WAIT).startswith("following calls after #")
        with httpx.Client(verify=live_server.ssl_context(), trust_env=False) as http:
            http.post(live_server.webhook_url + "server.time")  # filtered out
            answer = http.post(live_server.webhook_url + "user.current", json={"x": "1"})
        assert answer.status_code == 200
        call = json.loads(out.get(timeout=WAIT))
        assert (call["method"], call["params"], call["status"], call["api"]) == (
            "user.current", {"x": "1"}, 200, "v2",
        )  # fmt: skip
        assert call["caller"]["type"] == "webhook"
        assert call["caller"]["user_id"] == live_server.user_id

        follow.send_signal(signal.SIGINT)
        assert follow.wait(timeout=WAIT) == 0
        assert out.empty()
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()

    listing = live_server.cli("calls", *reach, "--method", "user.current")
    assert f"#{call['id']} " in listing
    assert "user.current 200" in listing
    summary = live_server.cli("calls", "summary", *reach, "--json")
    (usage,) = [json.loads(line) for line in summary.splitlines()]
    assert usage["methods"]["user.current"]["calls"] == 1
    assert "user" in usage["scopes"]["used"]

    refused = live_server.run_cli("calls", "--server", live_server.base_url, "--dev-token", "no",
                                  "--data-dir", str(live_server.data_dir))  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: Wrong or missing dev token")
