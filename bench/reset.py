"""The reset scenario: how long ``POST /_b24local/reset`` and snapshots take.

A real ``b24local serve --dev --seed`` process is started on a state file of
``--reset-users`` users (100 by default: departments, a webhook, a workday and a
presence each), and each round first changes the state through REST (a user
added, a workday opened, a status set), then resets it. Every round is timed from
the client (the round trip) and by the server (``ms`` in the answer: the restore
and the clearing of memory). Saving a snapshot (``PUT``) and restoring it are
timed the same way. The target: a reset under 50 ms for 100 users.

``python -m bench --only reset [--pg URL] [--no-sqlite] [--quick]``: no wrk needed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from . import databases
from .server import HOST, b24local_command, free_port

TOKEN = "bench-reset-token"
CODE = "bench-reset-code-01"


def seed_state(users: int) -> dict[str, Any]:
    """A portal of ``users`` users in ten departments, each with a workday and a
    presence, and the administrator's webhook."""
    departments = [{"id": 1, "name": "Company", "head": 1}] + [
        {"id": d, "name": f"Team {d}", "parent": 1} for d in range(2, 12)
    ]
    people = [
        {
            "id": n,
            "name": f"User{n}",
            "last_name": "Bench",
            "email": f"user{n}@bench.example",
            "admin": n == 1,
            "departments": [2 + n % 10],
            "fields": {"WORK_POSITION": "Engineer", "PERSONAL_CITY": "Berlin"},
        }
        for n in range(1, users + 1)
    ]
    days = [
        {
            "user": n,
            "opened": "2026-03-02T08:00:00Z",
            "pauses": [["2026-03-02T12:00:00Z", "2026-03-02T12:30:00Z"]],
            "closed": "2026-03-02T17:00:00Z",
        }
        for n in range(1, users + 1)
    ]
    return {
        "version": 1,
        "portals": [{
            "domain": "localhost",
            # The professional plan's 100 employees would refuse the rounds' user.add.
            "plan": "enterprise",
            "departments": departments,
            "users": people,
            "webhooks": [{"user": 1, "code": CODE, "scopes": ["im", "timeman", "user"]}],
            "workdays": days,
            "presence": [{"user": n, "status": "away"} for n in range(1, users + 1)],
        }],
    }  # fmt: skip


def _serve(db: databases.Database, seed: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        *b24local_command(), "serve", "--host", HOST, "--port", str(port), "--dev",
        "--dev-token", TOKEN, "--seed", str(seed), "--limits", "off", "--log-level", "warning",
        "--data-dir", str(db.data_dir),
    ]  # fmt: skip
    if db.server_url:
        command += ["--db", db.server_url]
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    # Seeding 1,000 people and their 6,000 days on PostgreSQL took 3.5 minutes on
    # a loaded machine (load average 8 on 2 cores).
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_b24local/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def _timed(call: Callable[[], httpx.Response]) -> tuple[float, float]:
    """(round trip ms, the server's own ms)."""
    started = time.perf_counter()
    answer = call()
    elapsed = (time.perf_counter() - started) * 1000
    answer.raise_for_status()
    return elapsed, float(answer.json().get("ms", 0.0))


def measure(db: databases.Database, users: int, rounds: int, workdir: Path) -> list[str]:
    seed = workdir / f"reset-seed-{db.backend}.json"
    seed.write_text(json.dumps(seed_state(users)), encoding="utf-8")
    process, base = _serve(db, seed, workdir / f"reset-{db.backend}.log")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    hook = f"/rest/1/{CODE}/"
    timings: dict[str, tuple[list[float], list[float]]] = {
        k: ([], []) for k in ("reset", "snapshot save", "snapshot restore")
    }
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:

            def dirty(n: int) -> None:
                http.post(f"{hook}user.add", json={
                    "NAME": "New", "EMAIL": f"new{n}@bench.example", "UF_DEPARTMENT": [2],
                }).raise_for_status()  # fmt: skip
                http.post(f"{hook}timeman.open", json={"USER_ID": 2}).raise_for_status()
                http.post(f"{hook}im.user.status.set", json={"STATUS": "dnd"}).raise_for_status()

            for n in range(rounds):
                dirty(n)
                trip, ms = _timed(lambda: http.post("/_b24local/reset"))
                timings["reset"][0].append(trip)
                timings["reset"][1].append(ms)
            for n in range(rounds):
                dirty(n)
                trip, ms = _timed(lambda: http.put("/_b24local/snapshots/bench"))
                timings["snapshot save"][0].append(trip)
                timings["snapshot save"][1].append(ms)
                dirty(n + rounds)
                trip, ms = _timed(lambda: http.post("/_b24local/snapshots/bench/restore"))
                timings["snapshot restore"][0].append(trip)
                timings["snapshot restore"][1].append(ms)
                http.post("/_b24local/reset")
            rows = http.put("/_b24local/snapshots/bench").json()["rows"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    lines = [
        f"{db.backend}, {users} users ({rows:,} rows), {rounds} rounds",
        "",
        "| operation | round trip median / p95 / max (ms) | server median / p95 / max (ms) |",
        "| --- | --- | --- |",
    ]
    for key, (trips, own) in timings.items():
        lines.append(f"| {key} | {databases.spread(trips)} | {databases.spread(own)} |")
    return lines


def main(*, pg_url: str | None, sqlite: bool, quick: bool, users: int = 100) -> None:
    rounds = 20 if quick else 100
    databases.each(
        "reset",
        pg_url=pg_url,
        sqlite_too=sqlite,
        measure=lambda db, workdir: measure(db, users, rounds, workdir),
    )
