"""A real ``b24local serve --redis`` whose Redis dies and comes back: every call is
answered meanwhile (the limits in the server's memory), the outage is logged
once, and the server goes back to Redis by itself."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from redisrun import private_redis

pytestmark = pytest.mark.process


def test_the_server_rides_out_a_redis_restart(launch_server, tmp_path: Path) -> None:
    with private_redis(tmp_path) as redis:
        flags = ["--limits", "on", "--rate-threshold", "1000", "--redis", redis.url]
        srv = launch_server(args=flags)
        url = f"{srv.webhook_url}im.user.status.get"
        with httpx.Client(verify=srv.ssl_context(), trust_env=False, timeout=30) as http:
            assert http.post(url).status_code == 200
            assert redis.keys()

            redis.kill()
            during = [http.post(url) for _ in range(5)]
            assert [a.status_code for a in during] == [200] * 5
            assert all(a.json()["time"]["operating"] > 0 for a in during)

            redis.start()  # empty: nothing was saved
            # Tried again every few seconds: wait (a while at most) for the server to
            # count in Redis again.
            deadline = time.monotonic() + 20
            while not redis.keys():
                assert time.monotonic() < deadline, "the server never went back to Redis"
                assert http.post(url).status_code == 200
                time.sleep(0.2)
    log = srv.stderr()
    assert log.count("does not answer") == 1
    assert "answers again" in log
    assert "Traceback" not in log
