"""The board scenario: how long the team board takes with 1,000 people.

A real ``b24local serve --dev --seed`` process is started on a state file of
``--board-users`` people (1,000 by default) in ten departments with a head each;
every person has a week of closed days behind them and, today, a day that is
running, paused, finished or not started, and a presence status. The
administrator logs in through the log-in page, then ``GET /team`` (all 1,000
rows), ``GET /team/live`` (the same rows as JSON) and a head's ``/team`` (their
100) are each asked ``rounds`` times. The server's own time is what the page
reports in ``Server-Timing`` (reading the board, and rendering it); the round
trip adds the transfer. The target: the whole board under 50 ms of server time.

``python -m bench --only board [--pg URL] [--no-sqlite] [--quick]``: no wrk needed.
"""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from . import databases
from .reset import TOKEN, _serve

PASSWORD = "bench board password"
DEPARTMENTS = 10
TODAY = "2026-03-09"
#: The server's clock during the run: today, mid-afternoon (UTC).
NOW = f"{TODAY}T14:00:00+00:00"


def _today(n: int) -> dict[str, Any] | None:
    """Person ``n``'s day today: running, paused, finished or none, in turn."""
    kind = n % 4
    if kind == 3:
        return None
    day: dict[str, Any] = {"user": n, "opened": f"{TODAY}T08:{n % 60:02d}:00Z"}
    if kind == 1:
        day["pauses"] = [[f"{TODAY}T12:00:00Z", None]]
    if kind == 2:
        day["pauses"] = [[f"{TODAY}T12:00:00Z", f"{TODAY}T12:30:00Z"]]
        day["closed"] = f"{TODAY}T13:00:00Z"
    return day


def seed_state(users: int) -> dict[str, Any]:
    """``users`` people; department ``2 + n % 10``, headed by its first member."""
    departments = [{"id": 1, "name": "Company", "head": 1}] + [
        {"id": 2 + d, "name": f"Team {d + 1}", "parent": 1, "head": d + 10}
        for d in range(DEPARTMENTS)
    ]
    people = [
        {
            "id": n,
            "name": f"User{n}",
            "last_name": "Bench",
            "email": f"user{n}@bench.example",
            "admin": n == 1,
            "departments": [2 + n % DEPARTMENTS],
            # scrypt is slow on purpose: only the two who log in get a password.
            **({"password": PASSWORD} if n in (1, 10) else {}),
        }
        for n in range(1, users + 1)
    ]
    past = [
        {
            "user": n,
            "opened": f"2026-03-0{d}T08:00:00Z",
            "pauses": [[f"2026-03-0{d}T12:00:00Z", f"2026-03-0{d}T12:30:00Z"]],
            "closed": f"2026-03-0{d}T17:00:00Z",
        }
        for n in range(1, users + 1)
        for d in range(2, 7)
    ]
    today = [day for n in range(1, users + 1) if (day := _today(n)) is not None]
    statuses = ("online", "dnd", "away", "break")
    return {
        "version": 1,
        "portals": [{
            "domain": "localhost",
            "plan": "enterprise",
            "departments": departments,
            "users": people,
            "workdays": past + today,
            "presence": [{"user": n, "status": statuses[n % 4]} for n in range(1, users + 1)],
        }],
    }  # fmt: skip


_TIMING = re.compile(r"(\w+);dur=([\d.]+)")


def _server_ms(answer: httpx.Response) -> float:
    answer.raise_for_status()
    return sum(float(ms) for _, ms in _TIMING.findall(answer.headers["server-timing"]))


def _log_in(http: httpx.Client, login: str) -> None:
    http.cookies.clear()
    page = http.get("/login").text
    token = page.partition('name="csrf_token" value="')[2].split('"')[0]
    answer = http.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 303:
        raise SystemExit(f"board: log-in as {login} refused ({answer.status_code})")


def measure(db: databases.Database, users: int, rounds: int, workdir: Path) -> list[str]:
    seed = workdir / f"board-seed-{db.backend}.json"
    seed.write_text(json.dumps(seed_state(users)), encoding="utf-8")
    process, base = _serve(db, seed, workdir / f"board-{db.backend}.log")
    token = {"Authorization": f"Bearer {TOKEN}"}
    results: list[tuple[str, int, list[float], list[float]]] = []
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            http.post("/_b24local/clock", json={"now": NOW, "freeze": True}, headers=token)
            for who, login, path in (
                ("administrator", "1", "/team"),
                ("administrator", "1", "/team/live"),
                ("head of one team", "10", "/team"),
            ):
                _log_in(http, login)
                first = http.get(path)
                shown = first.text.count("<tr data-user=") or len(first.json()["rows"])
                trips, own = [], []
                for _ in range(rounds):
                    started = time.perf_counter()
                    answer = http.get(path)
                    trips.append((time.perf_counter() - started) * 1000)
                    own.append(_server_ms(answer))
                results.append((f"{path}, {who}", shown, trips, own))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    lines = [
        f"{db.backend}, {users:,} people ({users * 5:,} past days), {rounds} rounds",
        "",
        "| page | rows | round trip median / p95 / max (ms) | server median / p95 / max (ms) |",
        "| --- | --- | --- | --- |",
    ]
    for title, shown, trips, own in results:
        lines.append(
            f"| `{title}` | {shown:,} | {databases.spread(trips)} | {databases.spread(own)} |"
        )
    return lines


def main(*, pg_url: str | None, sqlite: bool, quick: bool, users: int = 1_000) -> None:
    rounds = 20 if quick else 100
    databases.each(
        "board",
        pg_url=pg_url,
        sqlite_too=sqlite,
        measure=lambda db, workdir: measure(db, users, rounds, workdir),
    )
