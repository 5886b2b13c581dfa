"""Several server processes, one portal: ``serve --workers N``, and two servers on
different ports sharing one PostgreSQL database.

Every check goes through HTTP on fresh connections, so consecutive calls land on
different processes: a write answered by one is read through another, one-time
OAuth grants stay one-time, simultaneous workday opens start one day, and a
process killed with ``kill -9`` under load takes no acknowledged write with it.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from b24local import admin
from b24local.oauth.issuing import issue_code
from b24local.store import apps
from redisrun import need_redis, redis_prefix
from workerprocs import Serving, alive, kill, serve, wait_for

pytestmark = pytest.mark.process

STATUSES = ("dnd", "away", "online", "break")


def fresh() -> httpx.Client:
    """A client that opens a new connection for every request."""
    return httpx.Client(
        trust_env=False, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
    )


def result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


def stop_all(servers) -> None:
    """Stop every server, even when one of them does not stop cleanly; then fail
    with the first that did not."""
    failed: list[BaseException] = []
    for server in servers:
        try:
            assert_clean_stop(server)
        except BaseException as error:  # the others must still stop
            failed.append(error)
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=5)
    if failed:
        raise failed[0]


def assert_clean_stop(server: Serving) -> None:
    workers = server.workers()
    status = server.stop()
    stderr = server.stderr()
    assert status == 0, f"exit status {status}\nstderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    assert not [pid for pid in workers if alive(pid)], "a worker outlived its parent"


# --- serve --workers N on one host -------------------------------------------------------


def test_workers_share_the_port_and_are_restarted(tmp_path: Path, b24local_cli) -> None:
    # The limits on (a bucket too large to matter here) and kept in each process.
    args = ["--workers", "2", "--rate-threshold", "1000000"]
    server = serve(tmp_path / "data", tmp_path, args=args)
    try:
        assert "each process keeps its own rate and operating-time limits" in server.stderr()
        # The port is theirs alone: another server asking for it is refused.
        again = b24local_cli("serve", "--workers", "2", "--port", str(server.port),
                             "--data-dir", str(tmp_path / "other"))  # fmt: skip
        assert again.returncode == 1
        assert f"cannot listen on 127.0.0.1:{server.port}" in again.stderr
        # Migrations, the first start and the banner happen once, in the parent.
        assert sum(line.startswith("Incoming webhook: http") for line in server.banner) == 1
        assert sum("listening on" in line for line in server.banner) == 1
        assert server.banner[-1] == "Workers: 2"
        workers = server.workers()
        assert len(workers) == 2

        hook = server.webhook
        assert hook is not None
        with fresh() as http:
            # Each call on a new connection: a write through one process is read
            # through the next, whichever that is (SQLite in WAL, several processes).
            for status in itertools.islice(itertools.cycle(STATUSES), 12):
                assert result(http.post(f"{hook}im.user.status.set", data={"STATUS": status}))
                assert result(http.post(f"{hook}im.user.status.get")) == status

            kill(workers[0])
            wait_for(
                lambda: len(server.workers()) == 2 and workers[0] not in server.workers(),
                "a new worker in place of the killed one",
            )
            # The log reaches its file through a pump of its own: wait for it too.
            wait_for(
                lambda: (
                    f"worker {workers[0]} was killed by SIGKILL; starting another"
                    in server.stderr()
                ),
                "the supervisor's note of the killed worker",
            )
            for _ in range(6):
                assert result(http.post(f"{hook}im.user.status.get")) == STATUSES[(12 - 1) % 4]
        # Writers in both processes at once take turns on SQLite's write lock.
        writes = [("POST", f"{hook}im.user.status.set", {"STATUS": s}) for s in STATUSES] * 10
        reads = [("POST", f"{hook}timeman.status", {})] * 40
        answers = asyncio.run(_race(writes + reads, at_once=20))
        assert [a.status_code for a in answers] == [200] * 80, [a.text for a in answers]
    finally:
        assert_clean_stop(server)


def test_dev_is_refused_with_several_workers(tmp_path: Path, b24local_cli) -> None:
    done = b24local_cli(
        "serve", "--dev", "--workers", "2", "--port", "0", "--data-dir", str(tmp_path)
    )
    assert done.returncode == 2
    assert "--dev keeps its clock, faults and call journal in one process" in done.stderr
    assert done.stdout == ""
    done = b24local_cli("serve", "--workers", "0", "--port", "0", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "--workers" in done.stderr


# --- limits in Redis, shared by every process ------------------------------------------------


def test_a_bucket_of_50_admits_exactly_50_across_both(tmp_path: Path, new_pg_schema) -> None:
    """80 simultaneous calls, half through each server (one of them two processes):
    the bucket in Redis admits 50 whichever process answers. It drains so slowly
    that the burst cannot earn a 51st. (Before the module's pair of servers starts:
    their idle pooled connections and these must fit in PostgreSQL's 100.)"""
    url = need_redis()
    with new_pg_schema("b24local_bucket") as db, redis_prefix() as prefix:
        args = ["--redis", url, "--redis-prefix", prefix,
                "--rate-threshold", "50", "--rate-drain", "0.001"]  # fmt: skip
        servers: list[Serving] = []
        try:
            servers.append(serve(tmp_path / "a", tmp_path, db=db, args=[*args, "--workers", "2"]))
            servers.append(serve(tmp_path / "b", tmp_path, db=db, args=args))
            multi, single = servers
            assert "each process keeps its own" not in multi.stderr()  # shared: no warning
            webhook = multi.webhook
            assert webhook is not None
            path = webhook.split(str(multi.port), 1)[1]
            calls = [("POST", f"{server.base_url}{path}server.time", {})
                     for server in (multi, single)] * 40  # fmt: skip

            # 20 at a time: three processes' pools must fit PostgreSQL's 100
            # connections beside other users of the database.
            answers = asyncio.run(_race(calls, at_once=20))

            statuses = [answer.status_code for answer in answers]
            assert statuses.count(200) == 50, statuses
            assert statuses.count(503) == 30, statuses
            refused = {a.json()["error"] for a in answers if a.status_code == 503}
            assert refused == {"QUERY_LIMIT_EXCEEDED"}
        finally:
            stop_all(servers)


# --- two servers, one PostgreSQL database --------------------------------------------------


def test_servers_starting_at_once_on_a_new_database_migrate_it_once(
    tmp_path: Path, new_pg_schema
) -> None:
    """Hosts started together (a deployment, a restart of them all): the first
    migrates the database and makes the portal and its webhook, the others wait for
    it and then find everything done."""
    with new_pg_schema("b24local_starts") as url, ThreadPoolExecutor(3) as pool:
        starting = [
            pool.submit(serve, tmp_path / str(n), tmp_path, db=url, args=["--limits", "off"])
            for n in range(3)
        ]
        servers = [future.result() for future in starting if future.exception() is None]
        try:
            for future in starting:
                future.result()  # a start that failed fails the test (the rest stop below)
            assert sum(server.webhook is not None for server in servers) == 1
            hook = next(server.webhook for server in servers if server.webhook)
            path = hook.split(str(next(s.port for s in servers if s.webhook)), 1)[1]
            with fresh() as http:
                for server in servers:
                    assert result(http.post(f"{server.base_url}{path}profile"))["ID"] == "1"
        finally:
            stop_all(servers)


class Pair:
    """``--workers 2`` on one port and a single process on another, one database."""

    def __init__(self, url: str, root: Path, started: list[Serving]) -> None:
        self.url = url
        args = ["--limits", "off"]
        started.append(serve(root / "a", root, db=url, args=[*args, "--workers", "2"]))
        started.append(serve(root / "b", root, db=url, args=args))
        self.multi, self.single = started
        assert self.single.webhook is None  # the database's first start was the other's
        webhook = self.multi.webhook
        assert webhook is not None
        self.path = webhook.split(str(self.multi.port), 1)[1]  # "/rest/1/CODE/"

    @property
    def servers(self) -> tuple[Serving, Serving]:
        return self.multi, self.single

    def hook(self, server: Serving) -> str:
        return server.base_url + self.path


@pytest.fixture(scope="module")
def pair(tmp_path_factory, new_pg_schema) -> Iterator[Pair]:
    with new_pg_schema("b24local_workers") as url:
        started: list[Serving] = []
        try:
            yield Pair(url, tmp_path_factory.mktemp("workers"), started)
        finally:
            # Stopped before the schema is dropped (the kill test leaves one dead).
            stop_all([server for server in started if server.process.poll() is None])


def test_a_status_set_through_one_is_read_through_the_other(pair: Pair) -> None:
    with fresh() as http:
        for n, status in enumerate(itertools.islice(itertools.cycle(STATUSES), 12)):
            writer, reader = pair.servers if n % 2 else reversed(pair.servers)
            assert result(http.post(f"{pair.hook(writer)}im.user.status.set",
                                    data={"STATUS": status}))  # fmt: skip
            assert result(http.post(f"{pair.hook(reader)}im.user.status.get")) == status


async def _race(
    requests: list[tuple[str, str, dict[str, str]]], at_once: int | None = None
) -> list[httpx.Response]:
    """Every ``(method, url, form)`` at once (or ``at_once`` at a time), each on its
    own connection."""
    limits = httpx.Limits(max_connections=at_once or len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(trust_env=False, timeout=60, limits=limits) as http:
        return await asyncio.gather(
            *(http.request(method, url, data=form) for method, url, form in requests)
        )


async def _app_grant(url: str) -> tuple[str, str, str, str]:
    """An application, a code for the administrator, and a token pair: (client ID,
    secret, code, refresh token)."""
    now = datetime.now(UTC)
    store = await admin.open_store(url)
    try:
        app, secret = await admin.add_app(
            store, now, name=f"Race {now.timestamp()}", scopes=["im", "timeman"],
            redirect_uri="https://app.example/callback",
        )  # fmt: skip
        pair, _portal = await admin.issue_app_token(store, now, client_id=app.client_id, user_id=1)
        async with store.transaction(write=True) as conn:
            stored = await apps.by_client_id(conn, app.client_id)
            assert stored is not None
            code = await issue_code(conn, stored, 1, stored.scopes, now)
        return app.client_id, secret, code, pair.refresh_token
    finally:
        await store.close()


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
def test_a_one_time_grant_raced_through_both_yields_one_pair(pair: Pair, grant: str) -> None:
    client_id, secret, code, refresh = asyncio.run(_app_grant(pair.url))
    form = {"grant_type": grant, "client_id": client_id, "client_secret": secret}
    form["code" if grant == "authorization_code" else "refresh_token"] = (
        code if grant == "authorization_code" else refresh
    )
    calls = [("POST", f"{server.base_url}/oauth/token/", form) for server in pair.servers] * 12

    answers = asyncio.run(_race(calls))

    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.text for a in answers]
    lost = [a for a in answers if a.status_code != 200]
    assert {(a.status_code, a.json()["error"]) for a in lost} == {(400, "invalid_grant")}
    # The one pair works, on either server.
    token = won[0].json()["access_token"]
    for server in pair.servers:
        with fresh() as http:
            answer = http.post(f"{server.base_url}/rest/profile", data={"auth": token})
        assert result(answer)["ID"] == "1"


def test_simultaneous_opens_through_both_start_one_day(pair: Pair) -> None:
    with fresh() as http:
        if result(http.post(f"{pair.hook(pair.single)}timeman.status"))["STATUS"] != "CLOSED":
            result(http.post(f"{pair.hook(pair.single)}timeman.close"))
    calls = [("POST", f"{pair.hook(server)}timeman.open", {}) for server in pair.servers] * 15

    answers = [result(a) for a in asyncio.run(_race(calls))]

    # Serialised per user across processes: every caller sees one day, opened once.
    assert {a["STATUS"] for a in answers} == {"OPENED"}
    assert len({a["TIME_START"] for a in answers}) == 1
    day = asyncio.run(_open_day(pair.url))
    history = asyncio.run(_history(pair.url, day))
    assert [event["action"] for event in history] == ["open"]


def test_pauses_and_opens_raced_through_both_apply_one_after_another(pair: Pair) -> None:
    """After the day opened above: each transition, whichever process ran it,
    starts from the state the one before it left (serialised per user across
    processes; none lost, none applied to a stale day)."""
    calls = [
        ("POST", f"{pair.hook(server)}{method}", {})
        for server in pair.servers
        for method in ("timeman.pause", "timeman.open")
    ] * 10

    answers = [result(a) for a in asyncio.run(_race(calls, at_once=20))]

    assert {a["STATUS"] for a in answers} <= {"OPENED", "PAUSED"}
    day = asyncio.run(_open_day(pair.url))
    events = asyncio.run(_history(pair.url, day))
    assert len(events) > 2, "the race changed nothing"
    for earlier, later in itertools.pairwise(events):
        assert later["before"] == earlier["after"], (earlier, later)


async def _open_day(url: str) -> int:
    store = await admin.open_store(url)
    try:
        records = await admin.workday_records(store, datetime.now(UTC), user_id=1)
        return records[0]["id"]  # newest first
    finally:
        await store.close()


async def _history(url: str, workday_id: int) -> list[dict[str, Any]]:
    store = await admin.open_store(url)
    try:
        return await admin.workday_history(store, workday_id)
    finally:
        await store.close()


# --- kill -9 under load --------------------------------------------------------------------


async def _adding(
    hook: str, tag: str, added: dict[str, int], ready: asyncio.Queue[None], stop: asyncio.Event
) -> None:
    """Add users through ``hook`` one after another until ``stop`` or the server
    goes away; each answered ``user.add`` is recorded (e-mail → ID). The first
    (slower: connections and caches are cold) is awaited before the load counts."""
    form = {"NAME": tag, "EXTRANET": "Y", "SONET_GROUP_ID[0]": "1"}
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        try:
            for n in itertools.count():
                if n == 1:
                    ready.put_nowait(None)
                if stop.is_set():
                    return
                email = f"{tag}-{n}@example.test"
                try:
                    response = await http.post(f"{hook}user.add", data={**form, "EMAIL": email})
                except httpx.TransportError:
                    return  # in flight when the process died: kept or not, either is right
                added[email] = int(result(response))
        finally:
            if n == 0:  # failed at once: the load must not wait for it
                ready.put_nowait(None)


async def _load_and_kill(pair: Pair) -> dict[str, int]:
    added: dict[str, int] = {}
    ready: asyncio.Queue[None] = asyncio.Queue()
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(_adding(pair.hook(server), f"c{n}s{i}", added, ready, stop))
        for i, server in enumerate(pair.servers)
        for n in range(6)
    ]
    for _ in clients:
        await ready.get()
    await asyncio.sleep(1.5)
    victim = pair.multi.workers()[0]
    kill(victim)  # one worker of the two-process server
    pair.single.process.send_signal(signal.SIGKILL)  # and the whole other server
    await asyncio.sleep(1.0)  # the surviving worker keeps serving meanwhile
    stop.set()
    await asyncio.gather(*clients)
    return added


def test_kill_9_under_load_loses_no_acknowledged_write(pair: Pair) -> None:
    added = asyncio.run(_load_and_kill(pair))
    pair.single.process.wait(timeout=10)

    assert len(added) > 40, "too little load to mean anything"
    store_users = asyncio.run(_users(pair.url))
    missing = {email: id_ for email, id_ in added.items() if store_users.get(id_) != email}
    assert not missing, f"acknowledged user.add calls not in the database: {missing}"
    # The supervisor replaced its killed worker; the other server is gone for good.
    wait_for(lambda: len(pair.multi.workers()) == 2, "the killed worker replaced")
    assert "was killed by SIGKILL; starting another" in pair.multi.stderr()


async def _users(url: str) -> dict[int, str]:
    store = await admin.open_store(url)
    try:
        return {user.id: user.email for user in await admin.list_users(store)}
    finally:
        await store.close()
