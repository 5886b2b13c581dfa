"""What keeping the limits costs a call: the read path and a batch of 50 with the
limits on, kept in the server's memory and then in Redis (``serve --redis``),
compared by the server's CPU per call and by req/s (``--only limits --redis URL``).

The bucket and the operating-time limit are set far out of reach, so every call
is admitted and recorded, and none refused: what is measured is the bookkeeping.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import redis

from . import report, scenarios, seed, server
from .databases import Database
from .scenarios import Scenario

if TYPE_CHECKING:
    from .run import Runner

#: Out of reach: every call admitted and recorded.
UNREACHED = ["--limits", "on", "--rate-threshold", "1e12", "--operating-limit", "1e12"]
KEPT = ("memory", "redis")


def group(
    runner: Runner, db: Database, seeded: seed.Seeded, section: report.Section, redis_url: str
) -> None:
    prefix = f"b24bench:{secrets.token_hex(4)}:"
    try:
        for scenario in (scenarios.read(seeded), scenarios.batch(seeded)):
            for kept in KEPT:
                extra = ["--redis", redis_url, "--redis-prefix", prefix] if kept == "redis" else []
                log = runner.workdir / f"{db.backend}-{scenario.key}-limits-{kept}.log"
                keyed = Scenario(
                    f"{scenario.key}_limits_{kept}",
                    f"{scenario.title}, limits in {kept}",
                    scenario.calls,
                    scenario.lua,
                )
                start = _starter(db, log, [*UNREACHED, *extra])
                runner.measure(start, keyed, section, group="limits", note=f"limits in {kept}")
    finally:
        with redis.Redis.from_url(redis_url) as client:
            found = list(client.scan_iter(match=prefix + "*", count=500))
            if found:
                client.delete(*found)


def _starter(db: Database, log: Path, args: list[str]) -> Callable[[], server.Server]:
    return lambda: server.start_b24local(db.data_dir, db.server_url, log, args=args)


def targets(section: report.Section) -> list[report.Target]:
    found = []
    for key, name in (("read", "the read path"), ("batch", "a batch of 50")):
        memory, shared = (section.get(f"{key}_limits_{kept}", "limits") for kept in KEPT)
        if memory and shared and memory.cpu_us and memory.measured.rps:
            share = shared.measured.rps / memory.measured.rps
            text = (
                f"{shared.cpu_us:,.0f} vs {memory.cpu_us:,.0f} µs of server CPU per call; "
                f"{shared.measured.rps:,.0f} vs {memory.measured.rps:,.0f} req/s "
                f"({share:.0%})"
            )
            found.append(
                report.Target(f"limits in Redis keep ≥ 50% of {name}'s req/s", text, share >= 0.5)
            )
    return found
