"""One request must not freeze everyone: while a hostile request of up to the body
limit is handled, ``server.time`` from another client is still answered promptly.
Against a real ``b24local serve --tls --dev`` process (docs/compat.md, "Request limits")."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.process

#: The target is 100 ms; a shared 2-core CI machine, where the hostile request's own
#: thread competes for the same cores, gets room. Before the fix: 0.5 to 3.7 s.
BOUND = 0.5


def hostile(server) -> Iterator[tuple[str, str, bytes, str]]:
    """(name, URL, body, content type) of each request that used to stall the server."""
    hook, base = server.webhook_url, server.base_url
    objects = b'{"a":[' + b",".join([b"{}"] * 2_700_000) + b"]}"  # 8 MB
    yield "8 MB of {} unauthenticated", f"{base}/rest/server.time", objects, "application/json"
    yield "8 MB of {} by webhook", f"{hook}server.time", objects, "application/json"
    zeros = b'{"a":[' + b",".join([b"0"] * 4_000_000) + b"]}"
    yield "4M zeros", f"{base}/rest/server.time", zeros, "application/json"
    query = "%26".join(f"p{i}%3D1" for i in range(9_999))
    batch = "&".join(f"cmd[c{j}]=server.time%3F{query}" for j in range(50))
    yield "batch of 50 x 10k", f"{hook}batch", batch.encode(), "application/x-www-form-urlencoded"
    ids = b",".join(str(i).encode() for i in range(1, 900_001))
    yield "900k IDs", f"{hook}im.user.list.get", b'{"ID":[' + ids + b"]}", "application/json"
    ids = b",".join(str(i).encode() for i in range(1, 99_999))  # the most it answers
    yield "99,998 IDs", f"{hook}im.user.list.get", b'{"ID":[' + ids + b"]}", "application/json"
    refs = b"cmd[a]=server.time&cmd[b]=server.time%3Fx%3D" + b"$result[a]" * 800_000
    yield "800k $result refs", f"{hook}batch", refs, "application/x-www-form-urlencoded"


def test_a_hostile_request_does_not_stall_other_clients(live_server):
    verify = live_server.ssl_context()
    probe_url = f"{live_server.webhook_url}server.time"
    worst: dict[str, float] = {}
    with httpx.Client(verify=verify, timeout=30) as probe:
        assert probe.get(probe_url).status_code == 200
        for name, url, body, content_type in hostile(live_server):
            answered: list[httpx.Response] = []

            def send(url=url, body=body, content_type=content_type, answered=answered) -> None:
                with httpx.Client(verify=verify, timeout=30) as client:
                    headers = {"content-type": content_type}
                    answered.append(client.post(url, content=body, headers=headers))

            sender = threading.Thread(target=send)
            sender.start()
            latencies = []
            while sender.is_alive():
                started = time.perf_counter()
                assert probe.get(probe_url).status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.005)
            sender.join()
            assert answered and answered[0].status_code < 500, (name, answered)
            worst[name] = max(latencies, default=0.0)
    print({name: f"{seconds * 1000:.0f} ms" for name, seconds in worst.items()})
    assert max(worst.values()) < BOUND, worst
