"""PostgreSQL restarted under load: calls in flight get a clean error, nothing is
left half-written, and the server recovers by itself once the database is back.

A private PostgreSQL cluster (``initdb`` in a temporary directory, on a port of its
own: the machine's shared server is never touched) serves a real ``b24local serve``
process. Clients change statuses and walk workdays as in test_crash.py; mid-load the
cluster is stopped with ``pg_ctl stop -m immediate`` (a crash, as far as the server
can tell), started again a moment later, and the clients carry on until every one
of them is answered again. A call the outage failed may or may not have committed
(its ``COMMIT`` may have been on the wire): the checks of test_crash.py allow both.
"""

from __future__ import annotations

import asyncio
import glob
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.clients.test_crash import (
    ACTIONS,
    MORNING,
    STATUSES,
    Sent,
    _team,
    check_after_restart,
)

pytestmark = pytest.mark.process

CLIENTS_PER_USER = 3
#: The answer to a call the database failed (rest/errors.py, DATABASE_UNAVAILABLE).
OUTAGE = {
    "error": "INTERNAL_SERVER_ERROR",
    "error_description": "Internal server error: the database is unavailable, try again later",
}


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test's own."""

    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, check: bool = True) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, *args]
        _as_postgres(command, self.data.parent / "postgres.log", check=check)

    def start(self) -> None:
        self._ctl("-w", "-l", str(self.data.parent / "postgres.log"), "start")

    def crash(self, *, check: bool = True) -> None:
        self._ctl("-w", "-m", "immediate", "stop", check=check)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str], log: Path, *, check: bool = True) -> None:
    # PostgreSQL refuses to run as root: then its own system user runs it.
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        pytest.fail(f"{' '.join(command)}: {done.stdout}{done.stderr}\n{tail}")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    # Not under pytest's own temporary directory: its parents admit no other user.
    root = Path(tempfile.mkdtemp(prefix="b24local-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    made = Cluster(Path(found[-1]).parent, root / "data", free_port())
    initdb = [str(made.bin / "initdb"), "-D", str(made.data), "-U", "postgres", "--auth=trust"]
    _as_postgres([*initdb, "-N"], root / "postgres.log")
    made.start()
    try:
        yield made
    finally:
        made.crash(check=False)  # stopped already if the test failed while it was down
        shutil.rmtree(root, ignore_errors=True)


async def _client(
    http: httpx.AsyncClient,
    base: str,
    hook: str,
    user: int,
    rnd: random.Random,
    log: list[Sent],
    failed: list[httpx.Response],
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        method = rnd.choice(ACTIONS)
        status = rnd.choice(STATUSES) if method == "im.user.status.set" else None
        entry = Sent(user, method, status, time.monotonic())
        log.append(entry)
        response = await http.post(
            f"{base}{hook}{method}", json={"STATUS": status} if status else {}
        )
        answer = response.json()
        if response.status_code >= 500:
            # Failed by the outage: as unknown as a call cut off by a crash.
            failed.append(response)
            await asyncio.sleep(0.05)
            continue
        entry.answered_at = time.monotonic()
        entry.answer = answer


async def _load_through_restart(
    srv, hooks: dict[int, str], cluster: Cluster
) -> tuple[list[Sent], list[httpx.Response], float]:
    """Load the server, crash and restart the database under it, and go on until every
    client is answered again; returns the requests, the failed answers, and how long
    after the database was back the last client was answered."""
    log: list[Sent] = []
    failed: list[httpx.Response] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(verify=srv.ssl_context(), trust_env=False, timeout=60) as http:
        tasks = [
            asyncio.create_task(
                _client(http, srv.base_url, hook, user, random.Random(f"{n}:{user}"), log,
                        failed, stop)
            )
            for n in range(CLIENTS_PER_USER)
            for user, hook in hooks.items()
        ]  # fmt: skip
        await asyncio.sleep(1.5)
        await asyncio.to_thread(cluster.crash)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.start)
        back = time.monotonic()
        # Recovered: every user answered again, after the database came back.
        for _ in range(600):
            answered = {e.user for e in log if e.acknowledged and e.sent_at > back}
            if answered == set(hooks):
                break
            await asyncio.sleep(0.05)
        recovered = time.monotonic() - back
        stop.set()
        await asyncio.gather(*tasks)
    return log, failed, recovered


def test_postgresql_restarted_mid_load(cluster, launch_server) -> None:
    srv = launch_server(db=cluster.url)
    try:
        srv.dev("POST", "/_b24local/clock", {"now": MORNING.isoformat(), "freeze": False})
        hooks = asyncio.run(_team(cluster.url))

        log, failed, recovered = asyncio.run(_load_through_restart(srv, hooks, cluster))
        print(f"{len(log)} requests, {len(failed)} failed by the outage; "
              f"all users answered {recovered:.2f} s after the database was back")  # fmt: skip

        assert failed, "the outage failed no call: it happened between calls?"
        assert {(r.status_code, r.text) for r in failed} <= {
            (500, httpx.Response(200, json=OUTAGE).text)
        }, {r.text for r in failed}
        assert recovered < 30, "the server did not recover once the database was back"
        refused = [e.answer for e in log if e.answer is not None and not e.acknowledged]
        assert {a["error"] for a in refused} <= {"WD_NOT_OPEN"}, refused
        # Nothing half-written, every acknowledged write kept.
        check_after_restart(srv, hooks, log)
    finally:
        status = srv.stop()
    assert status == 0, srv.stderr()
    assert "Traceback" not in srv.stderr(), srv.stderr()
