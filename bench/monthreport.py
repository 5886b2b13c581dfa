"""The report scenario: a month's report page and its exports over 100,000 stored
workday transitions.

1,000 users (the bulk seed's) and 100,000 transitions (25,000 closed days of four
transitions each, the latest yesterday: 25 days of everyone) are stored; a real
``b24local serve`` process is started on them, the administrator logs in at
``/login``, and the 31 days up to yesterday are asked for as the page, the CSV
and the XLSX, each timed from the client over rounds on a kept-alive connection
(localhost: the round trip is the server's time plus well under a millisecond).
The target: the page under 500 ms.

``python -m bench --only report [--pg URL] [--no-sqlite] [--quick]``: no wrk needed.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from b24local import admin
from b24local.store.engine import Store

from . import databases, seed, server

USERS = 1_000
TRANSITIONS = 100_000
PASSWORD = "bench report"


async def _fill(url: str) -> int:
    store: Store = await admin.open_store(url)
    try:
        seeded = seed.Seeded()
        await seed.base(store, seeded)
        await seed.add_users(store, seeded, USERS)
        await seed.add_transitions(store, seeded, TRANSITIONS)
        await admin.set_password(store, 1, PASSWORD)
        await seed.analyze(store)
        return seeded.transitions
    finally:
        await store.close()


def _token(html: str) -> str:
    return html.partition('name="csrf_token" value="')[2].split('"')[0]


def measure(db: databases.Database, rounds: int, workdir: Path) -> list[str]:
    print(f"report: {db.backend}, seeding {USERS:,} users, {TRANSITIONS:,} transitions", flush=True)
    stored = asyncio.run(_fill(db.url))
    running = server.start_b24local(
        db.data_dir, db.server_url, workdir / f"report-{db.backend}.log"
    )
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    span = {
        "period": "range",
        "from": (yesterday - timedelta(days=30)).isoformat(),
        "to": yesterday.isoformat(),
    }
    timings: dict[str, list[float]] = {"/reports": [], "/reports.csv": [], "/reports.xlsx": []}
    sizes: dict[str, int] = {}
    try:
        with httpx.Client(base_url=running.base, timeout=60) as http:
            page = http.get("/login")
            answer = http.post(
                "/login", data={"login": "1", "password": PASSWORD, "csrf_token": _token(page.text)}
            )
            if answer.status_code != 303:
                raise SystemExit(f"log-in refused: {answer.status_code}")
            for path in timings:
                for n in range(rounds + 1):
                    started = time.perf_counter()
                    got = http.get(path, params=span)
                    elapsed = (time.perf_counter() - started) * 1000
                    if got.status_code != 200:
                        raise SystemExit(f"{path}: {got.status_code} {got.text[:300]}")
                    if n:  # the first round warms the caches up
                        timings[path].append(elapsed)
                    sizes[path] = len(got.content)
    finally:
        running.process.terminate()
        running.process.wait(timeout=30)
    lines = [
        f"{db.backend}, {USERS:,} users, {stored:,} transitions "
        f"({stored // 4:,} days) in 31 days, {rounds} rounds",
        "",
        "| request | median / p95 / max (ms) | body |",
        "| --- | --- | --- |",
    ]
    for path, values in timings.items():
        lines.append(f"| {path} | {databases.spread(values, 0)} | {sizes[path] / 1024:,.0f} KiB |")
    return lines


def main(*, pg_url: str | None, sqlite: bool, quick: bool) -> None:
    rounds = 5 if quick else 20
    databases.each(
        "report",
        pg_url=pg_url,
        sqlite_too=sqlite,
        measure=lambda db, workdir: measure(db, rounds, workdir),
    )
